package console

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// Every page renders with the security headers and no inline script or
// style; every asset a page names is served, under a versioned URL that
// may be cached for ever; what is not a page is 404.
func TestPagesAndAssets(t *testing.T) {
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c)
	defer srv.Close()
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	ref := regexp.MustCompile(`(?:src|href)="(/assets/[^"]+)"`)
	inline := regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]|<style|\son[a-z]+=|style="`)
	for _, p := range pages {
		resp, body := get(p.Path)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Security-Policy") != ContentSecurityPolicy ||
			resp.Header.Get("X-Frame-Options") != "DENY" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("%s: %d %v", p.Path, resp.StatusCode, resp.Header)
		}
		if !strings.Contains(body, "<title>"+p.Title+" · Nexus</title>") || !strings.Contains(body, `<html lang="en">`) {
			t.Errorf("%s: no title or language:\n%s", p.Path, body)
		}
		if m := inline.FindString(body); m != "" {
			t.Errorf("%s: inline script or style %q", p.Path, m)
		}
		refs := ref.FindAllStringSubmatch(body, -1)
		if len(refs) < 2 {
			t.Errorf("%s names %d assets", p.Path, len(refs))
		}
		for _, m := range refs {
			aresp, abody := get(m[1])
			if aresp.StatusCode != 200 || abody == "" || !strings.Contains(aresp.Header.Get("Cache-Control"), "immutable") ||
				aresp.Header.Get("Content-Security-Policy") == "" {
				t.Errorf("%s: asset %s: %d %v", p.Path, m[1], aresp.StatusCode, aresp.Header)
			}
		}
	}
	// Modules import each other by their plain names.
	if resp, body := get("/assets/api.js"); resp.StatusCode != 200 || !strings.Contains(body, "export async function api") ||
		resp.Header.Get("Cache-Control") != "no-cache" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") {
		t.Errorf("plain module: %d %v", resp.StatusCode, resp.Header)
	}
	for _, p := range []string{"/nope", "/assets/nope.js", "/assets/../console.go", "/templates/layout.html"} {
		if resp, _ := get(p); resp.StatusCode != 404 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
}
