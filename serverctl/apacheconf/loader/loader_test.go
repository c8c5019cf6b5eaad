package loader

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// tree writes files (Mac path → text) below a new root and returns it.
func tree(t testing.TB, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, text := range files {
		local := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(local), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(local, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// directives lists "Name args@file:line" for every directive in reading
// order, skipping Include/Use lines themselves (their output is listed).
func directives(c *Config) []string {
	var out []string
	c.Walk(func(n *Node) bool {
		if n.Kind.String() == "directive" && !n.Is("Include") && !n.Is("IncludeOptional") && !n.Is("Use") && !n.Is("ServerRoot") && !n.Is("Define") {
			out = append(out, fmt.Sprintf("%s %s@%s:%d", n.Name, strings.Join(n.Args, " "), filepath.Base(n.Pos.File), n.Pos.Line))
		}
		return true
	})
	return out
}

const main = "/etc/main.conf"

func load(t testing.TB, root string, opt Options) (*Config, error) {
	t.Helper()
	opt.Root = root
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return Load(ctx, filepath.Join(root, filepath.FromSlash(main)), opt)
}

func TestIncludes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		opt   Options
		want  string // directives joined by " | ", or the error text to find
		err   error
	}{
		{
			name: "glob sorted by name, in place",
			files: map[string]string{
				main:                       "A 1\nInclude /etc/conf.d/*.conf\nZ 1\n",
				"/etc/conf.d/b.conf":       "B 1\n",
				"/etc/conf.d/a.conf":       "A 2\n",
				"/etc/conf.d/B.conf":       "UPPER 1\n",
				"/etc/conf.d/.hidden.conf": "HIDDEN 1\n",
				"/etc/conf.d/c.txt":        "NOT 1\n",
			},
			want: "A 1@main.conf:1 | UPPER 1@B.conf:1 | A 2@a.conf:1 | B 1@b.conf:1 | Z 1@main.conf:3",
		},
		{
			name: "relative to ServerRoot, which the config may set",
			files: map[string]string{
				main:               "Include conf/x.conf\nServerRoot /srv\nInclude conf/x.conf\n",
				"/usr/conf/x.conf": "USR 1\n",
				"/srv/conf/x.conf": "SRV 1\n",
			},
			want: "USR 1@x.conf:1 | SRV 1@x.conf:1",
		},
		{
			name:  "variables from the job and Define",
			files: map[string]string{main: "Define SUB d\nInclude ${TOP}/${SUB}/x.conf\n", "/etc/d/x.conf": "X ${SUB}\n"},
			opt:   Options{Vars: map[string]string{"TOP": "/etc"}},
			want:  "X d@x.conf:1",
		},
		{
			name:  "include inside a section is in that section",
			files: map[string]string{main: "<VirtualHost *:443>\nInclude /etc/v.conf\n</VirtualHost>\n", "/etc/v.conf": "ServerName a.example.com\n"},
			want:  "ServerName a.example.com@v.conf:1",
		},
		{
			name:  "folder include reads its files sorted, sub-folders too",
			files: map[string]string{main: "Include /etc/d\n", "/etc/d/2.conf": "TWO 1\n", "/etc/d/1/x.conf": "ONE 1\n"},
			want:  "ONE 1@x.conf:1 | TWO 1@2.conf:1",
		},
		{name: "missing Include", files: map[string]string{main: "Include /etc/none.conf\n"}, want: "main.conf:1", err: os.ErrNotExist},
		{name: "missing IncludeOptional", files: map[string]string{main: "IncludeOptional /etc/none.conf\nA 1\n"}, want: "A 1@main.conf:2"},
		{name: "Include glob matching nothing", files: map[string]string{main: "Include /etc/*.none\n"}, want: "main.conf:1", err: ErrNoMatch},
		{name: "IncludeOptional glob matching nothing", files: map[string]string{main: "IncludeOptional /etc/*.none\nA 1\n"}, want: "A 1@main.conf:2"},
		{name: "IncludeOptional glob in a missing folder", files: map[string]string{main: "IncludeOptional /nowhere/*.conf\nA 1\n"}, want: "A 1@main.conf:2"},
		{
			name:  "cycle names the chain",
			files: map[string]string{main: "Include /etc/a.conf\n", "/etc/a.conf": "\nInclude /etc/b.conf\n", "/etc/b.conf": "Include /etc/main.conf\n"},
			want:  "/etc/main.conf:1 → /etc/a.conf:2 → /etc/b.conf:1 → /etc/main.conf", err: ErrCycle,
		},
		{
			name:  "depth bound",
			files: map[string]string{main: "Include /etc/1.conf\n", "/etc/1.conf": "Include /etc/2.conf\n", "/etc/2.conf": "Include /etc/3.conf\n", "/etc/3.conf": "X 1\n"},
			opt:   Options{MaxDepth: 3},
			want:  "more than 3 levels", err: ErrTooDeep,
		},
		{
			name:  "file count bound (a file included twice counts twice)",
			files: map[string]string{main: "Include /etc/x.conf\nInclude /etc/x.conf\nInclude /etc/x.conf\n", "/etc/x.conf": "X 1\n"},
			opt:   Options{MaxFiles: 3},
			want:  "more than 3", err: ErrTooManyFiles,
		},
		{
			name:  "size bound",
			files: map[string]string{main: "Include /etc/big.conf\n", "/etc/big.conf": strings.Repeat("# padding\n", 20)},
			opt:   Options{MaxFileSize: 100},
			want:  "big.conf", err: ErrTooLarge,
		},
		{name: "unbalanced section names its file and line", files: map[string]string{main: "Include /etc/x.conf\n", "/etc/x.conf": "A 1\n<VirtualHost *:80>\n"}, want: "/etc/x.conf:2"},
		{name: "Include with two paths", files: map[string]string{main: "Include /a /b\n"}, want: "takes one path"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := tree(t, tc.files)
			c, err := load(t, root, tc.opt)
			if tc.err != nil || !strings.Contains(tc.want, "@") {
				if err == nil {
					t.Fatalf("loaded, want an error containing %q", tc.want)
				}
				if tc.err != nil && !errors.Is(err, tc.err) {
					t.Errorf("error %v does not wrap %v", err, tc.err)
				}
				if !strings.Contains(err.Error(), tc.want) {
					t.Errorf("error %q does not contain %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(directives(c), " | "); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestIncludeFromRecordsItsLine: every included file says which line
// pulled it in, and its nodes hang below that Include node.
func TestIncludeFromRecordsItsLine(t *testing.T) {
	root := tree(t, map[string]string{main: "\n\nInclude /etc/x.conf\n", "/etc/x.conf": "X 1\n"})
	c, err := load(t, root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Files) != 2 || c.Files[1].From == nil || *c.Files[1].From != (Pos{main, 3}) {
		t.Fatalf("files %+v, want x.conf from %s:3", c.Files, main)
	}
	var x *Node
	c.Walk(func(n *Node) bool {
		if n.Is("X") {
			x = n
		}
		return true
	})
	if x == nil || x.Parent == nil || !x.Parent.Is("Include") || x.File != c.Files[1] {
		t.Fatalf("X node %+v is not below its Include", x)
	}
}

func TestSymlinkLoopAndSpecialFiles(t *testing.T) {
	root := tree(t, map[string]string{main: "Include /etc/inc.conf\n"})
	inc := filepath.Join(root, "etc/inc.conf")

	t.Run("symlink loop", func(t *testing.T) {
		other := filepath.Join(root, "etc/other.conf")
		if err := os.Symlink(other, inc); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(inc, other); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(inc)
		defer os.Remove(other)
		_, err := load(t, root, Options{})
		if err == nil || !strings.Contains(err.Error(), "/etc/inc.conf") {
			t.Fatalf("err = %v, want a failure naming /etc/inc.conf", err)
		}
	})
	t.Run("FIFO refused without blocking", func(t *testing.T) {
		if err := syscall.Mkfifo(inc, 0o644); err != nil {
			t.Skipf("mkfifo: %v", err)
		}
		defer os.Remove(inc)
		done := make(chan error, 1)
		go func() { _, err := load(t, root, Options{}); done <- err }()
		select {
		case err := <-done:
			if !errors.Is(err, ErrNotRegular) {
				t.Fatalf("err = %v, want ErrNotRegular", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Load blocked on a FIFO")
		}
	})
	t.Run("device refused", func(t *testing.T) {
		if err := os.Symlink("/dev/zero", inc); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(inc)
		if _, err := load(t, root, Options{}); !errors.Is(err, ErrNotRegular) {
			t.Fatalf("err = %v, want ErrNotRegular", err)
		}
	})
}

func TestContextCancel(t *testing.T) {
	root := tree(t, map[string]string{main: "A 1\n"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Load(ctx, filepath.Join(root, "etc/main.conf"), Options{Root: root}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// TestIncludeOfAPathBelowTheRoot reads a tree made to run on this machine,
// whose Include names the file's real path below the root: it is read once,
// under its Mac path, not looked for below the root a second time.
func TestIncludeOfAPathBelowTheRoot(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "Library/Server/Web/Config/Proxy")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	main := filepath.Join(dir, "main.conf")
	if err := os.WriteFile(main, []byte("IncludeOptional "+filepath.ToSlash(dir)+"/extra*.conf\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "extra.conf"), []byte("ServerName x.example.com\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(context.Background(), main, Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Files) != 2 || c.Files[1].Path != "/Library/Server/Web/Config/Proxy/extra.conf" {
		var got []string
		for _, f := range c.Files {
			got = append(got, f.Path)
		}
		t.Fatalf("files read = %v, want the main file and /Library/Server/Web/Config/Proxy/extra.conf", got)
	}
}

// A tree on a Server reached over SSH names its own files under its
// folder there (RootName); mirrored here in Root, those paths are read
// below Root, and a path that only starts like RootName is not.
func TestIncludeOfAPathBelowTheRootName(t *testing.T) {
	root := tree(t, map[string]string{
		main:              "Include /srv/tree/etc/extra.conf\nIncludeOptional /srv/treehouse/etc/other.conf\n",
		"/etc/extra.conf": "ServerName x.example.com\n",
		// Where the look-alike would land if it were taken for the tree.
		"/house/etc/other.conf": "ServerName wrong.example.com\n",
	})
	c, err := load(t, root, Options{RootName: "/srv/tree"})
	if err != nil {
		t.Fatal(err)
	}
	got := directives(c)
	if len(got) != 1 || got[0] != "ServerName x.example.com@extra.conf:1" {
		t.Errorf("directives = %v; want only extra.conf's, read below the root", got)
	}
	if _, err := load(t, root, Options{}); err == nil {
		t.Error("without RootName the tree's path was found: the test proves nothing")
	}
}
