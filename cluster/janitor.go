package cluster

import (
	"context"
	"errors"
)

// Sweep hands every node gone for good (silent for longer than NodeTimeout) to
// cleanup, and forgets it once cleanup succeeded. Run it from one node at a time
// (under Hold).
func (c *Cluster) Sweep(ctx context.Context, cleanup func(context.Context, Node) error) error {
	var errs []error
	for _, n := range c.Nodes() {
		if !c.Gone(n) {
			continue
		}
		c.log.Info("node gone for good: cleaning up after it", "node", n.Name, "last_seen", n.Seen)
		if err := cleanup(ctx, n); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := c.Forget(ctx, n.Name); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
