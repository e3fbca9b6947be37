package httpd

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/drainpipe/drainpipe/api"
)

func intParam(r *http.Request, name string, def int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	return strconv.Atoi(v)
}

// timeParam reads the since or until parameter as api.ParseTime does: the
// start of the span it names for since, its end for until; zero when absent.
func timeParam(r *http.Request, name string) (time.Time, error) {
	v := r.URL.Query().Get(name)
	read := api.Since
	if name == "until" {
		read = api.Until
	}
	t, err := read(v, time.Now())
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %w", name, err)
	}
	return t, nil
}
