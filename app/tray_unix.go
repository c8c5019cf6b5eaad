//go:build linux || freebsd || openbsd || netbsd

package app

import (
	"context"
	"time"

	"github.com/godbus/dbus/v5"
)

// trayHosted reports whether this desktop shows tray icons. Here Fyne's
// tray is a StatusNotifierItem, which appears only when a panel's tray
// host owns org.kde.StatusNotifierWatcher on the session bus; without one
// Fyne (fyne.io/systray) only logs "systray error: failed to register"
// and offers no way to ask, so the app asks the bus itself, on a private
// connection so as not to disturb the tray's own.
func trayHosted(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	conn, err := dbus.ConnectSessionBus(dbus.WithContext(ctx))
	if err != nil {
		return false
	}
	defer conn.Close()
	var owned bool
	err = conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, "org.kde.StatusNotifierWatcher").Store(&owned)
	return err == nil && owned
}
