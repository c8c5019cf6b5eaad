// Package wsframe reads and writes WebSocket frames (RFC 6455 section 5),
// as much as a relay and a tester need: headers, close codes, and frames a
// client or a server may send.
package wsframe
