package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
	"unsafe"

	"github.com/drainpipe/drainpipe"
)

// The journal's wire format is a compact binary encoding of batches, chosen over JSON
// because every line passes through it twice (append and every sink's read): one
// journal message holds one or more encoded batches back to back.
//
//	batch  = uvarint(len(body)) body
//	body   = version(1) str(drain) str(app) str(key) varint(received ns) uvarint(dropped)
//	         uvarint(n) record*n
//	record = flags(1) varint(time ns) varint(priority) str(host) str(source) str(dyno)
//	         str(msgid) str(sd) str(message) attrs
//	attrs  = uvarint(n) (str(key) str(value))*n     (version 2 only)
//	str    = uvarint(len) bytes
//
// Version 1 bodies (written before records had attributes) have no attrs; they are
// still read, because a journal written by an older drainpipe is delivered after an
// upgrade.
//
// flags: bit 0 malformed; bit 1 (added later, in either version) "no time": the
// record's Time is the zero Time, or one int64 nanoseconds cannot count (before 1678,
// after 2262), and decodes as the zero Time, which sinks read as "use Received";
// time ns is then 0. Messages written before the bit existed never set it.
const codecVersion = 2

const (
	flagMalformed = 1
	flagNoTime    = 2
)

// errCorrupt reports a journal message that does not decode; it never happens unless
// the store is damaged, and the consumer then stops rather than skip lines silently.
var errCorrupt = errors.New("corrupt journal message")

// appendBatch appends the encoding of b to dst.
func appendBatch(dst []byte, b *drainpipe.Batch) []byte {
	start := len(dst)
	// Reserve the longest uvarint; the body is moved down once its length is known.
	dst = append(dst, make([]byte, binary.MaxVarintLen64)...)
	bodyStart := len(dst)
	dst = append(dst, codecVersion)
	dst = appendString(dst, b.Drain)
	dst = appendString(dst, b.App)
	dst = appendString(dst, b.Key)
	dst = binary.AppendVarint(dst, b.Received.UnixNano())
	dst = binary.AppendUvarint(dst, uint64(max(b.Dropped, 0)))
	dst = binary.AppendUvarint(dst, uint64(len(b.Records)))
	for i := range b.Records {
		dst = appendRecord(dst, &b.Records[i])
	}
	var lenBuf [binary.MaxVarintLen64]byte
	n := binary.PutUvarint(lenBuf[:], uint64(len(dst)-bodyStart))
	copy(dst[start:], lenBuf[:n])
	copy(dst[start+n:], dst[bodyStart:])
	return dst[:len(dst)-(binary.MaxVarintLen64-n)]
}

// encodedSize is about the size of b's encoding (a little more), so that it is
// encoded into one allocation instead of a slice grown by doubling.
func encodedSize(b *drainpipe.Batch) int {
	n := 8*binary.MaxVarintLen64 + len(b.Drain) + len(b.App) + len(b.Key)
	for i := range b.Records {
		r := &b.Records[i]
		n += 1 + 2*binary.MaxVarintLen64 + 6*3 + binary.MaxVarintLen32 + len(r.Host) + len(r.Source) + len(r.Dyno) + len(r.MsgID) +
			len(r.StructuredData) + len(r.Message)
		for _, a := range r.Attrs {
			n += len(a.Key) + len(a.Value) + 2*binary.MaxVarintLen32
		}
	}
	return n
}

