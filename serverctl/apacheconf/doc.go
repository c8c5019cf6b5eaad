// Package apacheconf is a lossless model of Apache httpd configuration files.
//
// Apple's Server.app rewrites apache_serviceproxy.conf with its own tools and
// admins diff it by eye, so an editor must never reformat a line it did not
// change. Every node keeps the exact bytes it was parsed from (indentation,
// tabs, trailing spaces, line endings, continuation backslashes), and
// printing an unmodified tree returns the input byte for byte. Edits insert
// or remove whole nodes; only new nodes carry new bytes.
//
// The tokenizer follows Apache's own rules (server/util.c ap_getword_conf and
// ap_cfg_getline): a line ending in a backslash continues on the next line,
// a line whose first non-blank character is '#' is a comment, arguments are
// separated by blanks and may be quoted with " or ' using backslash escapes.
package apacheconf
