// Command trayhost stands in for a desktop panel's tray host on a session
// bus that has none (Xvfb in idle.sh and tests by hand): it owns
// org.kde.StatusNotifierWatcher and accepts every StatusNotifierItem, so
// Socketbar sees a tray and runs as a menu-bar app. It draws nothing.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/godbus/dbus/v5"
)

// watcher answers the one call Fyne's tray makes.
type watcher struct{}

// RegisterStatusNotifierItem accepts the item.
func (watcher) RegisterStatusNotifierItem(string) *dbus.Error { return nil }

func main() {
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		fmt.Fprintln(os.Stderr, "trayhost:", err)
		os.Exit(1)
	}
	defer conn.Close()
	if err := conn.Export(watcher{}, "/StatusNotifierWatcher", "org.kde.StatusNotifierWatcher"); err != nil {
		fmt.Fprintln(os.Stderr, "trayhost:", err)
		os.Exit(1)
	}
	reply, err := conn.RequestName("org.kde.StatusNotifierWatcher", dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		fmt.Fprintln(os.Stderr, "trayhost: another tray host owns org.kde.StatusNotifierWatcher", err)
		os.Exit(1)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
}
