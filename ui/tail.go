package ui

import (
	"net/http"
)

// tailCap is the number of rows the live tail page keeps.
const tailCap = 5000

type tailView struct {
	Source, Dyno, Query string
	Cap                 int
}

// tailPage is the live tail: GET /ui/tail?app=&source=&dyno=&q=. The lines come
// from /ui/stream.
func (h *Handler) tailPage(w http.ResponseWriter, r *http.Request, s *session) {
	v := h.newView(r, s, "tail", "Live tail")
	q := r.URL.Query()
	v.Data = tailView{Source: q.Get("source"), Dyno: q.Get("dyno"), Query: q.Get("q"), Cap: tailCap}
	v.Scripts = []string{"tail.js"}
	v.Wide = true
	if v.App != "" {
		v.Title = v.App + " · live tail"
	}
	h.pages.render(w, http.StatusOK, "tail", v)
}

// whoami answers GET /ui/session: who is logged in, or 401. The pages' scripts ask
// it when a stream was refused, to tell a lost session from a lost network.
func (h *Handler) whoami(w http.ResponseWriter, _ *http.Request, s *session) {
	writeJSON(w, http.StatusOK, map[string]string{"user": s.user})
}
