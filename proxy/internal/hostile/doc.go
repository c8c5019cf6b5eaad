// Package hostile runs misbehaving HTTP and WebSocket servers on loopback
// for tests of the tester (wstest) and the proxy: servers that never end
// their answer, or that break RFC 6455 after a valid 101.
//
// Each connection reports how many bytes the server managed to write and
// when the peer hung up, so a test can prove that the client read a
// bounded amount and gave up in time, instead of only that it did not
// crash. Writes stop at WriteCap so that a client that never gives up
// (the bug under test) costs the machine a bounded amount too.
package hostile
