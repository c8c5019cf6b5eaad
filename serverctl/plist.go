package serverctl

import (
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"unicode/utf8"

	"howett.net/plist"
)

// xmlEncodingDecl matches the encoding in an XML declaration.
var xmlEncodingDecl = regexp.MustCompile(`^(<\?xml[^>]*encoding=["'])([^"']+)(["'])`)

// readPlist decodes the XML or binary property list at path into v.
//
// Some of Apple's webapp plists declare encoding="UTF-7", which Go's XML
// reader refuses. Their bytes are plain ASCII, so when the body is valid
// UTF-8 the declaration is ignored and the file is read anyway; the returned
// note says so. Any other failure is returned with the reason.
//
// Only regular files up to MaxFileSize are read, and a plist nested deeper
// than maxPlistDepth is refused before decoding: the decoder recurses per
// level, so a hostile file could otherwise take seconds per thousand levels
// and gigabytes of memory.
func readPlist(path string, v any) (note string, err error) {
	data, err := readFile(path, false)
	if err != nil {
		return "", err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return "", fmt.Errorf("file is empty")
	}
	if err := checkPlistDepth(data); err != nil {
		return "", err
	}
	_, err = plist.Unmarshal(data, v)
	if err == nil {
		return "", nil
	}
	m := xmlEncodingDecl.FindSubmatchIndex(data)
	if m == nil || !utf8.Valid(data) {
		return "", describePlistError(data, err)
	}
	declared := string(data[m[4]:m[5]])
	fixed := append(append(append([]byte{}, data[:m[4]]...), "UTF-8"...), data[m[5]:]...)
	if _, err2 := plist.Unmarshal(fixed, v); err2 != nil {
		return "", describePlistError(data, err2)
	}
	return fmt.Sprintf("declares encoding %q but is plain UTF-8; read as UTF-8", declared), nil
}

func describePlistError(data []byte, err error) error {
	switch {
	case bytes.HasPrefix(data, []byte("bplist")):
		return fmt.Errorf("damaged binary plist: %w", err)
	case bytes.Contains(data, []byte("<plist")) && !bytes.Contains(data, []byte("</plist>")):
		return fmt.Errorf("truncated XML plist (no closing </plist>): %w", err)
	}
	return fmt.Errorf("not a readable plist: %w", err)
}

// maxPlistDepth is how deeply arrays and dictionaries may nest in a plist
// Socketbar reads; Apple's go three or four levels deep.
const maxPlistDepth = 64

// maxPlistVisits bounds the work of walking a binary plist, whose objects
// may be shared (a DAG) and so be reached many times.
const maxPlistVisits = 1 << 20

// errPlistTooDeep is checkPlistDepth's refusal.
var errPlistTooDeep = fmt.Errorf("plist nests arrays or dictionaries more than %d levels deep", maxPlistDepth)

// checkPlistDepth refuses a binary or XML plist nested deeper than
// maxPlistDepth, without decoding it. Other formats (and damaged files) are
// left to the decoder, which reports them.
func checkPlistDepth(data []byte) error {
	if bytes.HasPrefix(data, []byte("bplist00")) {
		return checkBinaryPlistDepth(data)
	}
	if bytes.Contains(data[:min(len(data), 1024)], []byte("<plist")) || bytes.HasPrefix(bytes.TrimSpace(data), []byte("<?xml")) {
		return checkXMLPlistDepth(data)
	}
	return nil
}

// checkXMLPlistDepth streams the XML tokens and counts open <array> and
// <dict> elements.
func checkXMLPlistDepth(data []byte) error {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = false
	// The declared encoding does not matter for counting tags (some of
	// Apple's files claim UTF-7 and are ASCII).
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	depth := 0
	for {
		tok, err := d.RawToken()
		if err != nil {
			return nil // end of input, or damage the decoder will report
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local == "array" || t.Name.Local == "dict" {
				if depth++; depth > maxPlistDepth {
					return errPlistTooDeep
				}
			}
		case xml.EndElement:
			if t.Name.Local == "array" || t.Name.Local == "dict" {
				depth--
			}
		}
	}
}

