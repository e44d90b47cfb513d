package graphiql

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func TestPageAndAssets(t *testing.T) {
	h, err := New("/graphql", "/graphql")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	res, body := get(t, srv.URL+"/graphql", "text/html")
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("page: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	// Offline: every script and stylesheet is one of ours.
	for _, m := range regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(body, -1) {
		if !strings.HasPrefix(m[1], "/graphql/assets/") {
			t.Errorf("page loads %s, not an embedded asset", m[1])
		}
		r, b := get(t, srv.URL+m[1], "*/*")
		if r.StatusCode != 200 || len(b) < 1000 {
			t.Errorf("asset %s: %d, %d bytes", m[1], r.StatusCode, len(b))
		}
	}
	if !strings.Contains(body, `subscriptionUrl`) || !strings.Contains(body, `new URL("/graphql"`) {
		t.Errorf("page does not point the IDE at the endpoint:\n%s", body)
	}
	if r, _ := get(t, srv.URL+"/graphql/assets/graphiql.min.js", "*/*"); !strings.Contains(r.Header.Get("Content-Type"), "javascript") {
		t.Errorf("script served as %q", r.Header.Get("Content-Type"))
	}
	if r, _ := get(t, srv.URL+"/graphql/assets/nope.js", "*/*"); r.StatusCode != 404 {
		t.Errorf("missing asset: %d", r.StatusCode)
	}
}

func TestWantsIDE(t *testing.T) {
	cases := []struct {
		name, method, target, accept string
		want                         bool
	}{
		{"browser", "GET", "/graphql", "text/html,application/xhtml+xml", true},
		{"client GET query", "GET", "/graphql?query={a}", "text/html", false},
		{"json client", "GET", "/graphql", "application/json", false},
		{"post", "POST", "/graphql", "text/html", false},
	}
	for _, c := range cases {
		r := httptest.NewRequest(c.method, c.target, nil)
		r.Header.Set("Accept", c.accept)
		if got := WantsIDE(r); got != c.want {
			t.Errorf("%s: WantsIDE = %v", c.name, got)
		}
	}
}

func get(t *testing.T, url, accept string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Accept", accept)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}
