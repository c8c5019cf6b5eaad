package mirror

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/socketbar/socketbar/internal/sshtest"
	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/apacheconf/loader"
	"github.com/socketbar/socketbar/serverctl/remote"
)

// sameTime allows for the Server's perl, whose Time::HiRes gives times
// as a double: microseconds, not nanoseconds.
func sameTime(a, b time.Time) bool {
	d := a.Sub(b)
	return d < time.Microsecond && d > -time.Microsecond
}

func TestFetchCopiesWhatTheReadersReadInOneRoundTrip(t *testing.T) {
	root := serve(t, "5.3.1-sites")
	// What must come as placeholders: a module of 1 MiB, never its bytes.
	put(t, root, "/usr/libexec/apache2/mod_rewrite.so", strings.Repeat("\x7fELF", 1<<18), 0o755)
	// The error log, longer than the tail fetched.
	var log strings.Builder
	for i := 0; log.Len() < 200<<10; i++ {
		log.WriteString("[proxy:error] line " + strings.Repeat("x", i%50) + "\n")
	}
	put(t, root, serverctl.DefaultErrorLogPath, log.String(), 0o644)
	// A file only root may read; the test logs in as another account
	// when it runs as root (see connect).
	secret := ConfigDir + "/apache2/private.plist"
	put(t, root, secret, "secret", 0o600)
	// What must not come: other folders of the Server.
	put(t, root, "/Library/Server/Web/Data/Sites/Default/secret.html", "secret", 0o644)
	put(t, root, "/etc/other.conf", "Listen 1\n", 0o644)

	c := &Counter{Conn: connect(t)}
	m := fetch(t, c, root)
	if m.RoundTrips != 1 || c.RoundTrips() != 1 {
		t.Errorf("%d round trips (%d counted), want 1", m.RoundTrips, c.RoundTrips())
	}
	if m.Bytes > 64<<10+64<<10 {
		t.Errorf("%d bytes came: more than the config, plists and log tail (the module's bytes?)", m.Bytes)
	}
	noSymlinks(t, m.Dir)
	if fi, err := os.Stat(m.Dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("the mirror folder: %v, %v; want mode 0700", fi.Mode(), err)
	}

	// Every file of the config folder and the plists, byte for byte, with
	// its size, time and hash recorded.
	var want []string
	for _, top := range []string{ConfigDir, serverctl.VersionPlistPath, serverctl.ServerVersionPlistPath, serverctl.LaunchdPlistPath} {
		filepath.WalkDir(filepath.Join(root, top), func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() && !strings.HasSuffix(p, secret) {
				want = append(want, strings.TrimPrefix(p, root))
			}
			return err
		})
	}
	if len(want) < 10 {
		t.Fatalf("only %d files in the fixture?", len(want))
	}
	for _, p := range want {
		served, _ := os.ReadFile(filepath.Join(root, p))
		fi, _ := os.Stat(filepath.Join(root, p))
		got, err := os.ReadFile(m.LocalPath(p))
		if err != nil || !bytes.Equal(got, served) {
			t.Errorf("%s: %d bytes in the mirror (%v), want the %d served", p, len(got), err, len(served))
			continue
		}
		f := m.Files[p]
		sum := sha256.Sum256(served)
		switch {
		case f == nil:
			t.Errorf("%s: not in Files", p)
		case f.Kind != KindFile || f.SHA256 != hex.EncodeToString(sum[:]) || f.Size != int64(len(served)) || f.Mode != fi.Mode():
			t.Errorf("%s: recorded as %v %s %d bytes %v, want a file of %d bytes, mode %v, hash %x", p, f.Kind, f.SHA256, f.Size, f.Mode, len(served), fi.Mode(), sum)
		case !sameTime(f.ModTime, fi.ModTime()):
			t.Errorf("%s: recorded time %v, served %v", p, f.ModTime, fi.ModTime())
		case f.Remote != root+p:
			t.Errorf("%s: remote path %s, want %s", p, f.Remote, root+p)
		}
		if lfi, err := os.Stat(m.LocalPath(p)); err != nil || !sameTime(lfi.ModTime(), fi.ModTime()) {
			t.Errorf("%s: the mirror's copy has time %v, served %v", p, lfi.ModTime(), fi.ModTime())
		}
	}

	// Placeholders: present, empty, the Server's mode and size recorded.
	for _, p := range []string{serverctl.HTTPDPath, "/usr/libexec/apache2/mod_rewrite.so"} {
		served, _ := os.Stat(filepath.Join(root, p))
		fi, err := os.Stat(m.LocalPath(p))
		f := m.Files[p]
		if err != nil || fi.Size() != 0 || f == nil || f.Kind != KindExists || f.Size != served.Size() || f.Mode != 0o755 {
			t.Errorf("%s: mirror %v (%v), recorded %+v; want an empty placeholder recording %d bytes, mode 0755", p, fi, err, f, served.Size())
		}
	}
	if f := m.Files[WrapperPath]; f == nil || f.Kind != KindMissing {
		t.Errorf("the wrapper, missing from the fixture: %+v", f)
	}

	// The log's end.
	tail := log.String()[log.Len()-64<<10:]
	got, _ := os.ReadFile(m.LocalPath(serverctl.DefaultErrorLogPath))
	if f := m.Files[serverctl.DefaultErrorLogPath]; string(got) != tail || f == nil || f.Kind != KindTail || f.Size != int64(log.Len()) || f.Mode != 0o644 {
		t.Errorf("the error log: %d bytes in the mirror, recorded %+v; want its last %d of %d", len(got), f, len(tail), log.Len())
	}

	if os.Geteuid() == 0 {
		if f := m.Files[secret]; f == nil || f.Kind != KindUnreadable || !strings.Contains(f.Err, "Permission denied") {
			t.Errorf("%s, unreadable for the login: %+v", secret, f)
		}
		if _, err := os.Lstat(m.LocalPath(secret)); err == nil {
			t.Errorf("%s, unreadable, is in the mirror", secret)
		}
	}

	// Nothing else.
	for _, p := range []string{"/Library/Server/Web/Data", "/etc"} {
		if _, err := os.Lstat(m.LocalPath(p)); err == nil || m.Files[p] != nil {
			t.Errorf("%s was fetched, but nothing reads it", p)
		}
	}
}

