package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/action"
	"github.com/socketbar/socketbar/serverctl/action/actiontest"
	"github.com/socketbar/socketbar/serverctl/servertest"
)

// applied is what the run function asked Apply for: whether it restarts
// and how long it waits.
func applied(t *testing.T, rec *actiontest.Recorder) []ChangeOptions {
	t.Helper()
	var out []ChangeOptions
	for _, c := range rec.Calls("Apply") {
		o := c.Opts.(action.ApplyOptions)
		out = append(out, ChangeOptions{NoRestart: o.NoRestart, Timeout: o.Timeout})
	}
	return out
}

// addRun hands its options to the action layer as they are, applies the
// proposal unless it is a dry run, and says what it did; refusals come
// back as the library's typed errors, with nothing applied.
func TestAddRun(t *testing.T) {
	root, conf := servertest.CopyWithHTTPD(t, "5.3.1")
	target := action.Target{Root: root}
	for _, tt := range []struct {
		name    string
		opts    AddOptions
		want    action.AddOptions
		apply   []ChangeOptions // what Apply is asked for; nil: it is not called
		out     []string        // in stdout, in this order
		wantErr func(error) bool
	}{
		{"a dry run shows the diff and applies nothing",
			AddOptions{Target: target, Path: "/ws/", Backend: "http://127.0.0.1:8000/ws/", Strategy: serverctl.StrategyTunnel, ChangeOptions: ChangeOptions{DryRun: true}},
			action.AddOptions{Target: target, Path: "/ws/", Backend: "http://127.0.0.1:8000/ws/", Strategy: serverctl.StrategyTunnel},
			nil,
			[]string{"Strategy: tunnel (", "+\tRewriteRule ^/ws/(.*)$ ws://127.0.0.1:8000/ws/$1 [P,L]", "Dry run: nothing was written.\n"}, nil},
		{"a change is applied with its restart options",
			AddOptions{Target: target, Path: "/ws/", Backend: "http://127.0.0.1:8000/ws/", Strategy: serverctl.StrategyAuto, ChangeOptions: ChangeOptions{NoRestart: true, Timeout: 7 * time.Second}},
			action.AddOptions{Target: target, Path: "/ws/", Backend: "http://127.0.0.1:8000/ws/", Strategy: serverctl.StrategyAuto},
			[]ChangeOptions{{NoRestart: true, Timeout: 7 * time.Second}},
			[]string{"Strategy: tunnel (", "Backed up the old config as test-backup (see socketbar history).\nWrote " + conf + ".\n"}, nil},
		{"VirtualHosts and sites are passed on, ports by number",
			AddOptions{Target: target, Path: "/ws/", Backend: "http://127.0.0.1:8000/ws/", VHosts: []string{"*:443", "80,443"}, Sites: []string{"default"}, Replace: true, ChangeOptions: ChangeOptions{DryRun: true}},
			action.AddOptions{Target: target, Path: "/ws/", Backend: "http://127.0.0.1:8000/ws/", Ports: []string{"443", "80"}, Sites: []string{"default"}, Replace: true},
			nil,
			[]string{"Dry run: nothing was written.\n"}, nil},
		{"upgrade on an Apache older than 2.4.47 is refused",
			AddOptions{Target: action.Target{Root: root, ApacheVersion: "2.4.23"}, Path: "/ws/", Backend: "http://127.0.0.1:8000/ws/", Strategy: serverctl.StrategyUpgrade},
			action.AddOptions{Target: action.Target{Root: root, ApacheVersion: "2.4.23"}, Path: "/ws/", Backend: "http://127.0.0.1:8000/ws/", Strategy: serverctl.StrategyUpgrade},
			nil, nil,
			func(err error) bool {
				var in *serverctl.InputError
				return errors.As(err, &in) && in.Field == serverctl.FieldStrategy
			}},
		{"a path that is not a path is refused",
			AddOptions{Target: target, Path: "ws", Backend: "http://127.0.0.1:8000/ws/"},
			action.AddOptions{Target: target, Path: "ws", Backend: "http://127.0.0.1:8000/ws/"},
			nil, nil,
			func(err error) bool {
				var in *serverctl.InputError
				return errors.As(err, &in) && in.Field == serverctl.FieldPath
			}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before, err := os.ReadFile(conf)
			if err != nil {
				t.Fatal(err)
			}
			rec := &actiontest.Recorder{}
			e, out := runEnv(rec)
			opts := tt.opts
			err = addRun(context.Background(), e, &opts)
			checkRun(t, err, tt.wantErr, out.String(), tt.out)
			if calls := rec.Calls("ProposeAdd"); len(calls) != 1 || !reflect.DeepEqual(calls[0].Opts, tt.want) {
				t.Errorf("asked the action layer for %+v\nwant %+v", calls, tt.want)
			}
			if got := applied(t, rec); !reflect.DeepEqual(got, tt.apply) {
				t.Errorf("Apply was asked for %+v, want %+v", got, tt.apply)
			}
			if after, _ := os.ReadFile(conf); !bytes.Equal(after, before) {
				t.Error("the config changed (the Recorder applies nothing)")
			}
		})
	}
}

