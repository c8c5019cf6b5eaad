//go:build darwin

package app

/*
#cgo CFLAGS: -x objective-c
#cgo LDFLAGS: -framework Cocoa
#import <Cocoa/Cocoa.h>

static void socketbarAccessory(void) {
	[NSApp setActivationPolicy:NSApplicationActivationPolicyAccessory];
}
*/
import "C"

// setMenuBarOnly hides the Dock icon and keeps the app in the menu bar
// (the accessory activation policy; LSUIElement in a packaged app's
// Info.plist does the same from launch).
func setMenuBarOnly() { C.socketbarAccessory() }
