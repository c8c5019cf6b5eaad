package apachetest

import (
	"testing"

	"github.com/socketbar/socketbar/internal/loopport"
)

// TestLocalizeReservesItsPorts: every port a site listens on or proxies to
// is distinct and stays reserved until the test ends, so a test package
// running at the same time cannot be given it before httpd binds it (or
// while a restart has let go of it).
func TestLocalizeReservesItsPorts(t *testing.T) {
	h := Require(t)
	conf := "Listen 80\nListen 443\n<VirtualHost *:443>\nProxyPass / http://127.0.0.1:34580/\nProxyPass /x http://127.0.0.1:34543/\n</VirtualHost>\n"
	var s1, s2 *Site
	t.Run("localize", func(t *testing.T) {
		s1 = Localize(t, h, []byte(conf), nil)
		s2 = Localize(t, h, []byte(conf), nil)
		seen := map[int]bool{}
		for _, s := range []*Site{s1, s2} {
			for _, m := range []map[int]int{s.Ports, s.Backends} {
				for orig, p := range m {
					if seen[p] {
						t.Errorf("port %d (for %d) handed out twice", p, orig)
					}
					seen[p] = true
					if held, err := loopport.Held(p); !held || err != nil {
						t.Errorf("port %d (for %d) is not reserved: %v", p, orig, err)
					}
				}
			}
		}
		if len(seen) != 8 {
			t.Errorf("%d ports, want 2 sites × (2 listens + 2 backends)", len(seen))
		}
	})
	for _, p := range []int{s1.Ports[443], s2.Backends[34580]} {
		if held, err := loopport.Held(p); held || err != nil {
			t.Errorf("port %d still reserved after its test ended (%v)", p, err)
		}
	}
}
