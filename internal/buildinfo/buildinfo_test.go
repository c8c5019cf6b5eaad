package buildinfo

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"testing"
)

// buildDarwin cross-builds the nogui CLI (the module's root package) for
// darwin/arch, as .ci/run and README do, and returns the binary's path.
func buildDarwin(t *testing.T, arch string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("cross-builds the CLI; not in -short")
	}
	out := filepath.Join(t.TempDir(), "socketbar-darwin-"+arch)
	cmd := exec.Command("go", "build", "-tags", "nogui", "-trimpath", "-o", out, "github.com/socketbar/socketbar")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=darwin", "GOARCH="+arch)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build for darwin/%s: %v\n%s", arch, err, b)
	}
	return out
}

func readMin(t *testing.T, path string) Version {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v, err := MinMacOS(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

// readmeMinimum is the macOS version README promises the darwin builds
// need, from its sentence "Builds made with … need macOS N or later".
func readmeMinimum(t *testing.T) Version {
	t.Helper()
	text, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`need macOS (\d+(?:\.\d+)*) or later`).FindAllSubmatch(text, -1)
	if len(m) == 0 {
		t.Fatal(`README.md has no sentence "… need macOS N or later" stating the darwin builds' minimum`)
	}
	v, err := ParseVersion(string(m[0][1]))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range m[1:] {
		if string(o[1]) != string(m[0][1]) {
			t.Fatalf("README.md states two minimums: macOS %s and %s", m[0][1], o[1])
		}
	}
	return v
}

// TestDarwinBuildsNeedWhatREADMESays reads the minimum macOS out of the
// darwin builds' Mach-O headers: it must be what README tells admins, and
// what the Go release table says for this toolchain.
func TestDarwinBuildsNeedWhatREADMESays(t *testing.T) {
	want := readmeMinimum(t)
	fromGo, ok := MinMacOSForGo(runtime.Version())
	for _, arch := range []string{"arm64", "amd64"} {
		got := readMin(t, buildDarwin(t, arch))
		if got != want {
			t.Errorf("darwin/%s build needs macOS %s; README says %s", arch, got, want)
		}
		if ok && got != fromGo {
			t.Errorf("darwin/%s build needs macOS %s; the table says %s for %s", arch, got, fromGo, runtime.Version())
		}
	}
}

// TestMinMacOSOfAFatFile: a universal binary needs the newest of its
// slices' minimums. The fat file is put together here from two slices
// whose headers say different minimums.
func TestMinMacOSOfAFatFile(t *testing.T) {
	old, err := os.ReadFile(buildDarwin(t, "amd64"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(buildDarwin(t, "arm64"))
	if err != nil {
		t.Fatal(err)
	}
	if !setMinimum(old, 0x000a0d00) { // 10.13
		t.Fatal("no LC_BUILD_VERSION in the darwin build")
	}
	if got := readMinBytes(t, old); got != (Version{10, 13, 0}) {
		t.Fatalf("patched slice reads %s, want 10.13", got)
	}
	fat := fatOf(t, old, data)
	if got, want := readMinBytes(t, fat), readMinBytes(t, data); got != want {
		t.Errorf("fat file needs %s, want the newer slice's %s", got, want)
	}
}

func readMinBytes(t *testing.T, b []byte) Version {
	t.Helper()
	v, err := MinMacOS(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// setMinimum rewrites the minos of a little-endian 64-bit Mach-O file's
// LC_BUILD_VERSION in place, walking the load commands by hand (not with
// the code under test).
func setMinimum(b []byte, minos uint32) bool {
	le := binary.LittleEndian
	ncmds := le.Uint32(b[16:])
	off := 32 // mach_header_64
	for i := uint32(0); i < ncmds; i++ {
		cmd, size := le.Uint32(b[off:]), le.Uint32(b[off+4:])
		if cmd == lcBuildVersion {
			le.PutUint32(b[off+12:], minos)
			return true
		}
		off += int(size)
	}
	return false
}

// fatOf puts thin Mach-O files together as a universal binary.
func fatOf(t *testing.T, slices ...[]byte) []byte {
	t.Helper()
	be := binary.BigEndian
	const align = 1 << 14
	out := make([]byte, 8+20*len(slices))
	be.PutUint32(out, 0xcafebabe)
	be.PutUint32(out[4:], uint32(len(slices)))
	for i, s := range slices {
		for len(out)%align != 0 {
			out = append(out, 0)
		}
		e := out[8+20*i:]
		be.PutUint32(e, binary.LittleEndian.Uint32(s[4:]))     // cputype
		be.PutUint32(e[4:], binary.LittleEndian.Uint32(s[8:])) // cpusubtype
		be.PutUint32(e[8:], uint32(len(out)))
		be.PutUint32(e[12:], uint32(len(s)))
		be.PutUint32(e[16:], 14)
		out = append(out, s...)
	}
	return out
}

func TestMinMacOSForGo(t *testing.T) {
	for _, c := range []struct {
		goVersion string
		want      string
	}{
		{"go1.26.8", "12.0"}, {"go1.25", "12.0"}, {"go1.24.3", "11.0"}, {"go1.22rc1", "10.15"},
		{"go1.17.13", "10.12"}, {"go1.16", ""}, {"devel +abc", ""}, {"go1.", ""},
	} {
		v, ok := MinMacOSForGo(c.goVersion)
		got := ""
		if ok {
			got = v.String()
		}
		if got != c.want {
			t.Errorf("MinMacOSForGo(%q) = %q, want %q", c.goVersion, got, c.want)
		}
	}
}

func TestMinMacOSOfGarbage(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("#!/bin/sh\n"), bytes.Repeat([]byte{0xca, 0xfe, 0xba, 0xbe}, 8)} {
		if _, err := MinMacOS(bytes.NewReader(b)); err == nil {
			t.Errorf("MinMacOS(%q) = nil error", b)
		}
	}
}

func TestRequirement(t *testing.T) {
	arm := buildDarwin(t, "arm64")
	for _, c := range []struct{ goos, goVersion, exe, want string }{
		{"darwin", "go1.26.8", arm, "This build needs macOS 12.0 or later (its Mach-O header says so)."},
		{"darwin", "go1.26.8", "/nonexistent", "This build needs macOS 12.0 or later (the minimum of go1.26.8)."},
		{"linux", "go1.24.1", "", "macOS builds made with go1.24.1 need macOS 11.0 or later."},
		{"linux", "devel", "", "Built with devel, whose minimum macOS Socketbar does not know."},
	} {
		if got := Requirement(c.goos, c.goVersion, c.exe); got != c.want {
			t.Errorf("Requirement(%q, %q, %q) = %q, want %q", c.goos, c.goVersion, c.exe, got, c.want)
		}
	}
}
