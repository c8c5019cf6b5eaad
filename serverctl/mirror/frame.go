package mirror

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// magic is the first line of every fetch stream; a new format gets a new
// number, so an old reader refuses it instead of misreading it.
const magic = "socketbar-mirror 1\n"

// maxHeader bounds a record's header line: seven short fields.
const maxHeader = 128

// maxErrText bounds the reason an unreadable path comes with.
const maxErrText = 1000

// Kind says what a record (and a mirrored path) is.
type Kind byte

// The kinds of records, as fetch.pl writes them.
const (
	// KindFile is a regular file, with its whole content.
	KindFile Kind = 'f'
	// KindTail is a regular file of which only the end was fetched (the
	// error log): Size is the whole file's, the mirror holds the end.
	KindTail Kind = 't'
	// KindExists is a regular file whose content was not fetched, only
	// that it exists and its mode (httpd, the module files): the mirror
	// holds an empty placeholder.
	KindExists Kind = 'e'
	// KindTooLarge is a regular file over Limits.FileSize: its content was
	// not fetched. The mirror holds a sparse file just over the limit, so
	// that the readers refuse it as too large, as they would on the Server.
	KindTooLarge Kind = 'b'
	// KindDir is a folder.
	KindDir Kind = 'd'
	// KindOther is a FIFO, socket or device: recorded, not mirrored.
	KindOther Kind = 'o'
	// KindMissing is a path asked for that does not exist (or a symlink
	// that points nowhere).
	KindMissing Kind = 'n'
	// KindUnreadable is a path the Server's account could not read; Err
	// says why. Not mirrored.
	KindUnreadable Kind = 'x'
)

func (k Kind) String() string {
	switch k {
	case KindFile:
		return "file"
	case KindTail:
		return "file tail"
	case KindExists:
		return "file (existence only)"
	case KindTooLarge:
		return "file too large"
	case KindDir:
		return "folder"
	case KindOther:
		return "special file"
	case KindMissing:
		return "missing"
	case KindUnreadable:
		return "unreadable"
	}
	return fmt.Sprintf("kind %q", byte(k))
}

// record is one path of a fetch stream.
type record struct {
	Kind    Kind
	Perm    uint32 // permission bits as the Server's stat gives them (07777)
	Size    int64
	ModTime time.Time
	Path    string // the Mac path
	Link    string // the symlink's target, when Path is one
	Data    []byte
}

// FrameError is a fetch stream that does not follow the format: garbage
// from the Server, or a stream cut short. Nothing of that fetch is kept.
type FrameError struct {
	// Offset is the byte of the stream where the problem was seen.
	Offset int64
	// Record counts the records read before (1-based: the record at fault).
	Record  int
	Problem string
	// Stderr is the end of what the remote side printed on standard
	// error, which often says why (no perl, a perl too old).
	Stderr string
}

func (e *FrameError) Error() string {
	msg := fmt.Sprintf("mirror: the Server's answer is not a mirror stream (record %d, byte %d): %s", e.Record, e.Offset, e.Problem)
	if e.Stderr != "" {
		msg += "; it said: " + e.Stderr
	}
	return msg
}

// LimitError is a fetch that went past one of its Limits. Nothing of that
// fetch is kept.
type LimitError struct {
	// Limit names the field of Limits ("Files", "FileSize", "Total", "Path").
	Limit string
	Max   int64
	// Path is the record that went past it, when one did.
	Path string
}

func (e *LimitError) Error() string {
	where := ""
	if e.Path != "" {
		where = fmt.Sprintf(" at %q", e.Path)
	}
	return fmt.Sprintf("mirror: the Server sent more than Limits.%s allows (%d)%s; nothing was kept", e.Limit, e.Max, where)
}

// RefusedPathError is a record whose path the mirror will not write: not
// absolute and clean, outside what was asked for, or in the way of what
// was already written. Nothing of that fetch is kept.
type RefusedPathError struct {
	Path   string
	Reason string
}

func (e *RefusedPathError) Error() string {
	return fmt.Sprintf("mirror: refused the path %q from the Server: %s; nothing was kept", e.Path, e.Reason)
}

// countingReader counts bytes and fails past max, so that a Server that
// sends without end costs at most max bytes.
type countingReader struct {
	r   io.Reader
	n   int64
	max int64
}

var errTotal = errors.New("total")

func (c *countingReader) Read(p []byte) (int, error) {
	if c.n > c.max {
		return 0, errTotal
	}
	if rest := c.max + 1 - c.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.max {
		return n, errTotal
	}
	return n, err
}

// frameReader reads records from a fetch stream, holding at most one
// record's data in memory.
type frameReader struct {
	cr         *countingReader
	r          *bufio.Reader
	lim        Limits
	maxRecords int
	records    int
	ended      bool
}

