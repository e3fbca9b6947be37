package ui

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
)

//go:embed static templates
var files embed.FS

// asset is one static file, served under a name that holds its content hash so
// that it can be cached for good: a new build with a changed file has a new name.
type asset struct {
	body, gzipped []byte
	contentType   string
}

// assets maps the logical names the templates use ("app.css",
// "vendor/uplot/uPlot.iife.min.js") to their hashed URL paths, and serves them.
type assets struct {
	urls   map[string]string // logical name → /ui/assets/name.HASH.ext
	byPath map[string]*asset // hashed file name → asset
}

func loadAssets() (*assets, error) {
	a := &assets{urls: map[string]string{}, byPath: map[string]*asset{}}
	err := fs.WalkDir(files, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "static/")
		sum := sha256.Sum256(body)
		ext := path.Ext(name)
		hashed := strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:5]) + ext
		ct := mime.TypeByExtension(ext)
		if ct == "" {
			ct = "text/plain; charset=utf-8"
		}
		a.urls[name] = "/ui/assets/" + hashed
		a.byPath[hashed] = &asset{body: body, gzipped: gzipBytes(body), contentType: ct}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load ui assets: %w", err)
	}
	return a, nil
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

// url returns the hashed URL of a logical asset name; templates call it as
// {{asset "app.css"}}. An unknown name is a bug in a template: it panics at
// render, which the tests exercise for every page.
func (a *assets) url(name string) string {
	u, ok := a.urls[name]
	if !ok {
		panic("ui: no asset " + strconv.Quote(name))
	}
	return u
}

// ServeHTTP serves /ui/assets/{hashed name}: immutable for a year, gzipped for
// clients that take it.
func (a *assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f := a.byPath[strings.TrimPrefix(r.URL.Path, "/ui/assets/")]
	if f == nil {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("Vary", "Accept-Encoding")
	body := f.body
	if acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
		body = f.gzipped
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(body)
}

// acceptsGzip reports whether the request's Accept-Encoding takes gzip with a
// quality above zero.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		q, ok := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q=")
		if !ok {
			return true
		}
		v, err := strconv.ParseFloat(q, 64)
		return err == nil && v > 0
	}
	return false
}
