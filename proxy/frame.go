package proxy

import (
	"bufio"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// WebSocket opcodes (RFC 6455 section 5.2).
const (
	opClose = 0x8
	opPing  = 0x9
	opPong  = 0xA
)

// Close codes (RFC 6455 section 7.4.1).
const (
	CloseNormal     = 1000
	CloseGoingAway  = 1001
	CloseNoStatus   = 1005
	CloseAbnormal   = 1006
	maxControlFrame = 125
)

// frameHeader is a parsed frame header and the bytes it was read from.
type frameHeader struct {
	fin    bool
	opcode byte
	masked bool
	mask   [4]byte
	length uint64
	raw    []byte
}

// readFrameHeader reads one frame header (RFC 6455 section 5.2).
func readFrameHeader(r *bufio.Reader) (frameHeader, error) {
	var h frameHeader
	b := make([]byte, 2, 14)
	if _, err := io.ReadFull(r, b); err != nil {
		return h, err
	}
	h.fin = b[0]&0x80 != 0
	h.opcode = b[0] & 0x0f
	h.masked = b[1]&0x80 != 0
	n := uint64(b[1] & 0x7f)
	switch n {
	case 126:
		ext := make([]byte, 2)
		if _, err := io.ReadFull(r, ext); err != nil {
			return h, err
		}
		b = append(b, ext...)
		n = uint64(binary.BigEndian.Uint16(ext))
	case 127:
		ext := make([]byte, 8)
		if _, err := io.ReadFull(r, ext); err != nil {
			return h, err
		}
		b = append(b, ext...)
		n = binary.BigEndian.Uint64(ext)
		if n>>63 != 0 {
			return h, errors.New("websocket: frame length has its most significant bit set")
		}
	}
	if h.opcode >= opClose && n > maxControlFrame {
		return h, fmt.Errorf("websocket: control frame of %d bytes (at most 125)", n)
	}
	if h.masked {
		if _, err := io.ReadFull(r, h.mask[:]); err != nil {
			return h, err
		}
		b = append(b, h.mask[:]...)
	}
	h.length = n
	h.raw = b
	return h, nil
}

// closeCode reads the status code from a close frame's payload, unmasking
// it when needed; a payload without one means 1005 (RFC 6455 section 7.1.5).
func closeCode(h frameHeader, payload []byte) int {
	if len(payload) < 2 {
		return CloseNoStatus
	}
	p := []byte{payload[0], payload[1]}
	if h.masked {
		p[0] ^= h.mask[0]
		p[1] ^= h.mask[1]
	}
	return int(binary.BigEndian.Uint16(p))
}

// closeFrame builds a close frame with code and reason. Frames a client
// sends must be masked (RFC 6455 section 5.3); a server's must not be.
func closeFrame(code int, reason string, masked bool) []byte {
	payload := binary.BigEndian.AppendUint16(nil, uint16(code))
	payload = append(payload, reason...)
	if len(payload) > maxControlFrame {
		payload = payload[:maxControlFrame]
	}
	f := []byte{0x80 | opClose, byte(len(payload))}
	if masked {
		var mask [4]byte
		_, _ = rand.Read(mask[:])
		f[1] |= 0x80
		f = append(f, mask[:]...)
		for i := range payload {
			payload[i] ^= mask[i%4]
		}
	}
	return append(f, payload...)
}
