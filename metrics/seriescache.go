package metrics

// seriesCacheBits sizes an app's cache of recently used series: a router line makes
// about eight samples of a dozen names per dyno, and a busy app has a few dozen dynos.
const seriesCacheBits = 7

// seriesCache spares the hot path most of its map lookups, whose hashing of three
// strings per sample was a fifth of the cost of a router line. It is direct-mapped by
// a cheap hash of a few bytes of the key; a slot whose series has another key is a
// miss, so a collision costs a map lookup and never a wrong series.
type seriesCache [1 << seriesCacheBits]*series

// get returns the cached series of k, or nil, and the slot k belongs in.
func (c *seriesCache) get(k *seriesKey) (*series, uint) {
	slot := k.slot()
	if sr := c[slot%(1<<seriesCacheBits)]; sr != nil && sr.key == *k {
		return sr, slot
	}
	return nil, slot
}

// slot mixes the lengths and the last bytes of the key's strings: the names one line
// makes differ there ("router.status.2xx", "router.errors.H12"), as do dynos ("web.1").
func (k *seriesKey) slot() uint {
	h := tail(k.name)<<32 | tail(k.source)
	h ^= uint64(len(k.name))<<56 ^ uint64(len(k.source))<<48 ^ uint64(len(k.unit))<<40 ^ uint64(k.kind)<<36
	return uint((h * 0x9e3779b97f4a7c15) >> (64 - seriesCacheBits))
}

// tail packs the last four bytes of s, or all of a shorter s.
func tail(s string) uint64 {
	if n := len(s); n >= 4 {
		return uint64(s[n-1]) | uint64(s[n-2])<<8 | uint64(s[n-3])<<16 | uint64(s[n-4])<<24
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		v = v<<8 | uint64(s[i])
	}
	return v
}
