// Package loader reads the whole configuration an Apache httpd reads: the
// main file, every file it pulls in with Include or IncludeOptional, and
// every VirtualHost a mod_macro "Use" line makes.
//
// Server.app puts each custom website's VirtualHost in a separate file
// (apache_serviceproxy_customsites.conf) and, from Server 5.2 on, builds it
// from a macro defined in the main config. A tool that reads only the main
// file never sees those sites, so a route added there silently misses them.
// Load follows the config the way Apache does and keeps, for every node,
// where its text lives (file and line) and, for macro output, which Use line
// made it, so a caller can both reason about the effective config and edit
// the right file.
//
// Every file is kept as a lossless apacheconf.File. Paths in the config are
// macOS paths; Load maps them below a root folder standing for "/", so a
// copy of a Server's files can be read on any machine. Reading is bounded:
// include depth, number of files, file size, number of nodes, the text all
// Use lines make, a macro line's length (as mod_macro bounds it), and only
// regular files are read (a FIFO or a device is refused without blocking).
//
// What Load does not model: <IfDefine>, <IfModule>, <If> and similar
// conditionals are all treated as true (a site inside a false <IfDefine>
// still appears); ${VAR} is resolved in each argument after quotes are
// removed, not in the raw line before it is split.
package loader
