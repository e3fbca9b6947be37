package archive

import (
	"encoding/json"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"
	"github.com/drainpipe/drainpipe"
	"github.com/drainpipe/drainpipe/logfmt"
)

// The fields every line is stored with; see the package doc for what each holds.
const (
	FieldMessage        = "_msg"
	FieldTime           = "_time"
	FieldApp            = "app"
	FieldSource         = "source"
	FieldDrain          = "drain"
	FieldHost           = "host"
	FieldDyno           = "dyno"
	FieldMsgID          = "msgid"
	FieldStructuredData = "structured_data"
	FieldPriority       = "priority"
	FieldSeverity       = "severity"
	FieldReceived       = "received"
	FieldMalformed      = "malformed"
	FieldLineTime       = "time"
	FieldID             = "id"
	FieldPart           = "part"
	FieldAttrs          = "attrs"
	// FieldAttrsRest holds, as JSON pairs, the attributes a line could not keep
	// as fields of their own (past MaxAttrs, past the app's names, a name
	// taken or not valid as a field's), up to MaxAttrValueLen in all.
	FieldAttrsRest = "attrs.rest"
)

// StreamFields are the fields that make a line's VictoriaLogs stream: few
// values each, so streams stay few (never request ids).
var StreamFields = []string{FieldApp, FieldSource}

// reserved are the names drainpipe's own fields take; a message's key or a
// sender's attribute with one of these names is stored under a prefix.
var reserved = map[string]bool{
	FieldMessage: true, FieldTime: true, "_stream": true, "_stream_id": true,
	FieldApp: true, FieldSource: true, FieldDrain: true, FieldHost: true, FieldDyno: true, FieldMsgID: true,
	FieldStructuredData: true, FieldPriority: true, FieldSeverity: true, FieldReceived: true,
	FieldMalformed: true, FieldLineTime: true, FieldID: true, FieldPart: true, FieldAttrs: true,
	FieldAttrsRest: true,
}

// Limits on the fields a line adds beside drainpipe's own, so that hostile or
// odd lines cannot explode the schema. What they cut is counted in
// drainpipe_archive_fields_cut_total; the message itself is always kept whole.
const (
	// MaxMessageFields is how many logfmt pairs of one message become fields.
	MaxMessageFields = 32
	// MaxKeyLen bounds a field name taken from a message or an attribute.
	MaxKeyLen = 64
	// MaxValueLen bounds a logfmt value stored as a field (the message keeps it).
	MaxValueLen = 1024
	// MaxAttrs is how many of a record's explicit attributes are stored.
	MaxAttrs = 64
	// MaxAttrValueLen bounds one attribute's value.
	MaxAttrValueLen = 64 << 10
	// MaxNamesPerApp bounds the distinct names of message and attribute fields
	// an app may add, for good. VictoriaLogs drops the rows of a block whose
	// rows carry more than 2,000 distinct field names; with this cap (and the
	// cap's worst case across a crash, twice it) plus drainpipe's own fields no
	// block can reach that.
	MaxNamesPerApp = 900
	// partSize is the largest piece of a message stored in one row. VictoriaLogs
	// drops rows over 2 MiB, so a longer message is stored as consecutive rows
	// (fields part="1/3", "2/3", ...) rather than lost.
	partSize = 512 << 10
)

// Reasons a field is cut, the label of drainpipe_archive_fields_cut_total.
const (
	cutCount      = "count"
	cutKey        = "key"
	cutValue      = "value"
	cutVocabulary = "vocabulary"
	cutDuplicate  = "duplicate"
)

var severities = [8]string{"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"}

// window is the range of times VictoriaLogs accepts for _time at this moment:
// older days are past the retention, later ones beyond its future limit.
type window struct{ lo, hi, now int64 }

func newWindow(now time.Time, retention time.Duration) window {
	w := window{lo: minNanos, hi: now.Add(24 * time.Hour).UnixNano(), now: now.UnixNano()}
	if retention > 0 {
		w.lo = now.Add(-retention + 24*time.Hour).UnixNano()
	}
	return w
}

func (w window) holds(t time.Time) (int64, bool) {
	n, ok := nanos(t)
	return n, ok && n >= w.lo && n <= w.hi
}