// The config includes files from elsewhere, one of them including more:
// the loader reads the same files from the mirror as from the Server, and
// wildcards bring only what they may match.
func TestFetchFollowsIncludesOutsideTheConfigFolder(t *testing.T) {
	root := serve(t, "5.3.1-sites")
	main := filepath.Join(root, serverctl.DefaultConfigPath)
	text, err := os.ReadFile(main)
	if err != nil {
		t.Fatal(err)
	}
	text = append(text, []byte("\nInclude /etc/socketbar/extra.conf\n"+
		"Include conf/relative.conf\n"+
		"IncludeOptional /opt/sb/*/conf.d/*.conf\n"+
		"IncludeOptional /opt/absent/*.conf\n")...)
	put(t, root, serverctl.DefaultConfigPath, string(text), 0o644)
	put(t, root, "/etc/socketbar/extra.conf", "Include /etc/socketbar/more/*.conf\n", 0o644)
	put(t, root, "/etc/socketbar/more/a.conf", "Header set X-A a\n", 0o644)
	put(t, root, "/etc/socketbar/more/notes.txt", "not config\n", 0o644)
	put(t, root, "/usr/conf/relative.conf", "Header set X-R r\n", 0o644)
	put(t, root, "/opt/sb/one/conf.d/x.conf", "Header set X-X x\n", 0o644)
	put(t, root, "/opt/sb/one/conf.d/skip.txt", strings.Repeat("skip ", 1000), 0o644)
	put(t, root, "/opt/sb/one/other/y.conf", "Header set X-Y y\n", 0o644)
	put(t, root, "/opt/sb/file.conf", "not a folder\n", 0o644)

	m := fetch(t, connect(t), root)
	// Round 1: the base; round 2: what the main config includes;
	// round 3: the folder extra.conf's wildcard reads.
	if m.RoundTrips != 3 || len(m.Unfetched) != 0 {
		t.Errorf("%d round trips, unfetched %q; want 3 and none", m.RoundTrips, m.Unfetched)
	}
	files := func(r string) []string {
		lc, err := loader.Load(testContext(t), filepath.Join(r, serverctl.DefaultConfigPath), loader.Options{Root: r, KeepGoing: true})
		if err != nil {
			t.Fatalf("load under %s: %v", r, err)
		}
		var ps []string
		for _, f := range lc.Files {
			ps = append(ps, f.Path)
		}
		return ps
	}
	served, mirrored := files(root), files(m.Dir)
	if !slices.Equal(served, mirrored) {
		t.Errorf("the loader reads\n%q\nfrom the mirror, but\n%q\nfrom the Server", mirrored, served)
	}
	for _, p := range []string{"/etc/socketbar/more/a.conf", "/usr/conf/relative.conf", "/opt/sb/one/conf.d/x.conf"} {
		if !slices.Contains(mirrored, p) {
			t.Errorf("%s not read from the mirror", p)
		}
	}
	// The pattern *.conf below /opt/sb/*/conf.d brings neither skip.txt
	// nor the other folder.
	for _, p := range []string{"/opt/sb/one/conf.d/skip.txt", "/opt/sb/one/other"} {
		if _, err := os.Lstat(m.LocalPath(p)); err == nil {
			t.Errorf("%s was fetched, though no pattern matches it", p)
		}
	}
	noSymlinks(t, m.Dir)
}

