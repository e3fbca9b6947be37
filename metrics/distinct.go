package metrics

import (
	"encoding/binary"
	"errors"
	"maps"
	"math"
	"math/bits"
	"slices"
)

// DistinctExact is how many distinct values a Distinct counts exactly. Past it, a
// Distinct switches to a HyperLogLog of 2^12 one-byte registers (4 KiB), whose
// estimate has a standard error of about 1.6%.
const DistinctExact = 1024

const (
	hllPrecision = 12
	hllRegisters = 1 << hllPrecision
)

// Distinct counts distinct values. It stores 64-bit hashes, never the values, so a
// long or secret-looking value costs nothing and is not kept; two values whose hashes
// collide (odds about n²/2^65) count once.
type Distinct struct {
	exact map[uint64]struct{}
	hll   []uint8 // non-nil once the exact set overflowed
}

// NewDistinct returns an empty Distinct.
func NewDistinct() *Distinct { return &Distinct{exact: make(map[uint64]struct{})} }

// Add counts v.
func (d *Distinct) Add(v string) { d.addHash(hash64(v)) }

func (d *Distinct) addHash(h uint64) {
	if d.hll != nil {
		d.hllAdd(h)
		return
	}
	d.exact[h] = struct{}{}
	if len(d.exact) > DistinctExact {
		d.hll = make([]uint8, hllRegisters)
		for h := range d.exact {
			d.hllAdd(h)
		}
		d.exact = nil
	}
}

func (d *Distinct) hllAdd(h uint64) {
	i := h >> (64 - hllPrecision)
	rho := uint8(bits.LeadingZeros64(h<<hllPrecision|1<<(hllPrecision-1)) + 1)
	d.hll[i] = max(d.hll[i], rho)
}

// Estimate returns the number of distinct values: exact up to DistinctExact.
func (d *Distinct) Estimate() float64 {
	if d.hll == nil {
		return float64(len(d.exact))
	}
	sum, zeros := 0.0, 0
	for _, r := range d.hll {
		sum += math.Ldexp(1, -int(r))
		if r == 0 {
			zeros++
		}
	}
	m := float64(hllRegisters)
	e := 0.7213 / (1 + 1.079/m) * m * m / sum
	if e <= 2.5*m && zeros > 0 {
		e = m * math.Log(m/float64(zeros))
	}
	return math.Round(e)
}

// Merge adds other's values to d.
func (d *Distinct) Merge(other *Distinct) {
	if other.hll == nil {
		for h := range other.exact {
			d.addHash(h)
		}
		return
	}
	if d.hll == nil {
		exact := d.exact
		d.hll, d.exact = slices.Clone(other.hll), nil
		for h := range exact {
			d.hllAdd(h)
		}
		return
	}
	for i, r := range other.hll {
		d.hll[i] = max(d.hll[i], r)
	}
}

// Copy returns an independent copy of d.
func (d *Distinct) Copy() *Distinct {
	return &Distinct{exact: maps.Clone(d.exact), hll: slices.Clone(d.hll)}
}

// MarshalBinary encodes d: 'e' and the sorted hashes, or 'h' and the registers.
func (d *Distinct) MarshalBinary() ([]byte, error) {
	if d.hll != nil {
		return append([]byte{'h'}, d.hll...), nil
	}
	hashes := slices.Sorted(maps.Keys(d.exact))
	b := make([]byte, 1, 1+8*len(hashes))
	b[0] = 'e'
	for _, h := range hashes {
		b = binary.BigEndian.AppendUint64(b, h)
	}
	return b, nil
}

// UnmarshalBinary replaces d with the set encoded in b.
func (d *Distinct) UnmarshalBinary(b []byte) error {
	switch {
	case len(b) == 1+hllRegisters && b[0] == 'h':
		d.exact, d.hll = nil, slices.Clone(b[1:])
	case len(b) >= 1 && b[0] == 'e' && (len(b)-1)%8 == 0 && (len(b)-1)/8 <= DistinctExact:
		d.exact, d.hll = make(map[uint64]struct{}, (len(b)-1)/8), nil
		for i := 1; i < len(b); i += 8 {
			d.exact[binary.BigEndian.Uint64(b[i:])] = struct{}{}
		}
	default:
		return errors.New("decode distinct set: malformed")
	}
	return nil
}

// hash64 is FNV-1a finished with murmur3's mixer: stable across processes and
// versions (so nodes' sets merge) and well spread in the high bits HyperLogLog reads.
func hash64(s string) uint64 {
	x := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		x ^= uint64(s[i])
		x *= 1099511628211
	}
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}
