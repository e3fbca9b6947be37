package metrics

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
)

// The intervals a node publishes to the History travel in a binary encoding of
// their own (JSON cannot carry a sum that overflowed to +Inf, and sketches are
// bytes anyway):
//
//	message  = version(1) uvarint(n) interval*n
//	interval = str(id) str(app) str(name) str(source) str(unit) kind(1)
//	           varint(start ns) varint(length ns) f64(count) f64(sum) f64(min)
//	           f64(max) f64(last) varint(last_at ns) str(sketch) str(distinct)
//	str      = uvarint(len) bytes;  f64 = 8 bytes, IEEE 754, little endian
const wireVersion = 1

// minWireInterval is the fewest bytes an encoded interval takes.
const minWireInterval = 5 + 1 + 2 + 5*8 + 1 + 2

// errWire reports intervals that do not decode.
var errWire = errors.New("metric intervals do not decode")

// EncodeIntervals encodes ivs for the History.
func EncodeIntervals(ivs []Interval) []byte {
	b := []byte{wireVersion}
	b = binary.AppendUvarint(b, uint64(len(ivs)))
	for i := range ivs {
		b = appendInterval(b, &ivs[i])
	}
	return b
}

func appendInterval(b []byte, iv *Interval) []byte {
	for _, s := range []string{iv.ID, iv.App, iv.Name, iv.Source, iv.Unit} {
		b = appendStr(b, s)
	}
	b = append(b, byte(iv.Kind))
	b = binary.AppendVarint(b, iv.Start.UnixNano())
	b = binary.AppendVarint(b, int64(iv.Length))
	for _, f := range []float64{iv.Count, iv.Sum, iv.Min, iv.Max, iv.Last} {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
	}
	b = binary.AppendVarint(b, iv.LastAt.UnixNano())
	var sk, ds []byte
	if iv.Sketch != nil {
		sk, _ = iv.Sketch.MarshalBinary()
	}
	if iv.Distinct != nil {
		ds, _ = iv.Distinct.MarshalBinary()
	}
	return appendStr(appendStr(b, string(sk)), string(ds))
}

func appendStr(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// DecodeIntervals decodes what EncodeIntervals encoded; anything else is an error,
// never a panic.
func DecodeIntervals(b []byte) ([]Interval, error) {
	if len(b) == 0 || b[0] != wireVersion {
		return nil, fmt.Errorf("%w: unknown version", errWire)
	}
	r := wireReader{b: b[1:]}
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)/minWireInterval) {
		return nil, fmt.Errorf("%w: bad count", errWire)
	}
	out := make([]Interval, 0, n)
	for range n {
		iv, err := r.interval()
		if err != nil {
			return nil, err
		}
		out = append(out, iv)
	}
	if len(r.b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", errWire, len(r.b))
	}
	return out, nil
}

type wireReader struct {
	b   []byte
	err error
}

func (r *wireReader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", errWire, what)
	}
}

func (r *wireReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail("bad uvarint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *wireReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail("bad varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *wireReader) str() string {
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)) {
		r.fail("short string")
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *wireReader) f64() float64 {
	if len(r.b) < 8 {
		r.fail("short number")
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(r.b))
	r.b = r.b[8:]
	return v
}

func (r *wireReader) interval() (Interval, error) {
	var iv Interval
	iv.ID, iv.App, iv.Name, iv.Source, iv.Unit = r.str(), r.str(), r.str(), r.str(), r.str()
	if len(r.b) == 0 {
		r.fail("no kind")
		return iv, r.err
	}
	iv.Kind, r.b = Kind(r.b[0]), r.b[1:]
	iv.Start = time.Unix(0, r.varint()).UTC()
	iv.Length = time.Duration(r.varint())
	iv.Count, iv.Sum, iv.Min, iv.Max, iv.Last = r.f64(), r.f64(), r.f64(), r.f64(), r.f64()
	iv.LastAt = time.Unix(0, r.varint()).UTC()
	sk, ds := r.str(), r.str()
	if r.err != nil {
		return iv, r.err
	}
	if !iv.Kind.valid() || iv.Length <= 0 {
		return iv, fmt.Errorf("%w: interval %s/%s: bad kind or length", errWire, iv.App, iv.Name)
	}
	if sk != "" {
		iv.Sketch = new(Sketch)
		if err := iv.Sketch.UnmarshalBinary([]byte(sk)); err != nil {
			return iv, fmt.Errorf("%w: %v", errWire, err)
		}
	}
	if ds != "" {
		iv.Distinct = new(Distinct)
		if err := iv.Distinct.UnmarshalBinary([]byte(ds)); err != nil {
			return iv, fmt.Errorf("%w: %v", errWire, err)
		}
	}
	return iv, nil
}
