package metrics

import (
	"errors"
	"fmt"

	"github.com/DataDog/sketches-go/ddsketch"
	"github.com/DataDog/sketches-go/ddsketch/mapping"
	"github.com/DataDog/sketches-go/ddsketch/store"
)

// RelativeAccuracy is the sketches' guarantee: a quantile they report is within 1% of
// the true value at that rank, for positive, negative and zero values alike.
const RelativeAccuracy = 0.01

// sketchVersion prefixes a serialised sketch so the format can change.
const sketchVersion = 1

// sketchMapping is shared by every sketch: sketches merge only when mappings agree.
var sketchMapping = func() mapping.IndexMapping {
	m, err := mapping.NewLogarithmicMapping(RelativeAccuracy)
	if err != nil {
		panic(err)
	}
	return m
}()

// Sketch is a mergeable quantile sketch (DDSketch). Its stores are paginated, so a
// single huge outlier costs a page of memory and never costs accuracy elsewhere.
type Sketch struct {
	dd *ddsketch.DDSketch
}

// NewSketch returns an empty sketch.
func NewSketch() *Sketch {
	return &Sketch{dd: ddsketch.NewDDSketchFromStoreProvider(sketchMapping, store.BufferedPaginatedStoreConstructor)}
}

// Add records v. It refuses what the sketch cannot index (NaN, magnitudes near
// float64's limit), leaving the sketch as it was: the aggregator refuses such
// values before they get here (see maxValue), so that count, sum and sketch agree.
func (s *Sketch) Add(v float64) error { return s.AddCount(v, 1) }

// AddCount records v n times, for a bucket of a histogram; it refuses what Add
// refuses, and a negative n.
func (s *Sketch) AddCount(v, n float64) error {
	if err := s.dd.AddWithCount(v, n); err != nil {
		return fmt.Errorf("add %g to sketch: %w", v, err)
	}
	return nil
}

// Count is the number of values recorded.
func (s *Sketch) Count() float64 { return s.dd.GetCount() }

// Quantile returns the value at quantile q (0 ≤ q ≤ 1), or 0 for an empty sketch.
func (s *Sketch) Quantile(q float64) float64 {
	v, err := s.dd.GetValueAtQuantile(q)
	if err != nil {
		return 0
	}
	return v
}

// Merge adds other's values to s.
func (s *Sketch) Merge(other *Sketch) error {
	if err := s.dd.MergeWith(other.dd); err != nil {
		return fmt.Errorf("merge sketch: %w", err)
	}
	return nil
}

// Copy returns an independent copy of s.
func (s *Sketch) Copy() *Sketch { return &Sketch{dd: s.dd.Copy()} }

// MarshalBinary encodes the sketch in DDSketch's own encoding, behind a version byte.
func (s *Sketch) MarshalBinary() ([]byte, error) {
	b := []byte{sketchVersion}
	s.dd.Encode(&b, true)
	return b, nil
}

// UnmarshalBinary replaces s with the sketch encoded in b.
func (s *Sketch) UnmarshalBinary(b []byte) error {
	if len(b) == 0 || b[0] != sketchVersion {
		return errors.New("decode sketch: unknown version")
	}
	dd, err := ddsketch.DecodeDDSketch(b[1:], store.BufferedPaginatedStoreConstructor, sketchMapping)
	if err != nil {
		return fmt.Errorf("decode sketch: %w", err)
	}
	s.dd = dd
	return nil
}
