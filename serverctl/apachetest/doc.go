// Package apachetest runs a real Apache httpd on loopback for tests.
//
// Localize turns a Service Proxy config written for a Mac into one the
// httpd on this machine can load, without touching the route lines under
// test (they are re-emitted word for word): module paths resolve through a folder of symbolic links to the local
// modules (the launchd job's MODULE_INSTALL_PATH_PREFIX, or ServerRoot for
// relative paths), Mac folders move under a temporary root, certificates
// are generated, and every Listen port is swapped for a loopback port
// reserved for the test (FreePort), so test packages may run in parallel.
//
// Tests call Require first: without httpd they skip, but under CI (the CI
// environment variable set) a missing httpd fails the test.
package apachetest
