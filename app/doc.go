// Package app is Socketbar's Fyne user interface: a menu-bar (system tray)
// menu and one window per task. It only shows things and calls Actions,
// which wrap serverctl and proxy; it never parses config or runs commands
// itself.
//
// The fyne.App is created by main (the only importer of
// fyne.io/fyne/v2/app) and handed in, so every window can be built and
// driven headless in tests with fyne.io/fyne/v2/test.
package app
