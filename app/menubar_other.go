//go:build !darwin

package app

// setMenuBarOnly does nothing where there is no menu bar or Dock.
func setMenuBarOnly() {}
