package httpd

import "net/http"

// atMost runs h for at most n requests at once, and answers the others with
// refuse at once: for requests that last as long as their client reads (an
// export, a live tail), where waiting in line would mostly end refused too.
func atMost(n int, refuse, h http.HandlerFunc) http.HandlerFunc {
	slots := make(chan struct{}, n)
	return func(w http.ResponseWriter, r *http.Request) {
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
		default:
			refuse(w, r)
			return
		}
		h(w, r)
	}
}