// checkBinaryPlistDepth walks the object graph of a binary plist from its
// top object (format: CoreFoundation's CFBinaryPList.c: a 32-byte trailer
// with the offset table's position and the object reference size; arrays,
// sets and dictionaries hold references to other objects).
func checkBinaryPlistDepth(data []byte) error {
	b, ok := readBplistTrailer(data)
	if !ok {
		return nil // damaged: the decoder says how
	}
	type item struct {
		obj   uint64
		depth int
	}
	stack := []item{{b.top, 0}}
	for visits := 0; len(stack) > 0; visits++ {
		if visits > maxPlistVisits {
			return errors.New("plist has too many shared objects to read safely")
		}
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		refs := b.children(it.obj)
		if len(refs) == 0 {
			continue
		}
		if it.depth+1 > maxPlistDepth {
			return errPlistTooDeep
		}
		for _, r := range refs {
			stack = append(stack, item{r, it.depth + 1})
		}
	}
	return nil
}

// bplist is a binary plist's object table, as its trailer describes it.
type bplist struct {
	data             []byte
	offSize, refSize int
	numObjects, top  uint64
	tableAt          uint64
}

// readBplistTrailer reads the trailer of a binary plist; false when it
// is damaged.
func readBplistTrailer(data []byte) (*bplist, bool) {
	if len(data) < 8+32 {
		return nil, false
	}
	tr := data[len(data)-32:]
	b := &bplist{data: data, offSize: int(tr[6]), refSize: int(tr[7]),
		numObjects: binary.BigEndian.Uint64(tr[8:16]), top: binary.BigEndian.Uint64(tr[16:24]), tableAt: binary.BigEndian.Uint64(tr[24:32])}
	n := uint64(len(data))
	if b.offSize < 1 || b.offSize > 8 || b.refSize < 1 || b.refSize > 8 || b.numObjects > n ||
		b.tableAt > n || b.numObjects*uint64(b.offSize) > n-b.tableAt || b.top >= b.numObjects {
		return nil, false
	}
	return b, true
}

// beUint reads a big-endian unsigned integer of len(p) bytes.
func beUint(p []byte) uint64 {
	var v uint64
	for _, c := range p {
		v = v<<8 | uint64(c)
	}
	return v
}

// offset is where object obj starts.
func (b *bplist) offset(obj uint64) (int, bool) {
	at := b.tableAt + obj*uint64(b.offSize)
	o := beUint(b.data[at : at+uint64(b.offSize)])
	return int(o), o < uint64(len(b.data))
}

// children returns the objects that obj, an array, set or dictionary,
// refers to; none for any other object or a damaged one.
func (b *bplist) children(obj uint64) []uint64 {
	data := b.data
	at, ok := b.offset(obj)
	if !ok {
		return nil
	}
	marker := data[at]
	kind := marker >> 4
	if kind != 0xA && kind != 0xC && kind != 0xD {
		return nil
	}
	count, p := uint64(marker&0x0F), at+1
	if count == 0x0F { // the count follows as an int object
		if p >= len(data) || data[p]>>4 != 0x1 {
			return nil
		}
		n := 1 << (data[p] & 0x0F)
		if n > 8 || p+1+n > len(data) {
			return nil
		}
		count, p = beUint(data[p+1:p+1+n]), p+1+n
	}
	if kind == 0xD {
		count *= 2
	}
	size := uint64(b.refSize)
	if count > uint64(len(data)) || uint64(p)+count*size > uint64(len(data)) {
		return nil
	}
	refs := make([]uint64, 0, count)
	for i := uint64(0); i < count; i++ {
		r := beUint(data[uint64(p)+i*size : uint64(p)+(i+1)*size])
		if r >= b.numObjects {
			return nil
		}
		refs = append(refs, r)
	}
	return refs
}