// removeRun takes out Socketbar's blocks for a path, only those, from the
// VirtualHosts named, and words a path it has no route for as the error
// that suggests the nearest.
func TestRemoveRun(t *testing.T) {
	root, conf := servertest.CopyWithHTTPD(t, "5.3.1")
	withRoutes(t, conf, "/chat/")
	target := action.Target{Root: root}
	for _, tt := range []struct {
		name    string
		opts    RemoveOptions
		want    action.RemoveOptions
		apply   []ChangeOptions
		out     []string
		notOut  string // a line of the diff that must not be there
		wantErr func(error) bool
	}{
		{"every VirtualHost", RemoveOptions{Target: target, Path: "/chat/", ChangeOptions: ChangeOptions{DryRun: true}},
			action.RemoveOptions{Target: target, Path: "/chat/"}, nil,
			[]string{"-\t# socketbar:begin /chat/", "-\t# socketbar:begin /chat/", "Dry run: nothing was written.\n"}, "-\tProxyPass / ", nil},
		{"one VirtualHost, applied", RemoveOptions{Target: target, Path: "/chat/", VHosts: []string{"443"}, ChangeOptions: ChangeOptions{Timeout: time.Second}},
			action.RemoveOptions{Target: target, Path: "/chat/", Ports: []string{"443"}}, []ChangeOptions{{Timeout: time.Second}},
			[]string{"Wrote " + conf + ".\n", "Restarted the Service Proxy (pid 4711)"}, "", nil},
		{"the path without its slash", RemoveOptions{Target: target, Path: "/chat", ChangeOptions: ChangeOptions{DryRun: true}},
			action.RemoveOptions{Target: target, Path: "/chat"}, nil, nil, "",
			func(err error) bool {
				var nm *action.NotManagedError
				return errors.As(err, &nm) && nm.Suggest == "/chat/"
			}},
		{"Apple's route", RemoveOptions{Target: target, Path: "/wiki"},
			action.RemoveOptions{Target: target, Path: "/wiki"}, nil, nil, "",
			func(err error) bool {
				var nm *action.NotManagedError
				return errors.As(err, &nm) && nm.Suggest == "" && nm.Rule != nil && nm.Rule.Path == "/wiki" && !nm.Rule.Managed
			}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := &actiontest.Recorder{}
			e, out := runEnv(rec)
			opts := tt.opts
			err := removeRun(context.Background(), e, &opts)
			checkRun(t, err, tt.wantErr, out.String(), tt.out)
			if calls := rec.Calls("ProposeRemove"); len(calls) != 1 || !reflect.DeepEqual(calls[0].Opts, tt.want) {
				t.Errorf("asked the action layer for %+v\nwant %+v", calls, tt.want)
			}
			if got := applied(t, rec); !reflect.DeepEqual(got, tt.apply) {
				t.Errorf("Apply was asked for %+v, want %+v", got, tt.apply)
			}
			if tt.notOut != "" && strings.Contains(out.String(), tt.notOut) {
				t.Errorf("stdout has %q:\n%s", tt.notOut, out)
			}
			if len(rec.Applied()) == 1 {
				// Port 443's blocks go (*:443's and the VHost443 macro's);
				// port 80's stay (the VHost80 macro's, then *:80's).
				if got, want := blocksIn(string(rec.Applied()[0].New), "/chat/"), []string{"<VirtualHost $ip:80>", "<VirtualHost *:80>"}; !reflect.DeepEqual(got, want) {
					t.Errorf("after removing from port 443, blocks for /chat/ are in %q, want %q", got, want)
				}
			}
		})
	}
}

// blocksIn names the VirtualHost (its opening line) of each Socketbar
// block for path in the config text conf.
func blocksIn(conf, path string) []string {
	var out []string
	section := ""
	for _, l := range strings.Split(conf, "\n") {
		l = strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "<VirtualHost "):
			section = l
		case strings.HasPrefix(l, "# socketbar:begin "+path+" "):
			out = append(out, section)
		}
	}
	return out
}
