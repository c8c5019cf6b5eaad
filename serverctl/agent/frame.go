package agent

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/remote"
)

// magic is the line the agent writes first; a new protocol gets a new
// number, so that this side refuses an agent it does not speak.
const magic = "socketbar-agent 1\n"

// maxPreamble bounds what may come before the magic line: words a login
// script printed.
const maxPreamble = 64 << 10

// maxFrame bounds one answer: a whole file (serverctl.MaxFileSize) or a
// command's output (maxOutput), and the fields around it.
const maxFrame = serverctl.MaxFileSize + 1<<20

// maxOutput bounds what Run keeps of a command's output.
const maxOutput = remote.DefaultMaxOutput

// maxFields bounds the fields of one answer (the names of a folder).
const maxFields = 1 << 18

// ProtocolError is an agent whose answer does not follow the protocol:
// garbage, a frame larger than any answer can be, an answer to another
// request. The agent is stopped; the request fails with it.
type ProtocolError struct {
	// Offset is the byte of the agent's output where the problem was seen.
	Offset  int64
	Problem string
}

func (e *ProtocolError) Error() string {
	return fmt.Sprintf("agent: the Server's answer does not follow the agent protocol (byte %d): %s", e.Offset, e.Problem)
}

// encode makes a frame of fields.
func encode(fields ...[]byte) []byte {
	n := 4
	for _, f := range fields {
		n += 4 + len(f)
	}
	b := make([]byte, 4, n)
	binary.BigEndian.PutUint32(b, uint32(n-4))
	for _, f := range fields {
		b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	return b
}

// frameReader reads the agent's output: the preamble, then frames, each
// at most maxFrame bytes, so that what the Server sends costs at most one
// frame of memory.
type frameReader struct {
	r   *bufio.Reader
	off int64
}

func newFrameReader(r io.Reader) *frameReader {
	return &frameReader{r: bufio.NewReaderSize(r, 64<<10)}
}

func (f *frameReader) protoErr(format string, args ...any) error {
	return &ProtocolError{Offset: f.off, Problem: fmt.Sprintf(format, args...)}
}

// readErr turns a failed read into the error to report: the end of the
// stream is io.EOF when it falls between frames, else a ProtocolError.
func (f *frameReader) readErr(err error, where string) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return f.protoErr("the stream ends inside %s", where)
	}
	return fmt.Errorf("agent: read the Server's answer: %w", err)
}

// start skips the lines before the magic line, at most maxPreamble bytes.
func (f *frameReader) start() error {
	var line []byte
	for {
		c, err := f.r.ReadByte()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return io.EOF // the agent never started: the caller says why
			}
			return f.readErr(err, "the first line")
		}
		f.off++
		if f.off > maxPreamble+int64(len(magic)) {
			return f.protoErr("no %q line in the first %d bytes", magic[:len(magic)-1], maxPreamble)
		}
		line = append(line, c)
		if len(line) > len(magic) {
			line = line[len(line)-len(magic):]
		}
		if string(line) == magic {
			return nil
		}
		if c == '\n' {
			line = line[:0]
		}
	}
}

// next reads one frame and returns its fields. io.EOF means the stream
// ended cleanly between frames.
func (f *frameReader) next() ([][]byte, error) {
	var hdr [4]byte
	n, err := io.ReadFull(f.r, hdr[:])
	f.off += int64(n)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		return nil, f.readErr(err, "a frame's length")
	}
	size := binary.BigEndian.Uint32(hdr[:])
	if size > maxFrame {
		return nil, f.protoErr("a frame of %d bytes (at most %d)", size, maxFrame)
	}
	buf := make([]byte, size)
	n, err = io.ReadFull(f.r, buf)
	f.off += int64(n)
	if err != nil {
		return nil, f.readErr(err, "a frame")
	}
	fields, err := decode(buf)
	if err != nil {
		return nil, f.protoErr("%v", err)
	}
	return fields, nil
}

// decode splits a frame's payload into its fields.
func decode(b []byte) ([][]byte, error) {
	var fields [][]byte
	for len(b) > 0 {
		if len(b) < 4 {
			return nil, errors.New("a field's length is cut short")
		}
		n := binary.BigEndian.Uint32(b)
		b = b[4:]
		if uint64(n) > uint64(len(b)) {
			return nil, fmt.Errorf("a field of %d bytes in a frame of %d left", n, len(b))
		}
		if len(fields) >= maxFields {
			return nil, fmt.Errorf("more than %d fields", maxFields)
		}
		fields = append(fields, b[:n:n])
		b = b[n:]
	}
	return fields, nil
}
