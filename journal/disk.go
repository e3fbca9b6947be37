package journal

import (
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// embeddedDiskShare is the part of a disk's free space the embedded JetStream
// lets its streams reserve when it starts (nats-server's rule: 75%).
const embeddedDiskShare = 0.75

// DiskTooSmallError is Open's answer when the journal's cap (Config.MaxBytes) is
// more than the NATS server can reserve on its disk. With the embedded server it
// says how much is free and what cap would fit.
type DiskTooSmallError struct {
	// Dir is the embedded server's directory; empty with an external server.
	Dir string
	// MaxBytes is the cap asked for.
	MaxBytes int64
	// Free is what Dir's file system has free, -1 when unknown.
	Free int64
	// Fits is the largest cap the embedded server would take now (a whole number
	// of MiB), 0 when unknown.
	Fits int64
	err  error
}

func (e *DiskTooSmallError) Error() string {
	if e.Free < 0 {
		return fmt.Sprintf("journal cap of %s is more than the NATS server can reserve: %v", sizeText(e.MaxBytes), e.err)
	}
	return fmt.Sprintf("journal cap of %s is more than the disk under %s can hold: %s free, of which the journal may reserve %.0f%% (%s)",
		sizeText(e.MaxBytes), e.Dir, sizeText(e.Free), embeddedDiskShare*100, sizeText(e.Fits))
}

func (e *DiskTooSmallError) Unwrap() error { return e.err }

// diskTooSmall turns the server's refusal to reserve the stream's cap into a
// *DiskTooSmallError; other errors are returned as they are.
func (j *Journal) diskTooSmall(err error) error {
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) || (apiErr.ErrorCode != 10047 && apiErr.ErrorCode != 10023) {
		return err
	}
	return j.tooSmall(err)
}

// tooSmall is the *DiskTooSmallError for a cap refused with err.
func (j *Journal) tooSmall(err error) *DiskTooSmallError {
	e := &DiskTooSmallError{MaxBytes: j.cfg.MaxBytes, Free: -1, err: err}
	if j.srv == nil {
		return e
	}
	e.Dir = j.cfg.Dir
	if free, ok := freeBytes(j.cfg.Dir); ok {
		e.Free = free
		e.Fits = int64(float64(free)*embeddedDiskShare) &^ (1<<20 - 1)
	}
	return e
}

// sizeText writes n bytes as people read sizes: 4.0 GiB, 46 MiB, 512 KiB.
func sizeText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
