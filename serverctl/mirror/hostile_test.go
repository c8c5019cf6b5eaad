package mirror

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/remote"
)

// cannedConn answers every fetch with a command of the test's choice, run
// on the real sshd: a hostile or broken Server's answer, carried by real
// SSH.
type cannedConn struct {
	conn *remote.Conn
	argv []string
}

func (c cannedConn) Run(context.Context, []string, io.Reader) (remote.Output, error) {
	panic("not used")
}

func (c cannedConn) Stream(ctx context.Context, _ []string, _ io.Reader, consume func(io.Reader) error) (remote.Output, error) {
	return c.conn.Stream(ctx, c.argv, nil, consume)
}

// frame is one record as fetch.pl writes it; size is a string so that
// tests can write garbage there.
func frame(kind, perm, size, path, link, data string) string {
	return fmt.Sprintf("%s %s %s 1700000000.5 %d %d %d\n%s%s%s", kind, perm, size, len(path), len(link), len(data), path, link, data)
}

// file is a well-formed file record.
func file(path, data string) string {
	return frame("f", "644", fmt.Sprint(len(data)), path, "", data)
}

// stream is a well-formed stream of records.
func stream(records ...string) string {
	return magic + strings.Join(records, "") + fmt.Sprintf("end %d\n", len(records))
}

// hostileCase is a fetch stream a hostile or broken Server may send, and
// the error it must get: "frame", "refused", or "limit:" and the limit.
type hostileCase struct {
	name   string
	stream string
	lim    Limits
	want   string
}

func hostileCases() []hostileCase {
	p := ConfigDir + "/Proxy/x.conf"
	long := ConfigDir + "/" + strings.Repeat("a", 5000)
	manyDirs := make([]string, 6)
	for i := range manyDirs {
		manyDirs[i] = frame("d", "755", "0", fmt.Sprintf("%s/d%d", ConfigDir, i), "", "")
	}
	big := strings.Repeat("b", 40<<10)
	return []hostileCase{
		{"empty", "", Limits{}, "frame"},
		{"not a mirror stream", "HTTP/1.1 200 OK\r\n\r\n", Limits{}, "frame"},
		{"an endless first line", strings.Repeat("a", 1<<20), Limits{}, "frame"},
		{"a header of six fields", magic + "f 644 1 0 10 0\n", Limits{}, "frame"},
		{"an endless header", magic + "f 644 " + strings.Repeat("1", 1<<20), Limits{}, "frame"},
		{"an unknown kind", stream(frame("z", "644", "0", p, "", "")), Limits{}, "frame"},
		{"a mode that is not octal", stream(frame("f", "9", "0", p, "", "")), Limits{}, "frame"},
		{"a signed size", stream(frame("f", "644", "+1", p, "", "x")), Limits{}, "frame"},
		{"a size with a leading zero", stream(frame("f", "644", "01", p, "", "x")), Limits{}, "frame"},
		{"a time that is no number", magic + strings.Replace(file(p, "x"), "1700000000.5", "yesterday", 1) + "end 1\n", Limits{}, "frame"},
		{"a file whose data is not its size", stream(frame("f", "644", "10", p, "", "short")), Limits{}, "frame"},
		{"data cut short", magic + "f 644 100 0 " + fmt.Sprint(len(p)) + " 0 100\n" + p + "only ten b", Limits{}, "frame"},
		{"no closing line", magic + file(p, "x"), Limits{}, "frame"},
		{"a closing line with the wrong count", magic + file(p, "x") + "end 5\n", Limits{}, "frame"},
		{"bytes after the closing line", stream(file(p, "x")) + "more", Limits{}, "frame"},
		{"data in a folder record", stream(frame("d", "755", "0", ConfigDir+"/d", "", "abc")), Limits{}, "frame"},
		{"a tail longer than asked", stream(frame("t", "644", "100", serverctl.DefaultErrorLogPath, "", strings.Repeat("l", 20))), Limits{Tail: 10}, "frame"},
		{"a relative path", stream(file("Library/Server/Web/Config/x.conf", "x")), Limits{}, "refused"},
		{"a path with ..", stream(file(ConfigDir+"/../../../../../../etc/cron.d/evil", "x")), Limits{}, "refused"},
		{"a path starting /..", stream(file("/../etc/evil", "x")), Limits{}, "refused"},
		{"a path with .", stream(file(ConfigDir+"/./x.conf", "x")), Limits{}, "refused"},
		{"a path with //", stream(file(ConfigDir+"//x.conf", "x")), Limits{}, "refused"},
		{"a path with a trailing /", stream(file(ConfigDir+"/x.conf/", "x")), Limits{}, "refused"},
		{"a path outside what was asked", stream(file("/etc/cron.d/evil", "x")), Limits{}, "refused"},
		{"the root as a file", stream(file("/", "x")), Limits{}, "refused"},
		{"a NUL in a path", stream(file(ConfigDir+"/x\x00.conf", "x")), Limits{}, "refused"},
		{"a NUL in a link", stream(frame("f", "644", "1", p, "/etc/\x00", "x")), Limits{}, "refused"},
		{"a name longer than 255 bytes", stream(file(ConfigDir+"/"+strings.Repeat("n", 256), "x")), Limits{}, "refused"},
		{"a placeholder where content was asked", stream(frame("e", "755", "9", p, "", "")), Limits{}, "refused"},
		{"content where existence was asked", stream(file(serverctl.HTTPDPath, "#!/bin/sh\n")), Limits{}, "refused"},
		{"a file below a file", stream(file(p, "x"), file(p+"/y", "y")), Limits{}, "refused"},
		{"a file twice, different", stream(file(p, "a"), file(p, "b")), Limits{}, "refused"},
		{"a folder where a file came", stream(file(p, "a"), frame("d", "755", "0", p, "", "")), Limits{}, "refused"},
		{"missing after what is inside it", stream(file(p, "a"), frame("n", "0", "0", ConfigDir+"/Proxy", "", "")), Limits{}, "refused"},
		{"a path over Limits.Path", magic + fmt.Sprintf("f 644 0 0 %d 0 0\n", len(long)) + long, Limits{}, "limit:Path"},
		{"a link over Limits.Path", magic + fmt.Sprintf("f 644 0 0 %d 5000 0\n", len(p)), Limits{}, "limit:Path"},
		{"a file over Limits.FileSize", magic + fmt.Sprintf("f 644 %d 0 %d 0 %d\n", 17<<20, len(p), 17<<20) + p, Limits{}, "limit:FileSize"},
		{"records over Limits.Files", stream(manyDirs...), Limits{Files: 5}, "limit:Files"},
		{"bytes over Limits.Total", stream(file(p+"1", big), file(p+"2", big), file(p+"3", big)), Limits{Total: 100 << 10}, "limit:Total"},
	}
}

