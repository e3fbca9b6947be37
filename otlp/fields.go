package otlp

import (
	"strconv"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/drainpipe/drainpipe"
)

// MaxBodyFields bounds the fields lifted out of one structured body, so a body of
// many keys does not become a record of many fields; the whole body is still the
// record's message, as JSON.
const MaxBodyFields = 100

// maxBodyDepth bounds how deep a structured body is flattened; deeper maps are kept
// as JSON text under their path.
const maxBodyDepth = 8

// fields builds a record's attributes with unique keys.
type fields struct {
	attrs []drainpipe.Attr
	index map[string]int // key → position, built once the list is long
}

// indexFrom is the length from which a map beats scanning the list.
const indexFrom = 16

// add appends key=value. A key already present with the same value is skipped; with
// another value the pair is kept as prefix+key (then prefix+key+"#2", ...), so
// nothing a sender gave is lost and every key names one value.
func (f *fields) add(key, value, prefix string) {
	if i, ok := f.find(key); ok {
		if f.attrs[i].Value == value {
			return
		}
		key = f.free(prefix + key)
	}
	if f.index != nil {
		f.index[key] = len(f.attrs)
	}
	f.attrs = append(f.attrs, drainpipe.Attr{Key: key, Value: value})
	if f.index == nil && len(f.attrs) >= indexFrom {
		f.index = make(map[string]int, 2*indexFrom)
		for i, a := range f.attrs {
			if _, dup := f.index[a.Key]; !dup {
				f.index[a.Key] = i
			}
		}
	}
}

// free returns key, or key#n for the smallest n ≥ 2 that is not taken.
func (f *fields) free(key string) string {
	if _, taken := f.find(key); !taken {
		return key
	}
	for n := 2; ; n++ {
		k := key + "#" + strconv.Itoa(n)
		if _, taken := f.find(k); !taken {
			return k
		}
	}
}

func (f *fields) find(key string) (int, bool) {
	if f.index != nil {
		i, ok := f.index[key]
		return i, ok
	}
	for i := range f.attrs {
		if f.attrs[i].Key == key {
			return i, true
		}
	}
	return 0, false
}

// addMap adds every attribute of m as text.
func (f *fields) addMap(m pcommon.Map, prefix string) {
	for k, v := range m.All() {
		f.add(k, v.AsString(), prefix)
	}
}

// addBody adds the fields of a map body, flattened with dots, at most MaxBodyFields.
func (f *fields) addBody(m pcommon.Map) {
	n := 0
	f.flatten(m, "", 0, &n)
}

func (f *fields) flatten(m pcommon.Map, path string, depth int, n *int) {
	for k, v := range m.All() {
		if *n >= MaxBodyFields {
			return
		}
		key := k
		if path != "" {
			key = path + "." + k
		}
		if v.Type() == pcommon.ValueTypeMap && depth+1 < maxBodyDepth && v.Map().Len() > 0 {
			f.flatten(v.Map(), key, depth+1, n)
			continue
		}
		f.add(key, v.AsString(), "body.")
		*n++
	}
}