// The launchd job names its config, log and program elsewhere, and the
// config loads modules from elsewhere: a second round trip brings the
// config, log and program, a third the module folders the config names.
func TestFetchFollowsTheLaunchdJob(t *testing.T) {
	root := serve(t, "5.3.1-sites")
	plist, err := os.ReadFile(filepath.Join(root, serverctl.LaunchdPlistPath))
	if err != nil {
		t.Fatal(err)
	}
	s := strings.NewReplacer(
		WrapperPath, "/opt/sb/bin/httpd-server-wrapper",
		serverctl.DefaultConfigPath, "/etc/sb/proxy.conf",
		serverctl.DefaultErrorLogPath, "/var/log/sb/error.log",
	).Replace(string(plist))
	put(t, root, serverctl.LaunchdPlistPath, s, 0o644)
	put(t, root, "/opt/sb/bin/httpd-server-wrapper", "#!/bin/sh\n", 0o755)
	put(t, root, "/etc/sb/proxy.conf", "ServerRoot /opt/sb\n"+
		"LoadModule rewrite_module modules/mod_rewrite.so\n"+
		"LoadModule gone_module modules/mod_gone.so\n"+
		"LoadModule proxy_module ${MODULE_INSTALL_PATH_PREFIX}/usr/libexec/apache2/mod_proxy.so\n"+
		"<VirtualHost *:80>\nProxyPass /a http://127.0.0.1:9/a\n</VirtualHost>\n", 0o644)
	put(t, root, "/opt/sb/modules/mod_rewrite.so", "binary", 0o755)
	put(t, root, "/var/log/sb/error.log", "[error] the end\n", 0o644)

	m := fetch(t, connect(t), root)
	if m.RoundTrips != 3 {
		t.Errorf("%d round trips, want 3", m.RoundTrips)
	}
	srv, err := serverctl.Discover(testContext(t), serverctl.Options{Root: m.Dir, ApacheVersion: "2.4.23"})
	if err != nil {
		t.Fatal(err)
	}
	if srv.ConfigPath != "/etc/sb/proxy.conf" || srv.ErrorLogPath != "/var/log/sb/error.log" {
		t.Errorf("discovered %s and %s", srv.ConfigPath, srv.ErrorLogPath)
	}
	if tail := srv.ErrorLogTail(5); tail != "[error] the end" {
		t.Errorf("log tail %q", tail)
	}
	cfg, err := serverctl.ReadConfig(srv.HostPath(srv.ConfigPath))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Routes(); len(got) != 1 || got[0].Path != "/a" {
		t.Errorf("routes %+v", got)
	}
	for p, exists := range map[string]bool{
		"/opt/sb/bin/httpd-server-wrapper": true,
		"/opt/sb/modules/mod_rewrite.so":   true,
		"/opt/sb/modules/mod_gone.so":      false,
	} {
		if _, err := os.Stat(m.LocalPath(p)); (err == nil) != exists {
			t.Errorf("%s in the mirror: %v, want it to exist: %v", p, err, exists)
		}
	}
	if f := m.Files["/opt/sb/modules/mod_rewrite.so"]; f == nil || f.Kind != KindExists {
		t.Errorf("the module's record: %+v", f)
	}
}

