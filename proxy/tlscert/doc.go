// Package tlscert makes self-signed TLS certificates for local use: the
// test proxy's (socketbar serve), the demo Server's and the test harness's
// Service Proxy. It is a leaf package on the standard library only, so that
// both proxy and serverctl can share one implementation.
//
// Keys are written 0600 and never through a symbolic link: a key file that
// other users can read, or that someone replaced with a link to a file of
// theirs, would hand them the key or let them overwrite a file with it.
package tlscert
