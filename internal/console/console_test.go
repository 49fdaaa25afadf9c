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
	c, err := New(nil)
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

// Without a session, a page answers with a redirect to signing in that
// brings the person back to the page and query they asked for; the
// sign-in page and the assets are served to anyone.
func TestPagesRedirectWithoutSession(t *testing.T) {
	c, err := New(func(r *http.Request) bool { return r.Header.Get("X-Test-Session") == "yes" })
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c)
	defer srv.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path, session string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Header.Set("X-Test-Session", session)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := get("/costs?group_by=model&from=2026-01-01", "no"); resp.StatusCode != http.StatusSeeOther ||
		resp.Header.Get("Location") != "/sign-in?next=%2Fcosts%3Fgroup_by%3Dmodel%26from%3D2026-01-01" ||
		resp.Header.Get("Content-Security-Policy") != ContentSecurityPolicy {
		t.Fatalf("page without a session: %d %v", resp.StatusCode, resp.Header)
	}
	if resp := get("/costs", "yes"); resp.StatusCode != 200 {
		t.Fatalf("page with a session: %d", resp.StatusCode)
	}
	if resp := get("/sign-in", "no"); resp.StatusCode != 200 {
		t.Fatalf("sign-in without a session: %d", resp.StatusCode)
	}
	if resp := get("/assets/api.js", "no"); resp.StatusCode != 200 {
		t.Fatalf("asset without a session: %d", resp.StatusCode)
	}
}