// matches reports whether err is the kind of error want names.
func matches(err error, want string) bool {
	var (
		fe *FrameError
		le *LimitError
		re *RefusedPathError
	)
	switch {
	case want == "frame":
		return errors.As(err, &fe)
	case want == "refused":
		return errors.As(err, &re)
	case strings.HasPrefix(want, "limit:"):
		return errors.As(err, &le) && le.Limit == strings.TrimPrefix(want, "limit:")
	}
	return false
}

func TestFetchRefusesAHostileOrBrokenStream(t *testing.T) {
	conn := connect(t)
	served := shared(t)
	for i, tc := range hostileCases() {
		t.Run(tc.name, func(t *testing.T) {
			canned := filepath.Join(served, fmt.Sprintf("case%d", i))
			if err := os.WriteFile(canned, []byte(tc.stream), 0o644); err != nil {
				t.Fatal(err)
			}
			parent := t.TempDir()
			dir := filepath.Join(parent, "mirror")
			m, err := Fetch(testContext(t), cannedConn{conn, []string{"cat", canned}}, "/", dir, tc.lim)
			if m != nil || !matches(err, tc.want) {
				t.Fatalf("Fetch: %v (mirror %v), want a %s error", err, m, tc.want)
			}
			if entries, _ := os.ReadDir(parent); len(entries) != 0 {
				t.Errorf("left behind: %v", entries)
			}
			t.Log(err)
		})
	}
}

func TestFetchSaysWhatTheServerSaidWhenItsAnswerIsNoStream(t *testing.T) {
	conn := connect(t)
	broken := cannedConn{conn, []string{"/bin/sh", "-c", `echo "Can't locate strict.pm in @INC" >&2; exit 2`}}
	_, err := Fetch(testContext(t), broken, "/", newDir(t), Limits{})
	var fe *FrameError
	if !errors.As(err, &fe) || !strings.Contains(fe.Stderr, "Can't locate strict.pm") || !strings.Contains(err.Error(), "Can't locate strict.pm") {
		t.Fatalf("Fetch: %v, want a *FrameError that quotes the Server's error", err)
	}
}

// A Server that sends without end is stopped at a limit, and its command
// is ended, in bounded time and memory.
func TestFetchStopsAServerThatSendsWithoutEnd(t *testing.T) {
	conn := connect(t)
	cases := []struct {
		name, script string
		lim          Limits
		limit        string
	}{
		{"the same folder over and over", `print "socketbar-mirror 1\n"; $p = "/Library/Server/Web/Config"; while (1) { print "d 755 0 0 ", length($p), " 0 0\n$p" }`, Limits{}, "Files"},
		{"files without end", `print "socketbar-mirror 1\n"; for ($i = 0; ; $i++) { $p = "/Library/Server/Web/Config/f$i"; print "f 644 65536 0 ", length($p), " 0 65536\n$p", "x" x 65536 }`, Limits{Total: 8 << 20}, "Total"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			_, err := Fetch(testContext(t), cannedConn{conn, []string{"/usr/bin/perl", "-e", tc.script}}, "/", filepath.Join(parent, "m"), tc.lim)
			var le *LimitError
			if !errors.As(err, &le) || le.Limit != tc.limit {
				t.Fatalf("Fetch: %v, want a *LimitError on %s", err, tc.limit)
			}
			if entries, _ := os.ReadDir(parent); len(entries) != 0 {
				t.Errorf("left behind: %v", entries)
			}
		})
	}
}

// A Server that stops answering is given up at Limits.Timeout.
func TestFetchGivesUpOnAStalledServer(t *testing.T) {
	conn := connect(t)
	stalled := cannedConn{conn, []string{"/bin/sh", "-c", `printf 'socketbar-mirror 1\n'; exec sleep 600`}}
	parent := t.TempDir()
	_, err := Fetch(testContext(t), stalled, "/", filepath.Join(parent, "m"), Limits{Timeout: 2 * time.Second})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Fetch: %v, want the deadline", err)
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
	// The connection is still good for the next command.
	if out, err := conn.Run(testContext(t), []string{"printf", "alive"}, nil); err != nil || string(out.Stdout) != "alive" {
		t.Errorf("the connection after a stalled fetch: %q, %v", out.Stdout, err)
	}
}
