package drains

import "testing"

// SetTokenWritten makes fn run between writing a new admin token's file and
// storing its hash, for the rest of the test.
func SetTokenWritten(t *testing.T, fn func()) {
	old := tokenWritten
	tokenWritten = fn
	t.Cleanup(func() { tokenWritten = old })
}
