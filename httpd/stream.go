package httpd

import (
	"net/http"
	"time"
)

// streamBuffer is how much of a streamed answer is gathered before it is sent:
// large enough that writes are few, small enough that a client sees lines soon.
const streamBuffer = 64 << 10

// streamWriteTimeout bounds each write of a streamed answer: a client that
// stops reading for this long is cut off, and the window of lines its answer
// held is freed.
const streamWriteTimeout = time.Minute

// stream is an answer of unknown length (a search page, a tail, an export),
// sent in pieces as it is made. Its status and headers go with the first piece,
// so an error found before then still gets a proper error answer.
type stream struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	ctype   string
	buf     []byte
	started bool
}

func newStream(w http.ResponseWriter, ctype string) *stream {
	return &stream{w: w, rc: http.NewResponseController(w), ctype: ctype, buf: make([]byte, 0, streamBuffer)}
}

// write adds b to the answer.
func (st *stream) write(b []byte) error {
	st.buf = append(st.buf, b...)
	if len(st.buf) >= streamBuffer {
		return st.flush()
	}
	return nil
}

// jsonList starts a JSON array after prefix (`{"lines":[`) and returns the
// writer of its items, each a JSON value.
func (st *stream) jsonList(prefix string) func([]byte) error {
	st.buf = append(st.buf, prefix...)
	first := true
	return func(b []byte) error {
		if !first {
			st.buf = append(st.buf, ',')
		}
		first = false
		return st.write(b)
	}
}

// flush sends what is gathered.
func (st *stream) flush() error {
	if !st.started {
		st.w.Header().Set("Content-Type", st.ctype)
		st.w.Header().Set("X-Content-Type-Options", "nosniff")
		st.w.WriteHeader(http.StatusOK)
		st.started = true
	}
	_ = st.rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	if _, err := st.w.Write(st.buf); err != nil {
		return err
	}
	st.buf = st.buf[:0]
	return st.rc.Flush()
}

// finish ends the answer with tail.
func (st *stream) finish(tail string) {
	st.buf = append(st.buf, tail...)
	_ = st.flush()
}
