package browsertest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The accessibility check finds what a page breaks: an unlabelled input
// and an image without alternative text are reported; a clean page has
// nothing serious.
func TestAccessibilityFindsViolations(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		if r.URL.Path == "/bad" {
			_, _ = w.Write([]byte(`<!doctype html><html lang="en"><head><title>bad</title></head><body><main>
<h1>Bad</h1><form><input type="text"></form><img src="/x.png"></main></body></html>`))
			return
		}
		_, _ = w.Write([]byte(`<!doctype html><html lang="en"><head><title>good</title></head><body><main>
<h1>Good</h1><form><label for="a">Name</label><input id="a" type="text"></form></main></body></html>`))
	}))
	defer srv.Close()
	ctx := Start(t, 60*time.Second)
	ids := func(path string) string {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+path)); err != nil {
			t.Fatal(err)
		}
		found, err := Accessibility(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, v := range found {
			if v.Impact == "serious" || v.Impact == "critical" {
				out = append(out, v.ID)
			}
		}
		return strings.Join(out, ",")
	}
	if got := ids("/bad"); !strings.Contains(got, "label") || !strings.Contains(got, "image-alt") {
		t.Fatalf("bad page: %q", got)
	}
	if got := ids("/good"); got != "" {
		t.Fatalf("good page: %q", got)
	}
}
