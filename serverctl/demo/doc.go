// Package demo runs a stand-in for macOS Server 5 on any machine with an
// Apache httpd, so that Socketbar can be tried for real without a Server.
//
// Prepare extracts a Server-shaped tree (launchd job, version plists, a
// webapp, and a Service Proxy config in the shape of Server 5.3.1's) into a
// folder, rendered for this machine: loopback ports reserved when the tree
// is made, module links to the local httpd's modules, a certificate, and the
// launchd job's program linked to the local httpd. It has one custom website,
// CustomSite, made as Server 5.2+ makes them: the VHost443/VHost80 macros in
// the main config, a Use line per port in the customsites file, its own
// certificate, and an entry in Server.app's site list; a client reaches it on
// 127.0.0.1 by sending its name as the Host and the TLS SNI. A tree made by
// an earlier version gets what it lacks when it is prepared again. Start runs the Websites
// tier and then the Service Proxy with the same httpd driver Socketbar's
// transaction uses, so adding a route, restarting and testing all work.
// Without an httpd the tree is still made: routes, lint and previews work,
// and Start says what is missing.
package demo
