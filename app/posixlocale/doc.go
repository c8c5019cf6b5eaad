// Package posixlocale keeps Fyne quiet under the C locale.
//
// Fyne reads the user's locale while its lang package initialises and logs
// "Error parsing user locale C" six times when LANG is C.UTF-8 (Debian's
// default, and every container's), before main can do anything about it.
// Importing this package from package app sets LANGUAGE=en in that one case; its
// init runs first because Go initialises ready packages in import-path order
// and Fyne's lang package waits for golang.org/x/text, which sorts after this
// path. gettext ignores LANGUAGE under a C locale, so programs Socketbar
// starts behave exactly as before.
package posixlocale
