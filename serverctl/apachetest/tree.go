package apachetest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"howett.net/plist"

	"github.com/socketbar/socketbar/serverctl/apacheconf"
)

// Mac paths of a Server tree that LocalizeTree rewrites (kept here rather
// than imported, so this helper does not depend on the code it tests).
const (
	launchdPlist = "Applications/Server.app/Contents/ServerRoot/System/Library/LaunchDaemons/com.apple.serviceproxy.plist"
	proxyConfig  = "Library/Server/Web/Config/Proxy/apache_serviceproxy.conf"
)

// LocalizeTree copies the Server tree at fixture to a new root and makes it
// run on this machine: the Service Proxy config is localized in place (see
// Localize), the launchd job's program and ROOT/usr/sbin/httpd become links
// to the local httpd, and the job's environment points the module prefix at
// the links. socketbar --root ROOT then drives a real httpd.
func LocalizeTree(t testing.TB, h HTTPD, fixture string) *Site {
	t.Helper()
	conf, err := os.ReadFile(filepath.Join(fixture, proxyConfig))
	must(t, err)
	var job map[string]any
	data, err := os.ReadFile(filepath.Join(fixture, launchdPlist))
	must(t, err)
	_, err = plist.Unmarshal(data, &job)
	must(t, err)
	vars := map[string]string{}
	if env, ok := job["EnvironmentVariables"].(map[string]any); ok {
		for k, v := range env {
			vars[k] = fmt.Sprint(v)
		}
	}
	s := Localize(t, h, conf, vars)
	must(t, os.CopyFS(filepath.Join(s.Root, "tree"), os.DirFS(fixture)))
	// Move the copied tree's files into the root, keeping the localized config.
	must(t, filepath.WalkDir(filepath.Join(s.Root, "tree"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(filepath.Join(s.Root, "tree"), p)
		dst := filepath.Join(s.Root, rel)
		if rel == proxyConfig {
			return nil
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.Rename(p, dst)
	}))
	must(t, os.RemoveAll(filepath.Join(s.Root, "tree")))

	env := map[string]any{}
	for _, kv := range s.Env {
		for i := 0; i < len(kv); i++ {
			if kv[i] == '=' {
				env[kv[:i]] = kv[i+1:]
				break
			}
		}
	}
	job["EnvironmentVariables"] = env
	out, err := plist.MarshalIndent(job, plist.XMLFormat, "\t")
	must(t, err)
	must(t, os.WriteFile(filepath.Join(s.Root, launchdPlist), out, 0o644))

	args, _ := job["ProgramArguments"].([]any)
	links := []string{filepath.Join(s.Root, "usr/sbin/httpd")}
	if len(args) > 0 {
		links = append(links, filepath.Join(s.Root, fmt.Sprint(args[0])))
	}
	for _, l := range links {
		must(t, os.MkdirAll(filepath.Dir(l), 0o755))
		if err := os.Symlink(h.Path, l); err != nil && !os.IsExist(err) {
			t.Fatalf("apachetest: link httpd: %v", err)
		}
	}
	return s
}

// LocalizeIncluded does for a file the config includes (such as
// apache_serviceproxy_customsites.conf, which LocalizeTree copies as it is)
// what Localize does for the main one, as far as running it needs:
// VirtualHost ports become the test's ports (taking new ones for ports the
// main config did not use), loopback ProxyPass targets the test's
// Websites tier, and certificate paths the test certificate.
// Every other byte stays, so Use lines and their quoting are kept.
func (s *Site) LocalizeIncluded(t testing.TB, path string) {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := apacheconf.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	f.Walk(func(n *apacheconf.Node) bool {
		var args []string
		switch {
		case n.Is("VirtualHost") && n.Kind == apacheconf.Section:
			args = s.mapAddrs(t, n.Args)
			n.Raw = []byte(n.Indent() + "<VirtualHost " + strings.Join(args, " ") + ">" + n.EOL())
			return true
		case n.Is("SSLCertificateFile"), n.Is("SSLCertificateChainFile"):
			args = []string{s.CertFile}
		case n.Is("SSLCertificateKeyFile"):
			args = []string{s.KeyFile}
		case n.Is("ProxyPass") || n.Is("ProxyPassReverse"):
			// Server 5.0/5.1's site VirtualHosts carry their own catch-all
			// to the Websites tier.
			for _, a := range n.Args {
				args = append(args, s.mapBackends(t, a))
			}
			n.Raw = []byte(n.Indent() + n.Name + " " + strings.Join(args, " ") + n.EOL())
			return true
		default:
			return true
		}
		n.Raw = []byte(n.Indent() + n.Name + ` "` + args[0] + `"` + n.EOL())
		return true
	})
	if err := os.WriteFile(path, f.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
