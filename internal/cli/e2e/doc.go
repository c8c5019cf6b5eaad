// Package e2e holds the end-to-end tests of the socketbar command: they
// build the binary from the module's root package (with and without
// -tags nogui) and run it against Server trees, the real Apache on
// loopback and real WebSocket peers. It has no code of its own.
package e2e
