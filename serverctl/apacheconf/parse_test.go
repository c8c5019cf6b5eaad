package apacheconf

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// roundTripCases are inputs whose printed parse must equal the input. They
// also seed the fuzz test.
var roundTripCases = map[string]string{
	"empty":              "",
	"no final newline":   "Listen 80",
	"crlf":               "Listen 80\r\n<VirtualHost *:80>\r\n\tProxyPass / http://b/\r\n</VirtualHost>\r\n",
	"mixed endings":      "A 1\r\nB 2\nC 3",
	"trailing blanks":    "ProxyPass  /wiki\thttp://127.0.0.1:4000/wiki   \n\t \n",
	"continuation":       "RewriteCond %{HTTP:Upgrade} \\\n    websocket [NC]\n",
	"continuation crlf":  "Header set X \\\r\n  \"a b\"\r\n",
	"backslash at EOF":   "Foo bar\\\n",
	"comment":            "# a comment\n   #indented comment  \n",
	"comment continues":  "# comment \\\nstill the comment\n",
	"quotes":             "SSLCertificateFile \"/etc/certificates/${CERT_ID}.cert.pem\"\nHeader set X 'it\\'s'\n",
	"nested":             "<IfModule mod_ssl.c>\n<IfDefine PROXY_CALENDAR>\nListen 8443\n</IfDefine>\n</IfModule>\n",
	"if elseif":          "<If \"%{HTTP_HOST} == 'a'\">\n  Require all granted\n</If>\n<ElseIf \"-z %{HTTPS}\">\n</ElseIf>\n",
	"macro":              "<Macro VHost80 $a $b>\n<VirtualHost *:80>\nServerName $a\nProxyPass / http://127.0.0.1:34580/\n</VirtualHost>\n</Macro>\nUse VHost80 x y\n",
	"unknown directives": "FrobnicateWidget on off\n<Frob>\n</Frob>\n",
	"close with blanks":  "<Location /x>\n</Location >\n",
	"lone cr":            "A b\rC d\n",
	"angle directive":    "<notasection\n<>\n",
}

func TestRoundTrip(t *testing.T) {
	for name, src := range roundTripCases {
		t.Run(name, func(t *testing.T) {
			f, err := Parse([]byte(src))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := string(f.Bytes()); got != src {
				t.Fatalf("round trip changed the text:\n got %q\nwant %q", got, src)
			}
		})
	}
}

func TestRoundTripFixtures(t *testing.T) {
	files, _ := filepath.Glob("../testdata/servers/*/Library/Server/Web/Config/Proxy/*.conf")
	if len(files) == 0 {
		t.Fatal("no fixture configs found")
	}
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		f, err := Parse(src)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if !bytes.Equal(f.Bytes(), src) {
			t.Errorf("%s: round trip changed the file", path)
		}
	}
}

func TestStructure(t *testing.T) {
	src := "Listen 80\n<VirtualHost *:443>\n  <IfModule mod_ssl.c>\n    SSLEngine On\n  </IfModule>\n  ProxyPass \"/a b\" http://x/ retry=0\n  # note\n</VirtualHost>\n"
	f, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Nodes) != 2 {
		t.Fatalf("top level has %d nodes, want 2", len(f.Nodes))
	}
	vh := f.Nodes[1]
	if vh.Kind != Section || !vh.Is("virtualhost") || !slices.Equal(vh.Args, []string{"*:443"}) {
		t.Fatalf("vhost = %v %q %q", vh.Kind, vh.Name, vh.Args)
	}
	if vh.Line != 2 || vh.EndLine != 8 {
		t.Errorf("vhost lines = %d..%d, want 2..8", vh.Line, vh.EndLine)
	}
	if got := len(vh.Children); got != 3 {
		t.Fatalf("vhost has %d children, want 3", got)
	}
	ifm := vh.Children[0]
	if ifm.Parent != vh || ifm.Children[0].Name != "SSLEngine" || ifm.Children[0].Line != 4 {
		t.Errorf("IfModule child = %+v", ifm.Children[0])
	}
	pp := vh.Children[1]
	if !slices.Equal(pp.Args, []string{"/a b", "http://x/", "retry=0"}) || pp.Indent() != "  " {
		t.Errorf("ProxyPass args = %q indent %q", pp.Args, pp.Indent())
	}
	if c := vh.Children[2]; c.Kind != Comment || c.Text() != "note" {
		t.Errorf("comment = %v %q", c.Kind, c.Text())
	}
}

