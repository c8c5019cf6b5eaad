// Package actiontest helps test the front ends: a Recorder that reads real
// Server trees through the action layer but records what it is asked to
// change instead of changing it.
package actiontest
