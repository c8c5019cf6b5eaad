// Package demo runs a stand-in for macOS Server 5 on any machine with an
// Apache httpd, so that Socketbar can be tried for real without a Server.
//
// Prepare extracts a Server-shaped tree (launchd job, version plists, a
// webapp, and a Service Proxy config in the shape of Server 5.3.1's) into a
// folder, rendered for this machine: loopback ports reserved when the tree
// is made, module links to the local httpd's modules, a certificate, and the
// launchd job's program linked to the local httpd. Start runs the Websites
// tier and then the Service Proxy with the same httpd driver Socketbar's
// transaction uses, so adding a route, restarting and testing all work.
// Without an httpd the tree is still made: routes, lint and previews work,
// and Start says what is missing.
package demo