// nanos is t in nanoseconds since the epoch, unless t is zero or out of
// int64's range (before 1678 or after 2262).
func nanos(t time.Time) (int64, bool) {
	if t.IsZero() || t.Before(minTime) || t.After(maxTime) {
		return 0, false
	}
	return t.UnixNano(), true
}

// stamp picks a row's _time: the line's own time when VictoriaLogs accepts it,
// else when it was received, else now. The caller keeps the line's own time in
// a field when it is not the one picked.
func (w window) stamp(r *drainpipe.Record) (ts int64, own bool) {
	if n, ok := w.holds(r.Time); ok {
		return n, true
	}
	if n, ok := w.holds(r.Received); ok {
		return n, false
	}
	return w.now, false
}

var (
	minNanos = int64(-1 << 63)
	minTime  = time.Unix(0, minNanos+1)
	maxTime  = time.Unix(0, 1<<63-1)
)

// messageParts splits a message longer than partSize at rune boundaries; it
// returns nil for a message that fits in one row.
func messageParts(msg string) []string {
	if len(msg) <= partSize {
		return nil
	}
	var parts []string
	for len(msg) > partSize {
		end := partSize
		for end > partSize-utf8.UTFMax && !utf8.RuneStart(msg[end]) {
			end--
		}
		parts = append(parts, msg[:end])
		msg = msg[end:]
	}
	return append(parts, msg)
}

// rowsOf is how many rows (and ids) a record takes.
func rowsOf(r *drainpipe.Record) int64 {
	if len(r.Message) <= partSize {
		return 1
	}
	return int64(len(messageParts(r.Message)))
}

// rowMaker turns records into VictoriaLogs fields. Each converting goroutine has
// its own; the vocabulary and the cut counters are shared.
type rowMaker struct {
	vocab  *vocabulary
	cuts   *cutCounter
	win    window
	fields []logstorage.Field
	num    []byte
	used   nameSet // names attributes and message fields took in the row being built, in order
	keys   nameSet // message keys seen in it
	// prev and prevApp are the previous row's used names and its app. Names
	// are admitted to an app's vocabulary for good, so a row whose i-th name is
	// the previous row's i-th name, of the same app, needs no vocabulary check:
	// the lines of one app mostly repeat their keys in the same order.
	prev    nameSet
	prevApp string
}

func newRowMaker(v *vocabulary, c *cutCounter, win window) *rowMaker {
	return &rowMaker{vocab: v, cuts: c, win: win, num: make([]byte, 0, 256)}
}

// nameSet holds the few names of one row. A slice scanned beats a map here:
// rows take a dozen names or so (at most MaxAttrs plus MaxMessageFields), and
// a map costs a hash per lookup and insert and a clear per row.
type nameSet []string

func (s nameSet) has(name string) bool { return slices.Contains(s, name) }

// admit reports whether the row being built, of app, may add a field named
// name (the vocabulary's rule), taking the previous row's word when it can.
func (m *rowMaker) admit(app, name string) bool {
	if i := len(m.used); app == m.prevApp && i < len(m.prev) && m.prev[i] == name {
		return true
	}
	return m.vocab.admit(app, name)
}

// rows calls add with the id, _time and fields of each row of r, whose first
// id is id, unless skip says the row is stored already. The fields are valid
// only during the call (LogRows copies them).
func (m *rowMaker) rows(r *drainpipe.Record, id int64, skip func(int64) bool, add func(id, ts int64, fields []logstorage.Field)) {
	ts, own := m.win.stamp(r)
	parts := messageParts(r.Message)
	if parts == nil {
		if skip == nil || !skip(id) {
			m.build(r, id, ts, own, r.Message, "")
			add(id, ts, m.fields)
		}
		return
	}
	for i, p := range parts {
		if skip != nil && skip(id+int64(i)) {
			continue
		}
		m.build(r, id+int64(i), ts, own, p, strconv.Itoa(i+1)+"/"+strconv.Itoa(len(parts)))
		add(id+int64(i), ts, m.fields)
	}
}

