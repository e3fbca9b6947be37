// Package bounded waits for work that may not end in time, a call into a server
// that does not answer, no longer than a context allows. It is the one way
// drainpipe does so.
package bounded

import "context"

// Run runs f in a goroutine of its own and returns f's error, or ctx.Err() as it
// is when ctx ends first. f then runs on, unwaited: only for work a process may
// leave behind, such as its shutdown's.
func Run(ctx context.Context, f func() error) error {
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
