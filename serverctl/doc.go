// Package serverctl finds a macOS Server 5 installation, models its Service
// Proxy config and edits WebSocket routes into it, and puts a change in
// place through one transaction: config test, backup, atomic write,
// restart, verify, rollback, with a journal that a killed run leaves for
// the next one to finish.
//
// Every path is looked up under a root directory so that tests and the demo
// run on a tree shaped like a Mac; on a real Server the root is "/". Paths
// stored in a Server value are as they appear on the Mac (what Apple's files
// and the launchd job name); HostPath maps them under the root.
//
// # Sub-packages
//
//   - action: every user action, once, for the CLI and the app.
//   - apacheconf: the lossless Apache config parser; apacheconf/loader reads
//     the whole config Apache reads (Include, IncludeOptional, mod_macro).
//   - sites: the Server's websites, the default hosts and each custom site.
//   - elevate: the administrator prompt and the privileged half of a change.
//   - lint: the mistakes that stop WebSockets, with their fixes.
//   - service: the launchd and httpd drivers of the Service Proxy.
//   - run: command lines and the runner that runs them.
//   - demo: a stand-in Server that runs on any machine with Apache.
//   - apachetest, servertest, action/actiontest: helpers for tests.
package serverctl