// Symlinks on the Server: recorded with their targets, mirrored as what
// they point to; the mirror holds none.
func TestFetchRecordsSymlinksAndMirrorsWhatTheyPointTo(t *testing.T) {
	root := serve(t, "5.3.1-sites")
	proxy := ConfigDir + "/Proxy"
	custom := proxy + "/apache_serviceproxy_customsites.conf"
	text, _ := os.ReadFile(filepath.Join(root, custom))
	os.Remove(filepath.Join(root, custom))
	put(t, root, "/elsewhere/customsites.conf", string(text), 0o644)
	link(t, root, custom, root+"/elsewhere/customsites.conf")
	// The sites folder is a link to a folder elsewhere.
	sites := ConfigDir + "/apache2/sites"
	if err := os.Rename(filepath.Join(root, sites), filepath.Join(root, "/elsewhere/sites")); err != nil {
		t.Fatal(err)
	}
	link(t, root, sites, "../../../../../elsewhere/sites")
	link(t, root, ConfigDir+"/dangling.conf", root+"/nowhere")
	link(t, root, ConfigDir+"/loop", ".")
	link(t, root, ConfigDir+"/passwd", "/etc/passwd")

	m := fetch(t, connect(t), root)
	noSymlinks(t, m.Dir)
	entries, _ := os.ReadDir(filepath.Dir(m.Dir))
	if len(entries) != 1 {
		t.Errorf("the mirror's parent holds %d entries, want the mirror alone", len(entries))
	}

	if f := m.Files[custom]; f == nil || f.Kind != KindFile || f.Link != root+"/elsewhere/customsites.conf" {
		t.Errorf("%s: %+v, want a file recorded with its link", custom, f)
	}
	if got, _ := os.ReadFile(m.LocalPath(custom)); !bytes.Equal(got, text) {
		t.Errorf("%s holds %q, want the linked file's content", custom, got)
	}
	if f := m.Files[sites]; f == nil || f.Kind != KindDir || f.Link != "../../../../../elsewhere/sites" {
		t.Errorf("%s: %+v, want a folder recorded with its link", sites, f)
	}
	site := sites + "/0000_127.0.0.1_34543_.conf"
	if f := m.Files[site]; f == nil || f.Kind != KindFile || f.Remote != root+site {
		t.Errorf("%s: %+v, want a file reached through the link", site, f)
	}
	if f := m.Files[ConfigDir+"/dangling.conf"]; f == nil || f.Kind != KindMissing || f.Link != root+"/nowhere" {
		t.Errorf("dangling link: %+v", f)
	}
	if f := m.Files[ConfigDir+"/loop"]; f == nil || f.Kind != KindUnreadable || f.Err != "folder loop" {
		t.Errorf("link loop: %+v", f)
	}
	host, _ := os.ReadFile("/etc/passwd")
	if got, _ := os.ReadFile(m.LocalPath(ConfigDir + "/passwd")); !bytes.Equal(got, host) {
		t.Errorf("a link out of the tree: %q, want the content it points to, %q", got, host)
	}
	// The readers find the sites through the mirror as on the Server.
	srv, err := serverctl.Discover(testContext(t), serverctl.Options{Root: m.Dir, ApacheVersion: "2.4.23"})
	if err != nil || len(srv.WebsitesPorts) != 2 {
		t.Errorf("discovery on the mirror: %v, Websites ports %v", err, srv.WebsitesPorts)
	}
}

func TestFetchWantsANewOrEmptyFolder(t *testing.T) {
	parent := t.TempDir()
	full := filepath.Join(parent, "full")
	put(t, full, "/keep", "mine", 0o644)
	link(t, parent, "/link", full)
	for _, dir := range []string{full, filepath.Join(parent, "link"), filepath.Join(parent, "full", "keep")} {
		if _, err := Fetch(testContext(t), panicConn{}, "/", dir, Limits{}); err == nil {
			t.Errorf("Fetch into %s: no error", dir)
		}
	}
	if b, err := os.ReadFile(filepath.Join(full, "keep")); err != nil || string(b) != "mine" {
		t.Errorf("the existing file: %q, %v", b, err)
	}
	for _, root := range []string{"", "relative", "/a/../b", "/a/", "/a\x00"} {
		if _, err := Fetch(testContext(t), panicConn{}, root, filepath.Join(parent, "new"), Limits{}); err == nil {
			t.Errorf("remote root %q: no error", root)
		}
	}
}

