package sshtest

import "testing"

// Stop ends sshd and every connection to it, as a Server that goes away
// does: clients see their connections drop and new ones refused.
func (s *Server) Stop() { s.stop() }

// Restart starts sshd again on the same port with the same keys, after
// Stop: the Server is back.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.stop()
	s.start(t)
}
