// Package run runs programs for the rest of serverctl: httpd, launchctl,
// osascript. A command line is data (program, arguments, environment),
// never a shell string, and the Runner interface lets tests check the exact
// command lines that cannot run on Linux.
package run