// newFrameReader reads a stream of at most maxBytes bytes and maxRecords
// records: what is left of Limits.Total and Limits.Files after the rounds
// before.
func newFrameReader(r io.Reader, lim Limits, maxBytes int64, maxRecords int) *frameReader {
	cr := &countingReader{r: r, max: maxBytes}
	return &frameReader{cr: cr, r: bufio.NewReaderSize(cr, 64<<10), lim: lim, maxRecords: maxRecords}
}

// offset is how far the reader got, as the stream's byte count.
func (f *frameReader) offset() int64 { return f.cr.n - int64(f.r.Buffered()) }

func (f *frameReader) frameErr(problem string, args ...any) error {
	return &FrameError{Offset: f.offset(), Record: f.records + 1, Problem: fmt.Sprintf(problem, args...)}
}

// readErr turns a read failure into the error to report.
func (f *frameReader) readErr(err error, what string) error {
	switch {
	case errors.Is(err, errTotal):
		return &LimitError{Limit: "Total", Max: f.lim.Total}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return f.frameErr("the stream ends inside %s (cut short)", what)
	}
	return fmt.Errorf("mirror: read the Server's answer: %w", err)
}

// line reads one header line of at most maxHeader bytes, without its "\n".
func (f *frameReader) line(what string) (string, error) {
	var b []byte
	for {
		c, err := f.r.ReadByte()
		if err != nil {
			if errors.Is(err, io.EOF) && len(b) == 0 && what == "the first line" {
				return "", f.frameErr("the stream is empty")
			}
			return "", f.readErr(err, what)
		}
		if c == '\n' {
			return string(b), nil
		}
		if len(b) >= maxHeader {
			return "", f.frameErr("%s is longer than %d bytes", what, maxHeader)
		}
		b = append(b, c)
	}
}

// start reads the stream's first line.
func (f *frameReader) start() error {
	l, err := f.line("the first line")
	if err != nil {
		return err
	}
	if l+"\n" != magic {
		return f.frameErr("it starts with %q, not %q", l, strings.TrimSpace(magic))
	}
	return nil
}

var (
	decimal = regexp.MustCompile(`^(0|[1-9][0-9]{0,18})$`)
	octal   = regexp.MustCompile(`^[0-7]{1,4}$`)
	mtimeRe = regexp.MustCompile(`^(-?)(0|[1-9][0-9]{0,11})(?:\.([0-9]{1,9}))?$`)
	endRe   = regexp.MustCompile(`^end (0|[1-9][0-9]{0,9})$`)
)

// next returns the next record, or io.EOF after the closing line, once the
// stream has ended there.
func (f *frameReader) next() (*record, error) {
	if f.ended {
		return nil, io.EOF
	}
	l, err := f.line("a record's header")
	if err != nil {
		return nil, err
	}
	if m := endRe.FindStringSubmatch(l); m != nil {
		if n, _ := strconv.Atoi(m[1]); n != f.records {
			return nil, f.frameErr("it ends saying %d records, but %d came", n, f.records)
		}
		if _, err := f.r.ReadByte(); err == nil {
			return nil, f.frameErr("bytes follow the closing line")
		} else if !errors.Is(err, io.EOF) {
			return nil, f.readErr(err, "the end")
		}
		f.ended = true
		return nil, io.EOF
	}
	rec, pathLen, linkLen, dataLen, err := f.header(l)
	if err != nil {
		return nil, err
	}
	if f.records >= f.maxRecords {
		return nil, &LimitError{Limit: "Files", Max: int64(f.lim.Files)}
	}
	buf := make([]byte, pathLen+linkLen)
	if _, err := io.ReadFull(f.r, buf); err != nil {
		return nil, f.readErr(err, "a record's path")
	}
	rec.Path, rec.Link = string(buf[:pathLen]), string(buf[pathLen:])
	if err := checkPath(rec.Path); err != nil {
		return nil, err
	}
	if strings.IndexByte(rec.Link, 0) >= 0 {
		return nil, &RefusedPathError{Path: rec.Path, Reason: "its link target holds a NUL byte"}
	}
	if dataLen > f.lim.FileSize && rec.Kind != KindUnreadable {
		return nil, &LimitError{Limit: "FileSize", Max: f.lim.FileSize, Path: rec.Path}
	}
	rec.Data = make([]byte, dataLen)
	if _, err := io.ReadFull(f.r, rec.Data); err != nil {
		return nil, f.readErr(err, "a record's data")
	}
	f.records++
	return rec, nil
}

