package wsframe

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"
)

func TestFrameRoundTrip(t *testing.T) {
	for _, n := range []int{0, 5, 125, 126, 65535, 65536} {
		for _, masked := range []bool{false, true} {
			payload := bytes.Repeat([]byte{'x'}, n)
			raw := Frame(OpBinary, payload, masked)
			h, got, err := ReadFrame(bufio.NewReader(bytes.NewReader(raw)), 1<<20)
			if err != nil || h.Opcode != OpBinary || !h.Fin || h.Masked != masked || !bytes.Equal(got, payload) {
				t.Errorf("n=%d masked=%v: %+v, %d bytes, %v", n, masked, h, len(got), err)
			}
			ph, hl, ok, err := ParseHeader(raw)
			if !ok || err != nil || ph.Length != uint64(n) || hl+n != len(raw) {
				t.Errorf("ParseHeader n=%d: %+v len %d ok %v err %v", n, ph, hl, ok, err)
			}
		}
	}
	h, p, err := ReadFrame(bufio.NewReader(bytes.NewReader(CloseFrame(CloseGoingAway, "bye", true))), 125)
	if err != nil || h.Opcode != OpClose || CloseCode(Header{}, p) != CloseGoingAway || string(p[2:]) != "bye" {
		t.Errorf("close frame: %+v %q %v", h, p, err)
	}
	if CloseCode(Header{}, nil) != CloseNoStatus {
		t.Error("a close frame without a code must read as 1005")
	}
}

// FuzzHeader checks that parsing a buffer and reading a stream agree on
// every input, and that neither panics.
func FuzzHeader(f *testing.F) {
	f.Add(Frame(OpText, []byte("hello"), true))
	f.Add(Frame(OpBinary, make([]byte, 300), false))
	f.Add(Frame(OpBinary, make([]byte, 70000), true)[:20])
	f.Add(CloseFrame(CloseNormal, "done", false))
	f.Add([]byte{0x89, 0xfe, 0, 200}) // a ping claiming 200 bytes
	f.Add([]byte{0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		ph, n, ok, perr := ParseHeader(b)
		rh, rerr := ReadHeader(bufio.NewReader(bytes.NewReader(b)))
		switch {
		case perr != nil:
			if rerr == nil {
				t.Fatalf("ParseHeader refused (%v), ReadHeader accepted %+v", perr, rh)
			}
		case !ok:
			if !errors.Is(rerr, io.ErrUnexpectedEOF) && !errors.Is(rerr, io.EOF) {
				t.Fatalf("ParseHeader wants more bytes, ReadHeader says %v", rerr)
			}
		default:
			if rerr != nil || rh.Length != ph.Length || rh.Opcode != ph.Opcode || rh.Rsv != ph.Rsv || rh.Masked != ph.Masked || rh.Mask != ph.Mask || len(rh.Raw) != n {
				t.Fatalf("disagree: parse %+v (%d bytes), read %+v %v", ph, n, rh, rerr)
			}
		}
	})
}

// TestErrorsAreTyped: a reader can tell a peer's protocol violation and an
// over-limit frame from a connection error.
func TestErrorsAreTyped(t *testing.T) {
	tests := []struct {
		name string
		raw  []byte
		want error
	}{
		{"ping claiming 200 bytes", []byte{0x89, 0x7e, 0, 200}, ErrProtocol},
		{"length with its top bit set", []byte{0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 1}, ErrProtocol},
		{"2^62 bytes", []byte{0x82, 0x7f, 0x40, 0, 0, 0, 0, 0, 0, 0}, ErrTooBig},
		{"cut short", []byte{0x82, 0x7f, 0}, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		_, _, err := ReadFrame(bufio.NewReader(bytes.NewReader(tt.raw)), 1<<20)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
		if tt.want != ErrProtocol {
			continue
		}
		if _, _, _, err := ParseHeader(tt.raw); !errors.Is(err, ErrProtocol) {
			t.Errorf("%s: ParseHeader: %v, want %v", tt.name, err, ErrProtocol)
		}
	}
	h, _, _, _ := ParseHeader([]byte{0xc1, 0})
	if h.Rsv != 0x40 {
		t.Errorf("Rsv = %#x, want 0x40", h.Rsv)
	}
}