// build fills m.fields for one row. The stream fields come first, as
// LogRows.MustAdd is told (streamFieldsLen 2).
func (m *rowMaker) build(r *drainpipe.Record, id, ts int64, own bool, msg, part string) {
	m.num = m.num[:0]
	f := append(m.fields[:0],
		logstorage.Field{Name: FieldApp, Value: r.App},
		logstorage.Field{Name: FieldSource, Value: r.Source},
		logstorage.Field{Name: FieldMessage, Value: msg},
		logstorage.Field{Name: FieldID, Value: m.itoa(id)},
		logstorage.Field{Name: FieldDrain, Value: r.Drain},
		logstorage.Field{Name: FieldHost, Value: r.Host},
		logstorage.Field{Name: FieldDyno, Value: r.Dyno},
		logstorage.Field{Name: FieldMsgID, Value: r.MsgID},
		logstorage.Field{Name: FieldStructuredData, Value: r.StructuredData},
	)
	if n, ok := nanos(r.Received); ok {
		f = append(f, logstorage.Field{Name: FieldReceived, Value: m.itoa(n)})
	}
	if r.Priority >= 0 {
		f = append(f, logstorage.Field{Name: FieldPriority, Value: m.itoa(int64(r.Priority))},
			logstorage.Field{Name: FieldSeverity, Value: severities[r.Priority%8]})
	}
	if r.Malformed {
		f = append(f, logstorage.Field{Name: FieldMalformed, Value: "1"})
	}
	if !own {
		f = append(f, logstorage.Field{Name: FieldLineTime, Value: lineTime(r.Time)})
	}
	if part != "" {
		f = append(f, logstorage.Field{Name: FieldPart, Value: part})
	}
	m.fields = f
	m.prev, m.used = m.used, m.prev[:0]
	if len(r.Attrs) > 0 {
		m.addAttrs(r)
	}
	if part == "" || part[0] == '1' && part[1] == '/' {
		m.addMessageFields(r.App, r.Message)
	}
	m.prevApp = r.App
}

// lineTimeLayout is RFC 3339 with all nine digits of nanoseconds, in UTC: the
// strings sort as the times do, so string_range() selects a time range.
const lineTimeLayout = "2006-01-02T15:04:05.000000000Z"

// lineTime is a line's own time as stored in the "time" field, or "none" for
// a line that had none.
func lineTime(t time.Time) string {
	if t.IsZero() {
		return "none"
	}
	return t.UTC().Format(lineTimeLayout)
}

// itoa formats n into m.num and returns it as a string that shares m.num's
// memory: valid until the row is built and added, which is all it is used for
// (LogRows copies every value), and it saves an allocation per number per line.
func (m *rowMaker) itoa(n int64) string {
	start := len(m.num)
	if cap(m.num)-start < 20 {
		m.num = make([]byte, 0, 256) // earlier strings keep the old buffer alive
		start = 0
	}
	m.num = strconv.AppendInt(m.num, n, 10)
	return unsafe.String(&m.num[start], len(m.num)-start)
}

// addAttrs stores the record's explicit attributes, each under its own key
// unless that is taken, then under "attr." and the key. The keys, in order,
// go into the "attrs" field so they read back as attributes, not message fields.
// An attribute that cannot be a field of its own (past MaxAttrs, past the app's
// names, its name taken or not valid) goes into "attrs.rest" (see restAttrs):
// an attribute is not in the message, so a cap on fields must not lose it.
func (m *rowMaker) addAttrs(r *drainpipe.Record) {
	keys := make([]string, 0, len(r.Attrs))
	var rest restAttrs
	for i, at := range r.Attrs {
		if len(at.Value) > MaxAttrValueLen {
			m.cuts.add(cutValue, 1)
			continue
		}
		if i >= MaxAttrs {
			rest.add(m.cuts, cutCount, at)
			continue
		}
		name, reason := m.attrName(at.Key)
		if reason == "" && !m.admit(r.App, name) {
			reason = cutVocabulary
		}
		if reason != "" {
			rest.add(m.cuts, reason, at)
			continue
		}
		m.used = append(m.used, name)
		keys = append(keys, at.Key)
		m.fields = append(m.fields, logstorage.Field{Name: name, Value: at.Value})
	}
	if len(keys) > 0 {
		m.fields = append(m.fields, logstorage.Field{Name: FieldAttrs, Value: encodeKeys(keys)})
	}
	if rest.json != nil {
		m.fields = append(m.fields, logstorage.Field{Name: FieldAttrsRest, Value: string(append(rest.json, ']'))})
	}
}

