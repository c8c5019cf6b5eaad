package serverctl

import "github.com/socketbar/socketbar/internal/pkgerr"

// errorf is fmt.Errorf for this package's own errors: their Error() names
// the package for logs, and pkgerr.Text gives people the message without it.
func errorf(format string, args ...any) error { return pkgerr.Errorf("serverctl", format, args...) }
