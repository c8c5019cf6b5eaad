//go:build !(linux || freebsd || openbsd || netbsd)

package app

import "context"

// trayHosted reports whether this desktop shows tray icons: the macOS menu
// bar and the Windows notification area always do.
func trayHosted(context.Context) bool { return true }
