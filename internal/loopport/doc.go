// Package loopport reserves TCP ports on 127.0.0.1 for servers that must be
// told a port number rather than handed a listener: Apache httpd binds its
// Listen addresses itself, and so does a child process started with --addr.
//
// Probing for a port (listen on :0, read the port, close) races: between the
// close and the server's bind, the kernel may hand the same port to any
// listener on :0, and another process probing the same way may pick it too,
// so tests that run in parallel packages fail at random with "Address already
// in use". Reserve closes both gaps. It picks ports outside the kernel's
// ephemeral range, which the kernel never hands out by itself (not to :0
// listeners, not as the local port of an outgoing connection); and it holds
// an exclusive lock on a file named after the port, in a folder shared by
// every process on the machine that uses this package, until Release or the
// end of the process.
package loopport
