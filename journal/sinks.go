package journal

import "context"

// KeepSinks deletes the durable consumers of every sink not named, as Config.Sinks
// does at Open, for a caller that builds its sinks after opening the journal (they
// need the journal's engine) and so knows their names only then. Call it before
// consuming.
func (j *Journal) KeepSinks(ctx context.Context, names []string) error {
	j.cfg.Sinks = append([]string{}, names...)
	return j.deleteUnknownConsumers(ctx)
}
