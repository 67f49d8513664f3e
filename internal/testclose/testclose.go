// Package testclose closes a test's fixtures at the end of the test and
// fails the test when a Close fails: a Close that flushes (a publisher, a
// function's queue clients) can lose work, and a test that drops its error
// would not see it.
package testclose

import (
	"io"
	"testing"
)

// Cleanup closes c when t and its subtests have finished (t.Cleanup's order:
// last registered, first closed) and reports a failed Close as a test error.
func Cleanup(t testing.TB, c io.Closer) {
	t.Helper()
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("close %T: %v", c, err)
		}
	})
}