// header parses "KIND PERM SIZE MTIME PATHLEN LINKLEN DATALEN".
func (f *frameReader) header(l string) (rec *record, pathLen, linkLen int, dataLen int64, err error) {
	w := strings.Split(l, " ")
	if len(w) != 7 {
		return nil, 0, 0, 0, f.frameErr("a header has %d fields, not 7: %q", len(w), l)
	}
	if len(w[0]) != 1 || !strings.Contains("ftebdonx", w[0]) {
		return nil, 0, 0, 0, f.frameErr("unknown kind %q", w[0])
	}
	rec = &record{Kind: Kind(w[0][0])}
	if !octal.MatchString(w[1]) {
		return nil, 0, 0, 0, f.frameErr("mode %q is not 1 to 4 octal digits", w[1])
	}
	perm, _ := strconv.ParseUint(w[1], 8, 32)
	rec.Perm = uint32(perm)
	nums := make([]int64, 4)
	for i, s := range []string{w[2], w[4], w[5], w[6]} {
		if !decimal.MatchString(s) {
			return nil, 0, 0, 0, f.frameErr("%q is not a decimal count", s)
		}
		nums[i], _ = strconv.ParseInt(s, 10, 64)
	}
	rec.Size = nums[0]
	m := mtimeRe.FindStringSubmatch(w[3])
	if m == nil {
		return nil, 0, 0, 0, f.frameErr("modification time %q is not seconds[.fraction]", w[3])
	}
	sec, _ := strconv.ParseInt(m[2], 10, 64)
	frac := (m[3] + "000000000")[:9]
	nsec, _ := strconv.ParseInt(frac, 10, 64)
	if m[1] == "-" {
		sec, nsec = -sec, -nsec
	}
	rec.ModTime = time.Unix(sec, nsec)
	lim := int64(f.lim.Path)
	if nums[1] == 0 || nums[1] > lim {
		if nums[1] > lim {
			return nil, 0, 0, 0, &LimitError{Limit: "Path", Max: lim}
		}
		return nil, 0, 0, 0, f.frameErr("a record without a path")
	}
	if nums[2] > lim {
		return nil, 0, 0, 0, &LimitError{Limit: "Path", Max: lim}
	}
	dataLen = nums[3]
	switch rec.Kind {
	case KindFile:
		if dataLen != rec.Size {
			return nil, 0, 0, 0, f.frameErr("a file of %d bytes comes with %d", rec.Size, dataLen)
		}
	case KindTail:
		if dataLen > rec.Size || dataLen > f.lim.Tail {
			return nil, 0, 0, 0, f.frameErr("a tail of %d bytes of a file of %d (tails are at most %d)", dataLen, rec.Size, f.lim.Tail)
		}
	case KindUnreadable:
		if dataLen > maxErrText {
			return nil, 0, 0, 0, f.frameErr("a reason of %d bytes (at most %d)", dataLen, maxErrText)
		}
	default:
		if dataLen != 0 {
			return nil, 0, 0, 0, f.frameErr("a %s record carries %d bytes of data", rec.Kind, dataLen)
		}
	}
	return rec, int(nums[1]), int(nums[2]), dataLen, nil
}

// checkPath refuses a path that is not absolute and clean, so that joined
// to the mirror folder it stays inside: no "..", no ".", no "//", no
// trailing "/", no NUL.
func checkPath(p string) error {
	switch {
	case strings.IndexByte(p, 0) >= 0:
		return &RefusedPathError{Path: p, Reason: "it holds a NUL byte"}
	case !strings.HasPrefix(p, "/"):
		return &RefusedPathError{Path: p, Reason: "it is not absolute"}
	case path.Clean(p) != p:
		return &RefusedPathError{Path: p, Reason: `it is not clean (".", "..", "//" or a trailing "/")`}
	}
	for _, seg := range strings.Split(p[1:], "/") {
		if len(seg) > 255 {
			return &RefusedPathError{Path: p, Reason: "a name in it is longer than 255 bytes"}
		}
	}
	return nil
}

// mode turns the Server's permission bits into a FileMode of kind k.
func (r *record) mode() fs.FileMode {
	m := fs.FileMode(r.Perm & 0o777)
	if r.Perm&0o4000 != 0 {
		m |= fs.ModeSetuid
	}
	if r.Perm&0o2000 != 0 {
		m |= fs.ModeSetgid
	}
	if r.Perm&0o1000 != 0 {
		m |= fs.ModeSticky
	}
	if r.Kind == KindDir {
		m |= fs.ModeDir
	}
	return m
}

// errText is an unreadable record's reason, with control characters shown
// rather than sent on to a terminal.
func (r *record) errText() string {
	return strings.Map(func(c rune) rune {
		if c < 0x20 || c == 0x7f {
			return '?'
		}
		return c
	}, string(bytes.ToValidUTF8(r.Data, []byte("?"))))
}
