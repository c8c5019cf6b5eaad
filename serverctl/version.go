package serverctl

import (
	"fmt"
	"regexp"
	"strconv"
)

// Version is an Apache httpd version. The zero value means unknown, which
// is different from any real version: Socketbar never guesses features of an
// Apache it could not identify.
type Version struct {
	Major, Minor, Patch int
}

var versionPattern = regexp.MustCompile(`^(\d+)\.(\d+)\.(\d+)$`)

// ParseVersion parses "2.4.23".
func ParseVersion(s string) (Version, error) {
	m := versionPattern.FindStringSubmatch(s)
	if m == nil {
		return Version{}, fmt.Errorf("%q is not an Apache version like 2.4.23", s)
	}
	var v Version
	for i, p := range []*int{&v.Major, &v.Minor, &v.Patch} {
		n, err := strconv.Atoi(m[i+1])
		if err != nil {
			return Version{}, fmt.Errorf("%q is not an Apache version like 2.4.23", s)
		}
		*p = n
	}
	return v, nil
}

var httpdVersionLine = regexp.MustCompile(`Apache/(\d+\.\d+\.\d+)`)

// parseHTTPDVersionOutput reads the output of `httpd -v`
// ("Server version: Apache/2.4.23 (Unix)").
func parseHTTPDVersionOutput(out []byte) (Version, error) {
	m := httpdVersionLine.FindSubmatch(out)
	if m == nil {
		return Version{}, fmt.Errorf("no Apache/X.Y.Z in httpd -v output")
	}
	return ParseVersion(string(m[1]))
}

// HasUpgradeParam reports whether ProxyPass accepts upgrade=websocket on
// http:// workers: mod_proxy_http gained it in httpd 2.4.47. Older versions
// fail the config test with "ProxyPass unknown Worker parameter".
func (v Version) HasUpgradeParam() bool { return v.AtLeast(Version{2, 4, 47}) }

// Known reports whether the version was identified.
func (v Version) Known() bool { return v != Version{} }

// AtLeast reports whether v is known and not older than min.
func (v Version) AtLeast(min Version) bool {
	if !v.Known() {
		return false
	}
	if v.Major != min.Major {
		return v.Major > min.Major
	}
	if v.Minor != min.Minor {
		return v.Minor > min.Minor
	}
	return v.Patch >= min.Patch
}

func (v Version) String() string {
	if !v.Known() {
		return "unknown"
	}
	return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
}

// MarshalText writes the version as "2.4.23", or "" when unknown.
func (v Version) MarshalText() ([]byte, error) {
	if !v.Known() {
		return []byte{}, nil
	}
	return []byte(v.String()), nil
}
