// Package lint finds the mistakes that stop WebSockets in a Service Proxy
// config: modules the routes need but the file does not load, routes
// shadowed by an earlier rule, upgrades rewritten to plain HTTP, mod_rewrite
// set-ups that Apache ignores, and WebSocket rules put in the Websites tier,
// which never sees an upgrade. Given the whole config Apache reads
// (Options.Loaded), it also finds what only the custom websites show:
// WebSocket routes that reach the default hosts but not a custom site's own
// VirtualHost, Server.app's duplicate VirtualHosts, and mod_macro Use lines
// Apache refuses to start with. Each finding names the line and the fix, in
// words that fit any front end.
package lint
