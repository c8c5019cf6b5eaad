// Package mirror reads a Server over SSH by copying the files Socketbar
// reads into a private local folder laid out as a --root tree, so that
// discovery, the loader, sites, lint, routes and status run on it unchanged
// (issue 17). Nothing is installed or written on the Server.
//
// # Reading
//
// Fetch streams a perl program (fetch.pl) to /usr/bin/perl over one SSH
// channel, with the list of what to fetch after it; the program answers
// with a framed stream (per path: kind, mode, size, modification time,
// symlink target, then exactly the bytes announced), ended by a count.
// The first round trip asks for everything a Server 5 keeps where
// Socketbar looks: Server.app's version plists and launchd job, all of
// /Library/Server/Web/Config, the end of the error log, and whether httpd,
// Server.app's wrapper and Apple's module files exist (placeholders, never
// their bytes). Fetch then reads the mirror as the readers will and asks,
// in a further round trip, for what they would miss: files the config
// includes from elsewhere (wildcards are matched loosely there and exactly
// here), a config, log or program the launchd job names elsewhere, module
// folders elsewhere. A stock Server takes one round trip.
//
// A symlink on the Server is recorded (File.Link, for the write step, which
// must write through it as the local path does) and mirrored as what it
// points to; the mirror itself never holds a symlink. File also keeps each
// file's size, modification time and SHA-256, so that a later change can
// check that the Server's file is still the one read.
//
// # Commands on the Server
//
// What must run on the Server (httpd -v, the config test, launchctl) goes
// through Runner, a run.Runner that maps paths in the mirror back to the
// Server's and runs the command over the same connection, if
// remote.Commands lists it.
//
// # A hostile Server
//
// Whatever the Server sends, memory and time are bounded (Limits: records,
// bytes per file and in all, path length, rounds, a timeout), nothing is
// written outside the mirror folder, no path with "..", no relative path
// and no path outside what was asked for is accepted, and a stream that
// breaks the format is a *FrameError, *LimitError or *RefusedPathError,
// after which nothing of the fetch is kept.
package mirror
