package serverctl

import (
	"bytes"
	"fmt"
	"os"
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
func readPlist(path string, v any) (note string, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return "", fmt.Errorf("file is empty")
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
