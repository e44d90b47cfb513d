// Package graphiql serves the GraphiQL IDE for Circuit Breaker's GraphQL
// endpoint. Its assets (GraphiQL 3.9.0 and React 18.3.1, MIT, licences in
// assets/) are embedded in the binary: the IDE works offline, with no CDN.
// update.sh refreshes them from the npm registry.
package graphiql

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed index.html
var indexHTML string

//go:embed assets
var assets embed.FS

// defaultQuery is what the editor shows on first visit.
const defaultQuery = `# Welcome to Circuit Breaker.
# Ctrl-Enter runs the operation; the Docs panel lists the schema.
query Workflows {
  workflows {
    id
    name
    version
    states
  }
}
`

// Handler serves the IDE page at its mount point and the assets under
// <mount>/assets/. endpoint is the GraphQL URL the IDE talks to.
type Handler struct {
	page   []byte
	assets http.Handler
	prefix string
}

// New returns a handler mounted at base (e.g. "/graphql") that points the
// IDE at endpoint (usually the same path).
func New(base, endpoint string) (*Handler, error) {
	t, err := template.New("index").Parse(indexHTML)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, map[string]string{"Base": base, "Endpoint": endpoint, "DefaultQuery": defaultQuery}); err != nil {
		return nil, err
	}
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		return nil, err
	}
	return &Handler{
		page:   buf.Bytes(),
		assets: http.StripPrefix(base+"/assets/", http.FileServerFS(sub)),
		prefix: base + "/assets/",
	}, nil
}

// ServeHTTP serves the page or an asset.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, h.prefix) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		h.assets.ServeHTTP(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self' ws: wss:")
	_, _ = w.Write(h.page)
}

// WantsIDE reports whether a GET request comes from a browser asking for a
// page (rather than a GraphQL client using GET for a query).
func WantsIDE(r *http.Request) bool {
	return r.Method == http.MethodGet && r.URL.Query().Get("query") == "" &&
		strings.Contains(r.Header.Get("Accept"), "text/html")
}
