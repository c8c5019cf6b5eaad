// Package assets holds Socketbar's images, embedded in the binary.
//
// The tray images are macOS template images: black shapes on transparent,
// which the menu bar tints for light and dark mode. tray.png is 22×22 points
// at @1x, tray@2x.png the same at 44×44 for Retina displays.
package assets
