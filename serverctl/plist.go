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
	if len(data) < 8+32 {
		return nil
	}
	tr := data[len(data)-32:]
	offSize, refSize := int(tr[6]), int(tr[7])
	numObjects := binary.BigEndian.Uint64(tr[8:16])
	top := binary.BigEndian.Uint64(tr[16:24])
	tableAt := binary.BigEndian.Uint64(tr[24:32])
	if offSize < 1 || offSize > 8 || refSize < 1 || refSize > 8 || numObjects > uint64(len(data)) ||
		tableAt > uint64(len(data)) || numObjects*uint64(offSize) > uint64(len(data))-tableAt || top >= numObjects {
		return nil // damaged: the decoder says how
	}
	uint := func(b []byte) uint64 {
		var v uint64
		for _, c := range b {
			v = v<<8 | uint64(c)
		}
		return v
	}
	offset := func(obj uint64) (int, bool) {
		at := tableAt + obj*uint64(offSize)
		o := uint(data[at : at+uint64(offSize)])
		return int(o), o < uint64(len(data))
	}
	// children returns the objects a container refers to.
	children := func(obj uint64) ([]uint64, error) {
		at, ok := offset(obj)
		if !ok {
			return nil, nil
		}
		marker := data[at]
		kind := marker >> 4
		if kind != 0xA && kind != 0xC && kind != 0xD {
			return nil, nil
		}
		count, p := uint64(marker&0x0F), at+1
		if count == 0x0F { // the count follows as an int object
			if p >= len(data) || data[p]>>4 != 0x1 {
				return nil, nil
			}
			n := 1 << (data[p] & 0x0F)
			if n > 8 || p+1+n > len(data) {
				return nil, nil
			}
			count, p = uint(data[p+1:p+1+n]), p+1+n
		}
		if kind == 0xD {
			count *= 2
		}
		if count > uint64(len(data)) || uint64(p)+count*uint64(refSize) > uint64(len(data)) {
			return nil, nil
		}
		refs := make([]uint64, 0, count)
		for i := uint64(0); i < count; i++ {
			r := uint(data[uint64(p)+i*uint64(refSize) : uint64(p)+(i+1)*uint64(refSize)])
			if r >= numObjects {
				return nil, nil
			}
			refs = append(refs, r)
		}
		return refs, nil
	}
	type item struct {
		obj   uint64
		depth int
	}
	stack := []item{{top, 0}}
	for visits := 0; len(stack) > 0; visits++ {
		if visits > maxPlistVisits {
			return errors.New("plist has too many shared objects to read safely")
		}
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		refs, err := children(it.obj)
		if err != nil {
			return err
		}
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
