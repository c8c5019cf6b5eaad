package mirror

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/socketbar/socketbar/serverctl"
)

// perlStream is what fetch.pl, run by this machine's perl, writes for the
// base requests on the tree at root: a well-formed stream.
func perlStream(t testing.TB, root string) []byte {
	t.Helper()
	if _, err := os.Stat("/usr/bin/perl"); err != nil {
		t.Skip("no /usr/bin/perl for a seed")
	}
	m := &Mirror{RemoteRoot: root, limits: Limits{}.orDefaults()}
	cmd := exec.Command(fetchArgv[0], fetchArgv[1:]...)
	cmd.Stdin = strings.NewReader(m.input(baseRequests()))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("perl: %v", err)
	}
	return out
}

// FuzzFrames feeds the frame reader and the mirror's writer any bytes:
// whatever comes, nothing panics, nothing is written outside the mirror,
// no symlink is made, the limits hold, and a failure is a typed error.
func FuzzFrames(f *testing.F) {
	root := serve(f, "5.3.1-sites")
	link(f, root, ConfigDir+"/link.conf", root+serverctl.DefaultConfigPath)
	f.Add(perlStream(f, root))
	for _, tc := range hostileCases() {
		if len(tc.stream) < 64<<10 {
			f.Add([]byte(tc.stream))
		}
	}
	f.Add([]byte(stream(frame("t", "644", "9", "/private/var/log/apache2/service_proxy_error.log", "", "abc"),
		frame("e", "755", "9", "/usr/sbin/httpd", "", ""), frame("b", "644", "99999999", "/Library/Server/Web/Config/big", "", ""),
		frame("n", "0", "0", "/Library/Server/Web/Config/gone", "/x", ""), frame("x", "0", "0", "/Library/Server/Web/Config/no", "", "denied"))))
	lim := Limits{Files: 64, FileSize: 4 << 10, Total: 256 << 10, Path: 256, Tail: 1 << 10}.orDefaults()
	f.Fuzz(func(t *testing.T, data []byte) {
		parent := t.TempDir()
		m := &Mirror{Dir: filepath.Join(parent, "m"), RemoteRoot: "/", Files: map[string]*File{}, limits: lim}
		if err := os.Mkdir(m.Dir, 0o700); err != nil {
			t.Fatal(err)
		}
		reqs := baseRequests()
		fr := newFrameReader(bytes.NewReader(data), lim, lim.Total, lim.Files)
		err := fr.start()
		for err == nil {
			var rec *record
			if rec, err = fr.next(); err == nil {
				err = m.put(rec, reqs)
			}
		}
		var (
			fe *FrameError
			le *LimitError
			re *RefusedPathError
		)
		if !errors.Is(err, io.EOF) && !errors.As(err, &fe) && !errors.As(err, &le) && !errors.As(err, &re) {
			t.Errorf("an untyped error: %v", err)
		}
		if entries, _ := os.ReadDir(parent); len(entries) != 1 {
			t.Errorf("written next to the mirror: %v", entries)
		}
		n := 0
		filepath.WalkDir(m.Dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			n++
			if d.Type()&fs.ModeSymlink != 0 {
				t.Errorf("a symlink in the mirror: %s", p)
			}
			if fi, err := d.Info(); err == nil && fi.Mode().IsRegular() && fi.Size() > lim.FileSize+1 {
				t.Errorf("%s: %d bytes, over the limit", p, fi.Size())
			}
			return nil
		})
		// Each record makes its path and at most one folder per segment.
		if n > 1+lim.Files*(lim.Path/2+1) {
			t.Errorf("%d entries in the mirror for at most %d records", n, lim.Files)
		}
		if fr.cr.n > lim.Total+1 {
			t.Errorf("read %d bytes, limit %d", fr.cr.n, lim.Total)
		}
		for p := range m.Files {
			if checkPath(p) != nil || len(p) > lim.Path {
				t.Errorf("recorded a path the reader should have refused: %q", p)
			}
		}
	})
}
