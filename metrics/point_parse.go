package metrics

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/drainpipe/drainpipe"
)

// ParsePoint reads the data point a record of PointMsgID carries, and validates it.
// The first attribute of each "metric." key is the point's: the encoder writes
// them before any attribute of the sender's.
func ParsePoint(r *drainpipe.Record) (Point, error) {
	if r.MsgID != PointMsgID || len(r.Attrs) == 0 {
		return Point{}, ErrNotPoint
	}
	var p Point
	pp := pointParser{p: &p}
	seen := 0
	for _, a := range r.Attrs {
		if !IsPointKey(a.Key) {
			continue
		}
		if seen&(1<<keyBit(a.Key)) != 0 {
			continue
		}
		seen |= 1 << keyBit(a.Key)
		pp.field(a.Key, a.Value)
	}
	if pp.err != nil {
		return Point{}, fmt.Errorf("%w: %s: %v", ErrBadPoint, pp.key, pp.err)
	}
	if err := p.Validate(); err != nil {
		return Point{}, err
	}
	return p, nil
}

// keyBit numbers the point keys for ParsePoint's set of keys seen.
func keyBit(k string) uint {
	for i, key := range pointKeys {
		if key == k {
			return uint(i)
		}
	}
	return 63
}

var pointKeys = [...]string{keyName, keyUnit, keyType, keyTemporality, keyMonotonic, keyLabels, keyStream, keyStart,
	keyValue, keyCount, keySum, keyMin, keyMax, keyBounds, keyBucketCounts, keyScale, keyZeroCount, keyZeroThreshold,
	keyPositive, keyNegative}

// pointParser reads fields into p, keeping the first error.
type pointParser struct {
	p   *Point
	key string
	err error
}

func (pp *pointParser) field(k, v string) {
	if pp.err != nil {
		return
	}
	p := pp.p
	var err error
	switch k {
	case keyName:
		p.Name = v
	case keyUnit:
		p.Unit = v
	case keyType:
		p.Type = PointType(v)
	case keyTemporality:
		p.Cumulative, err = v == "cumulative", oneOf(v, "cumulative", "delta")
	case keyMonotonic:
		p.Monotonic, err = strconv.ParseBool(v)
	case keyLabels:
		p.Labels = v
	case keyStream:
		p.Stream = v
	case keyStart:
		var ns int64
		ns, err = strconv.ParseInt(v, 10, 64)
		p.Start = time.Unix(0, ns).UTC()
	case keyValue:
		p.Value, err = strconv.ParseFloat(v, 64)
	case keyCount:
		p.Count, err = strconv.ParseUint(v, 10, 64)
	case keySum:
		p.Sum, err = strconv.ParseFloat(v, 64)
		p.HasSum = true
	case keyMin:
		p.Min, err = strconv.ParseFloat(v, 64)
		p.HasMin = true
	case keyMax:
		p.Max, err = strconv.ParseFloat(v, 64)
		p.HasMax = true
	case keyBounds:
		p.Bounds, err = splitFloats(v)
	case keyBucketCounts:
		p.BucketCounts, err = splitUints(v)
	case keyScale:
		var n int64
		n, err = strconv.ParseInt(v, 10, 32)
		p.Scale = int32(n)
	case keyZeroCount:
		p.ZeroCount, err = strconv.ParseUint(v, 10, 64)
	case keyZeroThreshold:
		p.ZeroThreshold, err = strconv.ParseFloat(v, 64)
	case keyPositive:
		p.Positive, err = parseExpBuckets(v)
	case keyNegative:
		p.Negative, err = parseExpBuckets(v)
	}
	if err != nil {
		pp.key, pp.err = k, err
	}
}

func oneOf(v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return fmt.Errorf("%q is not one of %q", v, allowed)
}

func splitFloats(s string) ([]float64, error) {
	if s == "" {
		return nil, nil
	}
	if strings.Count(s, ",") >= MaxPointBuckets {
		return nil, fmt.Errorf("more than %d values", MaxPointBuckets)
	}
	parts := strings.Split(s, ",")
	out := make([]float64, len(parts))
	for i, p := range parts {
		v, err := strconv.ParseFloat(p, 64)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func splitUints(s string) ([]uint64, error) {
	if s == "" {
		return nil, nil
	}
	if strings.Count(s, ",") > MaxPointBuckets {
		return nil, fmt.Errorf("more than %d values", MaxPointBuckets+1)
	}
	parts := strings.Split(s, ",")
	out := make([]uint64, len(parts))
	for i, p := range parts {
		v, err := strconv.ParseUint(p, 10, 64)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// parseExpBuckets reads "offset:c1,c2,...".
func parseExpBuckets(s string) (ExpBuckets, error) {
	off, counts, ok := strings.Cut(s, ":")
	if !ok {
		return ExpBuckets{}, fmt.Errorf("%q: want offset:counts", s)
	}
	o, err := strconv.ParseInt(off, 10, 32)
	if err != nil {
		return ExpBuckets{}, err
	}
	c, err := splitUints(counts)
	return ExpBuckets{Offset: int32(o), Counts: c}, err
}