func appendRecord(dst []byte, r *drainpipe.Record) []byte {
	var flags byte
	if r.Malformed {
		flags |= flagMalformed
	}
	var ns int64
	if drainpipe.KnownTime(r.Time) {
		ns = r.Time.UnixNano()
	} else {
		flags |= flagNoTime // UnixNano would wrap it around to another date
	}
	dst = append(dst, flags)
	dst = binary.AppendVarint(dst, ns)
	dst = binary.AppendVarint(dst, int64(r.Priority))
	dst = appendString(dst, r.Host)
	dst = appendString(dst, r.Source)
	dst = appendString(dst, r.Dyno)
	dst = appendString(dst, r.MsgID)
	dst = appendString(dst, r.StructuredData)
	dst = appendString(dst, r.Message)
	dst = binary.AppendUvarint(dst, uint64(len(r.Attrs)))
	for _, a := range r.Attrs {
		dst = appendString(dst, a.Key)
		dst = appendString(dst, a.Value)
	}
	return dst
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// decodeBatches decodes every batch in data, in place: the strings of the records
// are slices of data itself, which must therefore never change afterwards (a
// fetched journal message's payload is its own allocation, read only). Decoding
// costs the records, not a copy of the message.
func decodeBatches(data []byte) ([]drainpipe.Batch, error) {
	d := decoder{s: unsafe.String(unsafe.SliceData(data), len(data))}
	var out []drainpipe.Batch
	for d.i < len(d.s) {
		n := d.uvarint()
		if d.err != nil || n > uint64(len(d.s)-d.i) {
			return nil, fmt.Errorf("%w: batch length", errCorrupt)
		}
		body := decoder{s: d.s[d.i : d.i+int(n)]}
		d.i += int(n)
		b, err := body.batch()
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

type decoder struct {
	s   string
	i   int
	err error
}

func (d *decoder) batch() (drainpipe.Batch, error) {
	var b drainpipe.Batch
	if d.i >= len(d.s) || (d.s[d.i] != 1 && d.s[d.i] != codecVersion) {
		return b, fmt.Errorf("%w: unknown version", errCorrupt)
	}
	version := d.s[d.i]
	d.i++
	b.Drain = d.str()
	b.App = d.str()
	b.Key = d.str()
	b.Received = time.Unix(0, d.varint()).UTC()
	b.Dropped = int(min(d.uvarint(), 1<<31))
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.s)-d.i) {
		return b, fmt.Errorf("%w: record count", errCorrupt)
	}
	b.Records = make([]drainpipe.Record, n)
	for i := range b.Records {
		d.record(&b.Records[i], &b, version)
	}
	if d.err != nil {
		return b, d.err
	}
	return b, nil
}

func (d *decoder) record(r *drainpipe.Record, b *drainpipe.Batch, version byte) {
	if d.i >= len(d.s) {
		d.err = fmt.Errorf("%w: truncated record", errCorrupt)
		return
	}
	flags := d.s[d.i]
	d.i++
	r.Drain, r.App, r.Received = b.Drain, b.App, b.Received
	r.Malformed = flags&flagMalformed != 0
	r.Time = time.Unix(0, d.varint()).UTC()
	if flags&flagNoTime != 0 {
		r.Time = time.Time{}
	}
	r.Priority = int(d.varint())
	r.Host = d.str()
	r.Source = d.str()
	r.Dyno = d.str()
	r.MsgID = d.str()
	r.StructuredData = d.str()
	r.Message = d.str()
	if version >= 2 {
		d.attrs(r)
	}
}

// attrs reads a record's attributes; most records have none and allocate nothing.
func (d *decoder) attrs(r *drainpipe.Record) {
	n := d.uvarint()
	if d.err != nil || n == 0 {
		return
	}
	if n > uint64(len(d.s)-d.i)/2 { // each attribute takes at least two bytes
		d.err = fmt.Errorf("%w: attribute count", errCorrupt)
		return
	}
	r.Attrs = make([]drainpipe.Attr, n)
	for i := range r.Attrs {
		r.Attrs[i] = drainpipe.Attr{Key: d.str(), Value: d.str()}
	}
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := uvarintString(d.s[d.i:])
	if n <= 0 {
		d.err = fmt.Errorf("%w: bad varint", errCorrupt)
		return 0
	}
	d.i += n
	return v
}

func (d *decoder) varint() int64 {
	u := d.uvarint()
	// Zig-zag decoding, as encoding/binary does it.
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x
}

func (d *decoder) str() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.s)-d.i) {
		d.err = fmt.Errorf("%w: string length", errCorrupt)
		return ""
	}
	s := d.s[d.i : d.i+int(n)]
	d.i += int(n)
	return s
}

// uvarintString is binary.Uvarint over a string, so decoding needs no byte copies.
func uvarintString(s string) (uint64, int) {
	var x uint64
	var shift uint
	for i := 0; i < len(s) && i < binary.MaxVarintLen64; i++ {
		c := s[i]
		if c < 0x80 {
			if i == binary.MaxVarintLen64-1 && c > 1 {
				return 0, -1
			}
			return x | uint64(c)<<shift, i + 1
		}
		x |= uint64(c&0x7f) << shift
		shift += 7
	}
	return 0, 0
}
