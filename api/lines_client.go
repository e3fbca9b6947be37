package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

// PageRequest asks for one page of a search.
type PageRequest struct {
	Search
	// Limit is the most lines of the page: 1 to 10,000; zero is the server's 100.
	Limit int
	// OldestFirst pages from the oldest line on; by default newest first.
	OldestFirst bool
	// Cursor is the Next of the previous page; empty for the first page.
	Cursor string
}

// Search returns one page of the lines of r, newest first unless r.OldestFirst.
// Its Next, when not empty, is the Cursor of the page that follows.
func (c *Client) Search(ctx context.Context, r PageRequest) (Page, error) {
	v := r.values()
	if r.Limit > 0 {
		v.Set("limit", strconv.Itoa(r.Limit))
	}
	if r.OldestFirst {
		v.Set("order", "oldest")
	}
	if r.Cursor != "" {
		v.Set("cursor", r.Cursor)
	}
	var p Page
	err := c.do(ctx, http.MethodGet, "/api/apps/"+url.PathEscape(r.App)+"/search?"+v.Encode(), nil, &p)
	return p, err
}

// Tail calls each with the newest n lines of s, oldest first, as the server
// streams them: any n, in constant memory. after is the id of the newest line
// stored when the tail began: After goes on from it.
func (c *Client) Tail(ctx context.Context, s Search, n int, each func(Line) error) (after int64, err error) {
	v := s.values()
	v.Set("n", strconv.Itoa(n))
	body, err := c.stream(ctx, "/api/apps/"+url.PathEscape(s.App)+"/tail?"+v.Encode())
	if err != nil {
		return 0, err
	}
	defer body.Close()
	dec := json.NewDecoder(body)
	for _, want := range []any{json.Delim('{'), "lines", json.Delim('[')} {
		if tok, err := dec.Token(); err != nil || tok != want {
			return 0, fmt.Errorf("read tail: want %v, got %v (%v)", want, tok, err)
		}
	}
	for dec.More() {
		var l Line
		if err := dec.Decode(&l); err != nil {
			return 0, fmt.Errorf("read tail: %w", err)
		}
		if err := each(l); err != nil {
			return 0, err
		}
	}
	var end struct {
		After int64 `json:"after"`
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim(']') {
		return 0, fmt.Errorf("read tail: the answer ends early (%v)", err)
	}
	if tok, err := dec.Token(); err != nil || tok != "after" {
		return 0, fmt.Errorf("read tail: the answer ends early (%v)", err)
	}
	if err := dec.Decode(&end.After); err != nil {
		return 0, fmt.Errorf("read tail: the answer ends early: %w", err)
	}
	return end.After, nil
}

// Export copies every line of s, oldest first, to w as the server streams
// them: JSON objects one a line (format "json") or text as `heroku logs`
// prints it ("text"). An answer cut short is an error, never taken for the
// whole.
func (c *Client) Export(ctx context.Context, s Search, format string, w io.Writer) error {
	v := s.values()
	v.Set("format", format)
	body, err := c.stream(ctx, "/api/apps/"+url.PathEscape(s.App)+"/export?"+v.Encode())
	if err != nil {
		return err
	}
	defer body.Close()
	if _, err := io.Copy(w, body); err != nil {
		return fmt.Errorf("read export: %w", err)
	}
	return nil
}

// Line returns the line with id.
func (c *Client) Line(ctx context.Context, id int64) (Line, error) {
	var l Line
	err := c.do(ctx, http.MethodGet, "/api/lines/"+strconv.FormatInt(id, 10), nil, &l)
	return l, err
}

// Context returns the line with id and up to before and after lines around it
// in its app.
func (c *Client) Context(ctx context.Context, id int64, before, after int) (Context, error) {
	v := url.Values{"before": {strconv.Itoa(before)}, "after": {strconv.Itoa(after)}}
	var out Context
	err := c.do(ctx, http.MethodGet, "/api/lines/"+strconv.FormatInt(id, 10)+"/context?"+v.Encode(), nil, &out)
	return out, err
}

// Hits returns the number of lines of r per interval.
func (c *Client) Hits(ctx context.Context, r HitsRequest) (Hits, error) {
	var h Hits
	err := c.do(ctx, http.MethodGet, "/api/apps/"+url.PathEscape(r.App)+"/hits?"+r.values().Encode(), nil, &h)
	return h, err
}

// Facets returns the most frequent values of r's fields.
func (c *Client) Facets(ctx context.Context, r FacetsRequest) (Facets, error) {
	var f Facets
	err := c.do(ctx, http.MethodGet, "/api/apps/"+url.PathEscape(r.App)+"/facets?"+r.values().Encode(), nil, &f)
	return f, err
}

// stream sends a GET and returns the body of a 2xx answer, for the caller to
// read as it comes and close; another answer becomes a StatusError.
func (c *Client) stream(ctx context.Context, path string) (io.ReadCloser, error) {
	resp, err := c.send(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		return nil, statusError(resp)
	}
	return resp.Body, nil
}