func TestContinuationJoinsArgsAndCountsLines(t *testing.T) {
	f, err := Parse([]byte("RewriteRule ^/x(.*)$ \\\n  ws://b/x$1 [P,L]\nNext 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Nodes[0].Args; !slices.Equal(got, []string{"^/x(.*)$", "ws://b/x$1", "[P,L]"}) {
		t.Errorf("args = %q", got)
	}
	if f.Nodes[1].Line != 3 {
		t.Errorf("line after continuation = %d, want 3", f.Nodes[1].Line)
	}
}

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{`a b  c`, []string{"a", "b", "c"}},
		{`"a b" c`, []string{"a b", "c"}},
		{`'a "b"' c`, []string{`a "b"`, "c"}},
		{`"a \"q\" \\ \x"`, []string{`a "q" \ \x`}},
		{`"unterminated`, []string{"unterminated"}},
		{"\ta\t", []string{"a"}},
		{``, nil},
	}
	for _, tt := range tests {
		if got := SplitArgs(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("SplitArgs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestUnbalancedSections(t *testing.T) {
	tests := []struct {
		src      string
		line     int
		contains string
	}{
		{"<VirtualHost *:80>\nListen 1\n", 1, "never closed"},
		{"Listen 1\n</VirtualHost>\n", 2, "without a matching"},
		{"<VirtualHost *:80>\n<IfModule x>\n</VirtualHost>\n", 3, "opened on line 2"},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.src))
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("Parse(%q) error = %v, want a ParseError", tt.src, err)
		}
		if pe.Line != tt.line || !strings.Contains(pe.Msg, tt.contains) {
			t.Errorf("Parse(%q) = line %d %q, want line %d containing %q", tt.src, pe.Line, pe.Msg, tt.line, tt.contains)
		}
	}
}

func TestEOL(t *testing.T) {
	for src, want := range map[string]string{"a\r\nb\r\nc\n": "\r\n", "a\nb\n": "\n", "a": "\n"} {
		f, err := Parse([]byte(src))
		if err != nil {
			t.Fatal(err)
		}
		if got := f.EOL(); got != want {
			t.Errorf("EOL(%q) = %q, want %q", src, got, want)
		}
	}
}

func TestInsertAndRemoveRestoreOriginal(t *testing.T) {
	src := "<VirtualHost *:80>\r\n\tProxyPass /a http://x/a\r\n\tProxyPass / http://y/\r\n</VirtualHost>"
	f, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	vh := f.Nodes[0]
	catchAll := vh.Children[1]
	lines, err := Lines("\t# begin\r\n\tProxyPass /ws ws://z/ws\r\n\t# end\r\n")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.InsertBefore(catchAll, lines); err != nil {
		t.Fatal(err)
	}
	want := "<VirtualHost *:80>\r\n\tProxyPass /a http://x/a\r\n\t# begin\r\n\tProxyPass /ws ws://z/ws\r\n\t# end\r\n\tProxyPass / http://y/\r\n</VirtualHost>"
	if got := string(f.Bytes()); got != want {
		t.Fatalf("after insert:\n%q\nwant\n%q", got, want)
	}
	if err := f.RemoveRun(lines[0], lines[2]); err != nil {
		t.Fatal(err)
	}
	if got := string(f.Bytes()); got != src {
		t.Fatalf("after remove:\n%q\nwant\n%q", got, src)
	}
	if _, err := Lines("<VirtualHost *:1>\n</VirtualHost>\n"); err == nil {
		t.Error("Lines accepted a section")
	}
}

// FuzzRoundTrip checks that parsing never panics and that printing a
// successful parse returns the input exactly.
func FuzzRoundTrip(f *testing.F) {
	for _, src := range roundTripCases {
		f.Add([]byte(src))
	}
	files, _ := filepath.Glob("../testdata/servers/*/Library/Server/Web/Config/*/*.conf")
	for _, path := range files {
		if src, err := os.ReadFile(path); err == nil {
			f.Add(src)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		parsed, err := Parse(src)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Line < 1 {
				t.Fatalf("error without a line: %v", err)
			}
			return
		}
		if got := parsed.Bytes(); !bytes.Equal(got, src) {
			t.Fatalf("round trip changed the text:\n got %q\nwant %q", got, src)
		}
	})
}
