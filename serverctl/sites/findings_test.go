package sites

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestFindings: a second VirtualHost for one name and port (Server.app's
// duplicate-entry bug) and every difference from the plist's Sites are
// reported, and none of them stops the listing.
func TestFindings(t *testing.T) {
	const sitesPlist = `<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0"><dict><key>Sites</key><array>
<dict><key>serverName</key><string>*</string><key>port</key><integer>443</integer></dict>
<dict><key>ServerName</key><string>a.example.com</string><key>Port</key><integer>34543</integer></dict>
<dict><key>serverName</key><string>gone.example.com</string><key>port</key><integer>443</integer></dict>
</array></dict></plist>
`
	root := t.TempDir()
	files := map[string]string{
		proxyConfig: "<VirtualHost *:443>\nServerName localhost\n</VirtualHost>\n" +
			"IncludeOptional /Library/Server/Web/Config/Proxy/apache_serviceproxy_customsites*.conf\n",
		"Library/Server/Web/Config/Proxy/apache_serviceproxy_customsites.conf": "<VirtualHost *:443>\nServerName a.example.com:443\n</VirtualHost>\n" +
			"<VirtualHost *:443>\nServerName A.example.com\n</VirtualHost>\n<VirtualHost *:80>\nServerName extra.example.com:80\n</VirtualHost>\n",
		"Library/Server/Web/Config/apache2/servermgr_web_apache2_config.plist": sitesPlist,
	}
	for p, text := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, p), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	l := Read(loadTree(t, root), root)
	var got []string
	for _, f := range l.Findings {
		got = append(got, f.Kind+" "+f.Pos.String())
	}
	want := []string{
		"duplicate /Library/Server/Web/Config/Proxy/apache_serviceproxy_customsites.conf:4",
		"plist-only " + PlistPath,
		"config-only /Library/Server/Web/Config/Proxy/apache_serviceproxy_customsites.conf:7",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if d := l.Findings[0]; d.Site != "A.example.com" || d.Port != 443 || d.First.String() != "/Library/Server/Web/Config/Proxy/apache_serviceproxy_customsites.conf:1" {
		t.Errorf("duplicate names site %q port %d first %s; want A.example.com, 443 and the first VirtualHost's line", d.Site, d.Port, d.First)
	}
	if len(l.Sites) != 3 || !l.Sites[0].Default || l.Sites[1].Name != "a.example.com" || l.Lookup("extra.example.com") == nil {
		t.Errorf("sites %s", format(l))
	}
}