func TestFetchRunsOnlyListedCommands(t *testing.T) {
	if err := remote.CheckCommand(fetchArgv); err != nil {
		t.Errorf("the fetch command: %v", err)
	}
}

// appendConfig adds lines to the served main config.
func appendConfig(t *testing.T, root, lines string) {
	t.Helper()
	text, err := os.ReadFile(filepath.Join(root, serverctl.DefaultConfigPath))
	if err != nil {
		t.Fatal(err)
	}
	put(t, root, serverctl.DefaultConfigPath, string(text)+"\n"+lines, 0o644)
}

// The round logic needs no SSH: these tests run fetch.pl with this
// machine's perl (localPerl).

// An include missing on the Server is missing from the mirror too (the
// stand-ins Fetch makes to get past it are gone), and the readers fail on
// it as they do on the Server.
func TestFetchLeavesMissingIncludesMissing(t *testing.T) {
	root := serve(t, "5.3.1-sites")
	appendConfig(t, root, "Include /etc/missing.conf\nInclude /etc/gone/*.conf\n")
	m := fetch(t, localPerl{}, root)
	if m.RoundTrips != 2 {
		t.Errorf("%d round trips, want 2", m.RoundTrips)
	}
	for _, p := range []string{"/etc/missing.conf", "/etc/gone", "/etc"} {
		if _, err := os.Lstat(m.LocalPath(p)); err == nil {
			t.Errorf("%s is in the mirror", p)
		}
	}
	if f := m.Files["/etc/missing.conf"]; f == nil || f.Kind != KindMissing {
		t.Errorf("/etc/missing.conf: %+v, want it recorded missing", f)
	}
	load := func(r string) string {
		_, err := loader.Load(testContext(t), filepath.Join(r, serverctl.DefaultConfigPath), loader.Options{Root: r, KeepGoing: true})
		if err == nil {
			t.Fatalf("load under %s: no error", r)
		}
		return strings.ReplaceAll(err.Error(), r, "ROOT")
	}
	if here, there := load(root), load(m.Dir); here != there {
		t.Errorf("the load fails with %q on the mirror, %q on the Server", there, here)
	}
}

func TestFetchStopsAtLimitsRounds(t *testing.T) {
	root := serve(t, "5.3.1-sites")
	appendConfig(t, root, "Include /etc/extra.conf\n")
	put(t, root, "/etc/extra.conf", "Include /etc/more.conf\n", 0o644)
	put(t, root, "/etc/more.conf", "# more\n", 0o644)
	m, err := Fetch(testContext(t), localPerl{}, root, newDir(t), Limits{Rounds: 2})
	if err != nil {
		t.Fatal(err)
	}
	if m.RoundTrips != 2 || !slices.Equal(m.Unfetched, []string{"/etc/more.conf"}) {
		t.Errorf("%d round trips, unfetched %q; want 2 and /etc/more.conf", m.RoundTrips, m.Unfetched)
	}
}

// An account whose ~/.bashrc greets (bash runs it for every command sshd
// starts) gets the same mirror, byte for byte: the greeting is not read as
// the start of the stream.
func TestFetchIsDeafToAGreetingShellStartup(t *testing.T) {
	sshtest.Require(t)
	root := serve(t, "5.3.1-sites")
	s := sshtest.Start(t)
	u := s.NewSudoUser(t)
	u.WriteBashrc(t, `echo "Welcome, $USER"; printf 'Last login: today'; echo "on stderr" >&2`+"\n")
	m := fetch(t, login(t, []string{"ssh", "-F", u.ConfigFile}), root)
	var n int
	filepath.WalkDir(filepath.Join(root, ConfigDir), func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		n++
		rel := strings.TrimPrefix(p, root)
		served, _ := os.ReadFile(p)
		got, err := os.ReadFile(m.LocalPath(rel))
		if err != nil || !bytes.Equal(got, served) {
			t.Errorf("%s: %d bytes in the mirror (%v), want the %d served", rel, len(got), err, len(served))
		}
		return nil
	})
	if n < 5 {
		t.Fatalf("only %d files in the fixture?", n)
	}
}
