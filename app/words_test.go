package app

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/action"
	"github.com/socketbar/socketbar/serverctl/servertest"
)

// The refusals Add Route shows for a route that is already there and for
// an unknown site name the form field first, then its value.
func TestInputErrorsOfAddRouteNameTheFieldThenItsValue(t *testing.T) {
	ctx := context.Background()
	root, _ := servertest.CopyWithHTTPD(t, "5.3.1-sites")
	a := &action.Local{}
	target := action.Target{Root: root}
	p, err := a.ProposeAdd(ctx, action.AddOptions{Target: target, Path: "/one/", Backend: "http://127.0.0.1:8000/one/", Sites: []string{"chat.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Apply(ctx, p, action.ApplyOptions{NoRestart: true}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		opts    action.AddOptions
		want    []string
		mustNot string
	}{
		{"a route for one site, added for every site", action.AddOptions{Path: "/one/", Backend: "http://127.0.0.1:9999/one/"},
			[]string{"Path /one/ already has a Socketbar route in the custom sites' macro VHost", "for chat.example.com", "; remove that route first to change it."}, "Path macro"},
		{"an unknown site", action.AddOptions{Path: "/two/", Backend: "http://127.0.0.1:9999/two/", Sites: []string{"nope.example.com"}},
			[]string{`Sites "nope.example.com" is not one of this Server's sites`}, "site "},
	} {
		tt.opts.Target = target
		_, err := a.ProposeAdd(ctx, tt.opts)
		var in *serverctl.InputError
		if !errors.As(err, &in) {
			t.Fatalf("%s: %v; want an input error", tt.name, err)
		}
		msg := errorMessage(err)
		ok := !strings.HasPrefix(msg, tt.mustNot)
		for _, w := range tt.want {
			ok = ok && strings.Contains(msg, w)
		}
		if !ok {
			t.Errorf("%s: %q", tt.name, msg)
		}
	}
}
