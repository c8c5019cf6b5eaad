package serverctl

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/socketbar/socketbar/serverctl/run"
)

// ConfigTester runs Apache's config test on a file.
type ConfigTester interface {
	Test(ctx context.Context, path string) (output string, err error)
}

// HTTPDTester runs `httpd -t` the way the Service Proxy would read the file:
// the launchd job's program (on a Mac, Apple's wrapper, which sets CERT_ID
// and the PROXY_* defines), its -D defines and its environment.
type HTTPDTester struct {
	Binary  string
	Defines []string
	Env     []string
	Runner  run.Runner
}

// Command is the command line that tests path.
func (t HTTPDTester) Command(path string) run.Command {
	args := []string{"-t", "-f", path}
	for _, d := range t.Defines {
		args = append(args, "-D", d)
	}
	return run.Command{Path: t.Binary, Args: args, Env: t.Env}
}

// Test implements ConfigTester.
func (t HTTPDTester) Test(ctx context.Context, path string) (string, error) {
	r := t.Runner
	if r == nil {
		r = run.Exec{}
	}
	out, err := r.Run(ctx, t.Command(path))
	return strings.TrimSpace(string(out)), err
}

// ConfigTestError is a new config that Apache refused; nothing was written.
type ConfigTestError struct {
	// Output is what Apache said of the new config; its line numbers are
	// the new text's.
	Output string
	// Already says Apache refuses the config as it is on disk too: the
	// cause is there already, not in the change.
	Already bool
}

func (e *ConfigTestError) Error() string {
	if e.Already {
		return "Apache's config test fails for the config as it is, before this change (nothing was written):\n" + e.Output
	}
	return "Apache's config test failed for the new config (nothing was written):\n" + e.Output
}

// test runs the config test once on the whole new set: the main config's
// copy includes the other files' copies in their place. The copies live in
// a folder of their own in the backup folder, never beside the config:
// there a copy a killed Socketbar left could be read as part of the config
// (a folder Include reads every file in it, hidden ones too), and only the
// next change would remove it.
func (a *Applier) test(ctx context.Context, files []FileEdit) error {
	d := a.disk()
	dir, err := makeTestDir(d, a.Backups.Dir)
	if err != nil {
		return errorf("write the config to test: %w", err)
	}
	defer removeTree(d, dir)
	redirect := map[string]string{}
	for i, f := range files[1:] {
		name, err := writeTestCopy(d, dir, i+1, f.Path, f.New, f.info)
		if err != nil {
			return err
		}
		redirect[filepath.Clean(f.Path)] = a.onServer(name)
	}
	text := files[0].New
	if len(redirect) > 0 {
		var err error
		if text, err = redirectIncludes(text, redirect, a.ResolveInclude); err != nil {
			return err
		}
	}
	name, err := writeTestCopy(d, dir, 0, a.ConfigPath, text, files[0].info)
	if err != nil {
		return err
	}
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := a.Tester.Test(tctx, name)
	if err != nil {
		// Apache refuses a config with an exit status and says why; a
		// command that ended with neither did not run to its end (a
		// Server over SSH whose root agent or connection was lost).
		var exit interface{ ExitCode() int }
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) || out == "" && !errors.As(err, &exit) {
			return errorf("cannot run the config test: %w", err)
		}
		out = strings.ReplaceAll(out, a.onServer(name), a.onServer(a.ConfigPath))
		for real, tmp := range redirect {
			out = strings.ReplaceAll(out, tmp, real)
		}
		// Whether the config on disk passes says whose fault it is; its
		// output then has the file's own line numbers.
		if cur, err := a.Tester.Test(tctx, a.ConfigPath); err != nil && cur != "" && tctx.Err() == nil {
			return &ConfigTestError{Output: cur, Already: true}
		}
		return &ConfigTestError{Output: out}
	}
	return nil
}

// onServer is path p as the Server's httpd names it.
func (a *Applier) onServer(p string) string {
	if a.textPath == nil {
		return p
	}
	return a.textPath(p)
}

// makeTestDir makes a new folder for the config test's copies in the
// backup folder dir on d, for this user alone, and returns its name.
func makeTestDir(d Disk, dir string) (string, error) {
	return createUnique(dir, strings.TrimSuffix(testDirPattern, "*"), func(name string) error { return d.Mkdir(name, 0o700) })
}

// writeTestCopy writes text to a new file in dir on d, named after path
// (the i-th file of the change, so that two files of one name do not
// collide), with the mode of like, and returns its name.
func writeTestCopy(d Disk, dir string, i int, path string, text []byte, like fs.FileInfo) (string, error) {
	name := filepath.Join(dir, fmt.Sprintf("%d-%s", i, filepath.Base(path)))
	if err := d.WriteNew(name, text, like.Mode().Perm(), nil); err != nil {
		return "", errorf("write the config to test: %w", err)
	}
	return name, nil
}
