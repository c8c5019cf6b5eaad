package serverctl

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzAddRemoveRoundTrip: for any config that parses and any route that
// AddRoute accepts, RemoveRoute of that route gives the input back byte for
// byte (lossless editing: only the block's own lines change).
func FuzzAddRemoveRoundTrip(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "servers", "*", "Library", "Server", "Web", "Config", "Proxy", "*.conf"))
	for _, p := range seeds {
		if src, err := os.ReadFile(p); err == nil {
			f.Add(src, "/ws/", "http://127.0.0.1:8000")
		}
	}
	for _, src := range []string{
		"<VirtualHost *:443>\n</VirtualHost>\n",
		"<VirtualHost *:443>\r\n\tProxyPass / http://127.0.0.1:34543/\r\n</VirtualHost>\r\n",
		"<VirtualHost *:80>\n  ProxyPass / http://b/\n</VirtualHost>",
		"<VirtualHost *:80>\n# comment\nProxyPass / http://b/\n</VirtualHost>\n<VirtualHost *:443>\nSSLEngine On\n</VirtualHost>\n",
		"<IfModule x>\n<VirtualHost *:443>\n<Location />\nProxyPass http://b/\n</Location>\n</VirtualHost>\n</IfModule>\n",
	} {
		f.Add([]byte(src), "/socket", "wss://127.0.0.1:6080/websockify")
	}
	f.Fuzz(func(t *testing.T, src []byte, path, backend string) {
		c, err := ParseConfig("fuzz.conf", src)
		if err != nil {
			return
		}
		blocks, err := c.Blocks()
		if err != nil {
			return
		}
		for _, b := range blocks {
			if b.Path == path {
				return // remove would also take the existing block
			}
		}
		add, err := c.AddRoute(AddRequest{Path: path, Backend: backend, Strategy: StrategyTunnel})
		if err != nil || !add.Changed() {
			return
		}
		nc, err := ParseConfig("fuzz.conf", add.New)
		if err != nil {
			t.Fatalf("the added config does not parse: %v\n%q", err, add.New)
		}
		rm, err := nc.RemoveRoute(path, nil)
		if err != nil {
			t.Fatalf("remove after add: %v\ninput %q\nadded %q", err, src, add.New)
		}
		if !bytes.Equal(rm.New, src) {
			t.Fatalf("add then remove changed the file:\ninput %q\nadded %q\nafter %q", src, add.New, rm.New)
		}
	})
}
