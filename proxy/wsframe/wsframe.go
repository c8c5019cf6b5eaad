package wsframe

import (
	"bufio"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Opcodes (RFC 6455 section 5.2).
const (
	OpText   = 0x1
	OpBinary = 0x2
	OpClose  = 0x8
	OpPing   = 0x9
	OpPong   = 0xA
)

// Close codes (RFC 6455 section 7.4.1).
const (
	CloseNormal    = 1000
	CloseGoingAway = 1001
	CloseNoStatus  = 1005
	CloseAbnormal  = 1006
	// MaxControlPayload is the largest payload of a control frame.
	MaxControlPayload = 125
)

// Errors a reader can tell apart from the connection's own: the peer broke
// RFC 6455 (ErrProtocol, close code 1002), or sent a frame over the
// reader's limit (ErrTooBig, close code 1009).
var (
	ErrProtocol = errors.New("websocket: protocol error")
	ErrTooBig   = errors.New("websocket: frame too big")
)

// Close codes for the errors above (RFC 6455 section 7.4.1).
const (
	CloseProtocolError = 1002
	CloseTooBig        = 1009
)

// Header is a parsed frame header and the bytes it was read from.
type Header struct {
	// Rsv holds the RSV1-3 bits (0x70 of the first byte); extensions such
	// as permessage-deflate give them a meaning, otherwise they must be 0.
	Rsv    byte
	Fin    bool
	Opcode byte
	Masked bool
	Mask   [4]byte
	Length uint64
	// Raw is the header exactly as read, for relaying it unchanged.
	Raw []byte
}

// ParseHeader parses a frame header at the start of b without copying. ok
// is false when b does not hold a whole header yet; n is the header's length.
func ParseHeader(b []byte) (h Header, n int, ok bool, err error) {
	if len(b) < 2 {
		return h, 0, false, nil
	}
	h.Fin = b[0]&0x80 != 0
	h.Rsv = b[0] & 0x70
	h.Opcode = b[0] & 0x0f
	h.Masked = b[1]&0x80 != 0
	n = 2
	length := uint64(b[1] & 0x7f)
	switch length {
	case 126:
		if len(b) < 4 {
			return h, 0, false, nil
		}
		length, n = uint64(binary.BigEndian.Uint16(b[2:4])), 4
	case 127:
		if len(b) < 10 {
			return h, 0, false, nil
		}
		length, n = binary.BigEndian.Uint64(b[2:10]), 10
		if length>>63 != 0 {
			return h, 0, false, fmt.Errorf("%w: frame length has its most significant bit set", ErrProtocol)
		}
	}
	if h.Opcode >= OpClose && length > MaxControlPayload {
		return h, 0, false, fmt.Errorf("%w: control frame of %d bytes (at most 125)", ErrProtocol, length)
	}
	if h.Masked {
		if len(b) < n+4 {
			return h, 0, false, nil
		}
		copy(h.Mask[:], b[n:n+4])
		n += 4
	}
	h.Length = length
	return h, n, true, nil
}

// ReadHeader reads one frame header.
func ReadHeader(r *bufio.Reader) (Header, error) {
	var h Header
	b := make([]byte, 2, 14)
	if _, err := io.ReadFull(r, b); err != nil {
		return h, err
	}
	h.Fin = b[0]&0x80 != 0
	h.Rsv = b[0] & 0x70
	h.Opcode = b[0] & 0x0f
	h.Masked = b[1]&0x80 != 0
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
			return h, fmt.Errorf("%w: frame length has its most significant bit set", ErrProtocol)
		}
	}
	if h.Opcode >= OpClose && n > MaxControlPayload {
		return h, fmt.Errorf("%w: control frame of %d bytes (at most 125)", ErrProtocol, n)
	}
	if h.Masked {
		if _, err := io.ReadFull(r, h.Mask[:]); err != nil {
			return h, err
		}
		b = append(b, h.Mask[:]...)
	}
	h.Length = n
	h.Raw = b
	return h, nil
}

// CloseCode reads the status code from a close frame's payload, unmasking
// it when needed; a payload without one means 1005 (RFC 6455 section 7.1.5).
func CloseCode(h Header, payload []byte) int {
	if len(payload) < 2 {
		return CloseNoStatus
	}
	p := []byte{payload[0], payload[1]}
	if h.Masked {
		p[0] ^= h.Mask[0]
		p[1] ^= h.Mask[1]
	}
	return int(binary.BigEndian.Uint16(p))
}

// CloseFrame builds a close frame with code and reason. Frames a client
// sends must be masked (RFC 6455 section 5.3); a server's must not be.
func CloseFrame(code int, reason string, masked bool) []byte {
	payload := binary.BigEndian.AppendUint16(nil, uint16(code))
	payload = append(payload, reason...)
	if len(payload) > MaxControlPayload {
		payload = payload[:MaxControlPayload]
	}
	return Frame(OpClose, payload, masked)
}

// Frame builds a single, final frame with payload.
func Frame(opcode byte, payload []byte, masked bool) []byte {
	f := []byte{0x80 | opcode}
	n := len(payload)
	maskBit := byte(0)
	if masked {
		maskBit = 0x80
	}
	switch {
	case n <= 125:
		f = append(f, maskBit|byte(n))
	case n <= 0xffff:
		f = append(f, maskBit|126)
		f = binary.BigEndian.AppendUint16(f, uint16(n))
	default:
		f = append(f, maskBit|127)
		f = binary.BigEndian.AppendUint64(f, uint64(n))
	}
	p := append([]byte(nil), payload...)
	if masked {
		var mask [4]byte
		_, _ = rand.Read(mask[:])
		f = append(f, mask[:]...)
		for i := range p {
			p[i] ^= mask[i%4]
		}
	}
	return append(f, p...)
}

// ReadFrame reads a whole frame and returns its header and unmasked payload,
// refusing payloads over limit bytes.
func ReadFrame(r *bufio.Reader, limit uint64) (Header, []byte, error) {
	h, err := ReadHeader(r)
	if err != nil {
		return h, nil, err
	}
	if h.Length > limit {
		return h, nil, fmt.Errorf("%w: a frame of %d bytes is over the %d-byte limit", ErrTooBig, h.Length, limit)
	}
	p := make([]byte, h.Length)
	if _, err := io.ReadFull(r, p); err != nil {
		return h, nil, err
	}
	if h.Masked {
		for i := range p {
			p[i] ^= h.Mask[i%4]
		}
	}
	return h, p, nil
}