// restAttrs builds "attrs.rest": a JSON array of [key, value] pairs, in the
// record's order, at most MaxAttrValueLen long. What is past that, or is not
// valid UTF-8 (JSON would change it), is cut, and counted with the reason it
// could not be a field.
type restAttrs struct{ json []byte }

func (r *restAttrs) add(cuts *cutCounter, reason string, at drainpipe.Attr) {
	if !utf8.ValidString(at.Key) || !utf8.ValidString(at.Value) {
		cuts.add(reason, 1)
		return
	}
	pair, _ := json.Marshal([2]string{at.Key, at.Value}) // strings always marshal
	if len(r.json)+len(pair)+2 > MaxAttrValueLen {
		cuts.add(reason, 1)
		return
	}
	if r.json == nil {
		r.json = append(make([]byte, 0, len(pair)+2), '[')
	} else {
		r.json = append(r.json, ',')
	}
	r.json = append(r.json, pair...)
}

// attrName is where an attribute with key k is stored in a row whose earlier
// names are in used, or why it cannot be; AttrName is its reader's side.
func (m *rowMaker) attrName(k string) (name, reason string) {
	if !validKey(k) {
		return "", cutKey
	}
	name, ok := storedAttrName(k, m.used)
	if !ok {
		return "", cutDuplicate
	}
	return name, ""
}

func storedAttrName(k string, used nameSet) (string, bool) {
	if !reserved[k] && k[0] != '_' && !used.has(k) {
		return k, true
	}
	if p := "attr." + k; !used.has(p) {
		return p, true
	}
	return "", false
}

// addMessageFields stores the logfmt pairs of msg with a value, up to
// MaxMessageFields of them, each under its key unless that is taken (router
// lines' dyno= and host=, say), then under "msg." and the key. A key the
// message repeats keeps its first value.
func (m *rowMaker) addMessageFields(app, msg string) {
	n := 0
	m.keys = m.keys[:0]
	logfmt.Scan(msg, func(key, value string) bool {
		if value == "" {
			return true
		}
		if n == MaxMessageFields {
			m.cuts.add(cutCount, 1)
			return true
		}
		switch {
		case !validKey(key):
			m.cuts.add(cutKey, 1)
			return true
		case len(value) > MaxValueLen:
			m.cuts.add(cutValue, 1)
			return true
		}
		name := key
		if reserved[key] || key[0] == '_' || m.used.has(key) {
			name = m.prefixed(key)
		}
		switch {
		case m.keys.has(key) || m.used.has(name):
			m.cuts.add(cutDuplicate, 1)
			return true
		case !m.admit(app, name):
			m.cuts.add(cutVocabulary, 1)
			return true
		}
		m.used, m.keys = append(m.used, name), append(m.keys, key)
		m.fields = append(m.fields, logstorage.Field{Name: name, Value: value})
		n++
		return true
	})
}

// prefixed is "msg." and key, the name of a message field whose key is taken:
// the previous row's string when it stored the same one at this place (router
// lines' msg.dyno and msg.host, line after line), else a new one.
func (m *rowMaker) prefixed(key string) string {
	const prefix = "msg."
	if i := len(m.used); i < len(m.prev) {
		if p := m.prev[i]; len(p) == len(prefix)+len(key) && p[:len(prefix)] == prefix && p[len(prefix):] == key {
			return p
		}
	}
	return prefix + key
}

// validKey accepts the names Heroku, l2met and OpenTelemetry use (status,
// measure#db.query, service.name, http.route, trace_id) and nothing stranger:
// up to MaxKeyLen bytes of ASCII letters, digits and _ . # @ : / -, starting
// with a letter or '_'.
func validKey(k string) bool {
	if k == "" || len(k) > MaxKeyLen {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case c >= '0' && c <= '9', c == '.', c == '#', c == '@', c == ':', c == '/', c == '-':
			if i == 0 {
				return false
			}
		default:
			return false
		}
	}
	return true
}
