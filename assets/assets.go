package assets

import _ "embed"

// Icon is the 512×512 application icon (also named in FyneApp.toml).
//
//go:embed icon.png
var Icon []byte

// Tray is the 22×22 menu-bar template icon.
//
//go:embed tray.png
var Tray []byte

// Tray2x is the 44×44 menu-bar template icon for Retina displays.
//
//go:embed tray@2x.png
var Tray2x []byte
