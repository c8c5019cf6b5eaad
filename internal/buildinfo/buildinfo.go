// Package buildinfo tells which macOS a build of Socketbar needs.
//
// Go writes the oldest macOS a binary runs on into its Mach-O header
// (LC_BUILD_VERSION's minos, or LC_VERSION_MIN_MACOSX in older
// toolchains), and dyld refuses to start the binary on anything older.
// Since Go 1.25 that is macOS 12, while the Servers that have Websites run
// OS X 10.10 to macOS 10.13: `socketbar version` says so from the header
// itself, and CI checks the header of each darwin build against README.
package buildinfo

import (
	"debug/macho"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Mach-O load commands that carry the minimum OS (<mach-o/loader.h>).
const (
	lcVersionMinMacOSX = 0x24
	lcBuildVersion     = 0x32
	platformMacOS      = 1
)

// Version is a macOS version as Mach-O encodes it: X.Y.Z.
type Version struct{ Major, Minor, Patch int }

// String is "12.0", or "10.13.4" when the patch level is set.
func (v Version) String() string {
	s := fmt.Sprintf("%d.%d", v.Major, v.Minor)
	if v.Patch != 0 {
		s += "." + strconv.Itoa(v.Patch)
	}
	return s
}

// Less reports whether v is older than w.
func (v Version) Less(w Version) bool {
	if v.Major != w.Major {
		return v.Major < w.Major
	}
	if v.Minor != w.Minor {
		return v.Minor < w.Minor
	}
	return v.Patch < w.Patch
}

// ParseVersion reads "12", "12.0" or "10.13.4".
func ParseVersion(s string) (Version, error) {
	parts := strings.Split(s, ".")
	if len(parts) > 3 {
		return Version{}, fmt.Errorf("buildinfo: %q is not a macOS version (X.Y.Z)", s)
	}
	var n [3]int
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 || v > 0xffff {
			return Version{}, fmt.Errorf("buildinfo: %q is not a macOS version (X.Y.Z)", s)
		}
		n[i] = v
	}
	return Version{n[0], n[1], n[2]}, nil
}

// decode unpacks Mach-O's xxxx.yy.zz nibble encoding.
func decode(v uint32) Version {
	return Version{int(v >> 16), int(v >> 8 & 0xff), int(v & 0xff)}
}

// ErrNoMinimum means the Mach-O file names no minimum macOS (it is not a
// macOS binary, or a very old one).
var ErrNoMinimum = errors.New("buildinfo: the Mach-O file names no minimum macOS")

// MinMacOS returns the oldest macOS the Mach-O file in r runs on. A
// universal (fat) file needs the newest of its slices' minimums to run
// everywhere it claims to, so that is what it returns.
func MinMacOS(r io.ReaderAt) (Version, error) {
	fat, ferr := macho.NewFatFile(r)
	if ferr == nil {
		defer fat.Close()
		var newest Version
		for _, a := range fat.Arches {
			v, err := minOf(a.File)
			if err != nil {
				return Version{}, fmt.Errorf("%s slice: %w", a.Cpu, err)
			}
			if newest.Less(v) {
				newest = v
			}
		}
		return newest, nil
	}
	f, err := macho.NewFile(r)
	if err != nil {
		if !errors.Is(ferr, macho.ErrNotFat) {
			err = ferr
		}
		return Version{}, fmt.Errorf("buildinfo: not a Mach-O file: %w", err)
	}
	defer f.Close()
	return minOf(f)
}

// minOf reads the minimum from one Mach-O file's load commands, which
// debug/macho keeps as raw bytes when it has no type for them.
func minOf(f *macho.File) (Version, error) {
	for _, l := range f.Loads {
		raw := l.Raw()
		if len(raw) < 16 {
			continue
		}
		switch f.ByteOrder.Uint32(raw) {
		case lcBuildVersion:
			// cmd, cmdsize, platform, minos, sdk, ntools
			if f.ByteOrder.Uint32(raw[8:]) == platformMacOS {
				return decode(f.ByteOrder.Uint32(raw[12:])), nil
			}
		case lcVersionMinMacOSX:
			// cmd, cmdsize, version, sdk
			return decode(f.ByteOrder.Uint32(raw[8:])), nil
		}
	}
	return Version{}, ErrNoMinimum
}

// goMinimums is the oldest macOS each Go release's darwin builds run on,
// from Go's release notes: the linker writes it into every binary, so it
// holds for Socketbar whatever Socketbar's own code calls.
var goMinimums = []struct {
	minor int // Go 1.N
	macOS Version
}{
	{25, Version{12, 0, 0}},
	{23, Version{11, 0, 0}},
	{21, Version{10, 15, 0}},
	{18, Version{10, 13, 0}},
	{17, Version{10, 12, 0}},
}

// MinMacOSForGo returns the oldest macOS a darwin build made with the Go
// release goVersion ("go1.26.8", as runtime.Version says) runs on; ok is
// false for a release it does not know (a development build, or one
// older than Go 1.17).
func MinMacOSForGo(goVersion string) (v Version, ok bool) {
	rest, found := strings.CutPrefix(goVersion, "go1.")
	if !found {
		return Version{}, false
	}
	digits := rest[:len(rest)-len(strings.TrimLeft(rest, "0123456789"))]
	minor, err := strconv.Atoi(digits)
	if err != nil {
		return Version{}, false
	}
	for _, m := range goMinimums {
		if minor >= m.minor {
			return m.macOS, true
		}
	}
	return Version{}, false
}

// Requirement says in one sentence which macOS this build needs, for
// `socketbar version`: on macOS from the binary's own Mach-O header (exe),
// elsewhere what the darwin builds of the same Go release need.
func Requirement(goos, goVersion, exe string) string {
	if goos == "darwin" {
		if f, err := os.Open(exe); err == nil {
			v, err := MinMacOS(f)
			f.Close()
			if err == nil {
				return fmt.Sprintf("This build needs macOS %s or later (its Mach-O header says so).", v)
			}
		}
	}
	v, ok := MinMacOSForGo(goVersion)
	switch {
	case !ok:
		return fmt.Sprintf("Built with %s, whose minimum macOS Socketbar does not know.", goVersion)
	case goos == "darwin":
		return fmt.Sprintf("This build needs macOS %s or later (the minimum of %s).", v, goVersion)
	}
	return fmt.Sprintf("macOS builds made with %s need macOS %s or later.", goVersion, v)
}
