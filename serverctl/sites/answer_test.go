package sites

import (
	"path/filepath"
	"testing"
)

// Apache's name-based choice on the trees with two custom sites: the
// port picks the VirtualHosts, the host name among them, else the first
// (the default hosts, which come first in the main config).
func TestAnsweringVirtualHostIsApachesChoice(t *testing.T) {
	for _, tree := range []string{"5.1.7-sites", "5.3.1-sites", "5.6.3-sites"} {
		root, err := filepath.Abs(filepath.Join("..", "testdata", "servers", tree))
		if err != nil {
			t.Fatal(err)
		}
		l := Read(loadTree(t, root), root)
		tests := []struct {
			host     string
			port     int
			wantSite string
			wantNone bool
		}{
			{"chat.example.com", 443, "chat.example.com", false},
			{"CHAT.example.com.", 443, "chat.example.com", false},
			{"www.chat.example.com", 80, "chat.example.com", false},
			{"shop.example.com", 443, "shop.example.com", false},
			{"shop.example.com", 80, "shop.example.com", false},
			{"127.0.0.1", 443, "", false},
			{"unknown.example.com", 443, "", false},
			{"chat.example.com", 8443, "", false}, // a port only the default hosts serve
			{"chat.example.com", 9, "", true},
		}
		for _, tt := range tests {
			s, v, ok := l.Answering(tt.host, "127.0.0.1", tt.port)
			switch {
			case ok == tt.wantNone:
				t.Errorf("%s: %s port %d: found %v, want %v", tree, tt.host, tt.port, ok, !tt.wantNone)
			case ok && s.Name != tt.wantSite:
				t.Errorf("%s: %s port %d answered by %q, want %q", tree, tt.host, tt.port, s.Name, tt.wantSite)
			case ok && !containsVHost(s, v):
				t.Errorf("%s: %s port %d: the VirtualHost at %s is not one of %q's", tree, tt.host, tt.port, v.Node.Pos, s.Name)
			}
		}
	}
}

func containsVHost(s *Site, v *VHost) bool {
	for _, x := range s.VHosts {
		if x == v {
			return true
		}
	}
	return false
}

func TestNameMatchesLikeApache(t *testing.T) {
	tests := []struct {
		pattern, host string
		want          bool
	}{
		{"chat.example.com", "chat.example.com", true},
		{"Chat.Example.com", "chat.example.com", true},
		{"*.example.com", "chat.example.com", true},
		{"ch?t.example.com", "chat.example.com", true},
		{"*.example.com", "example.com", false},
		{"shop.example.com", "chat.example.com", false},
		{"", "", false},
	}
	for _, tt := range tests {
		if got := nameMatches(tt.pattern, tt.host); got != tt.want {
			t.Errorf("nameMatches(%q, %q) = %v, want %v", tt.pattern, tt.host, got, tt.want)
		}
	}
}
