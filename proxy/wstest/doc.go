// Package wstest tests a WebSocket URL the way a browser connects and says
// in plain words what is wrong and where.
//
// Run goes step by step — DNS, TCP, TLS, the HTTP upgrade, an echo round
// trip, ping/pong and the closing handshake — timing each, and maps what it
// saw to a Diagnosis with a stable Cause code that scripts and the GUI can
// rely on. The handshake is written by hand rather than with a WebSocket
// library so that every answer the server gives can be inspected.
package wstest
