// Package servertest holds the helpers that the tests of several packages
// share: the Server trees stored in serverctl/testdata/servers, and waiting
// for a condition with a bound. By convention only _test.go files import
// it. It imports nothing from this module, so serverctl's in-package tests
// can use it as well (serverctl/apachetest, which imports serverctl, cannot
// be imported there).
package servertest
