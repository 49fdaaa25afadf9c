// Package console is Nexus's own dashboard in the browser: pages rendered
// with html/template around assets embedded in the binary, served by the
// API extension on its port. The pages are shells: the data comes from
// the REST API and the live stream, with the browser's session cookie, so
// every page sees exactly what the API lets its person see.
//
// No script or style is inline and nothing loads from another origin: the
// Content-Security-Policy says so (script-src 'self'), and a page that
// tried would be refused by the browser.
package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// ContentSecurityPolicy is sent with every page and asset: same-origin
// scripts, styles, images and connections only; no frames, no plugins,
// forms post to this origin.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// page is one page of the console: its path, title and template.
type page struct {
	Path, Title, Template string
	// Nav puts the page in the navigation.
	Nav bool
	// Public pages are served without a session (signing in).
	Public bool
}

// pages are the console's pages, in the navigation's order.
var pages = []page{
	{Path: "/", Title: "Overview", Template: "overview.html", Nav: true},
	{Path: "/costs", Title: "Costs", Template: "costs.html", Nav: true},
	{Path: "/calls", Title: "Calls", Template: "calls.html", Nav: true},
	{Path: "/budgets", Title: "Budgets", Template: "budgets.html", Nav: true},
	{Path: "/alerts", Title: "Alerts", Template: "alerts.html", Nav: true},
	{Path: "/providers", Title: "Providers", Template: "providers.html", Nav: true},
	{Path: "/insights", Title: "Insights", Template: "insights.html", Nav: true},
	{Path: "/admin", Title: "Admin", Template: "admin.html", Nav: true},
	{Path: "/sign-in", Title: "Sign in", Template: "signin.html", Public: true},
}

// Console serves the pages and their assets.
type Console struct {
	pages map[string]*template.Template
	// assets are the embedded files by their versioned path
	// (/assets/name.<hash>.ext), so that a browser may cache them for
	// ever and a new binary's are new URLs.
	assets map[string][]byte
	// urls maps an asset's name to its versioned path, for the templates.
	urls map[string]string
	// plain are the assets by their unversioned path (/assets/name.ext):
	// the URLs that modules import one another by, revalidated each time.
	plain map[string][]byte
	// signedIn tells whether a request comes with a live session; nil
	// serves every page to anyone (their data still needs the API).
	signedIn func(*http.Request) bool
}

// New parses the pages and indexes the assets. A page other than signing
// in, asked for by a request signedIn refuses, is answered with a
// redirect to the sign-in page (and back after): the person never sees
// an empty shell first, and the browser makes one navigation, not two.
func New(signedIn func(*http.Request) bool) (*Console, error) {
	c := &Console{pages: map[string]*template.Template{}, assets: map[string][]byte{}, urls: map[string]string{}, plain: map[string][]byte{},
		signedIn: signedIn}
	err := fs.WalkDir(assetFS, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := assetFS.ReadFile(p)
		if err != nil {
			return fmt.Errorf("read asset %s: %w", p, err)
		}
		sum := sha256.Sum256(b)
		name := strings.TrimPrefix(p, "assets/")
		ext := path.Ext(name)
		versioned := "/assets/" + strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:6]) + ext
		c.assets[versioned], c.urls[name], c.plain["/assets/"+name] = b, versioned, b
		return nil
	})
	if err != nil {
		return nil, err
	}
	funcs := template.FuncMap{"asset": func(name string) (string, error) {
		if u, ok := c.urls[name]; ok {
			return u, nil
		}
		return "", fmt.Errorf("no asset %s", name)
	}}
	for _, p := range pages {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+p.Template)
		if err != nil {
			return nil, fmt.Errorf("parse page %s: %w", p.Template, err)
		}
		// Render once now: a template that fails on its data fails the
		// start, not a person's first visit.
		if err := t.Execute(&bytes.Buffer{}, view{Page: p, Nav: pages}); err != nil {
			return nil, fmt.Errorf("render page %s: %w", p.Template, err)
		}
		c.pages[p.Path] = t
	}
	return c, nil
}

// view is what a page template gets.
type view struct {
	Page page
	Nav  []page
}

// Patterns are the mux patterns the console answers (for the API's mux,
// beside /api/).
func (c *Console) Patterns() []string {
	out := []string{"GET /assets/"}
	for _, p := range pages {
		if p.Path == "/" {
			out = append(out, "GET /{$}")
		} else {
			out = append(out, "GET "+p.Path)
		}
	}
	return out
}

// ServeHTTP answers a page or an asset, with the security headers.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	if b, ok := c.assets[r.URL.Path]; ok {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		h.Set("Content-Type", contentType(r.URL.Path))
		_, _ = w.Write(b)
		return
	}
	if b, ok := c.plain[r.URL.Path]; ok {
		h.Set("Cache-Control", "no-cache")
		h.Set("Content-Type", contentType(r.URL.Path))
		_, _ = w.Write(b)
		return
	}
	t, ok := c.pages[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	var p page
	for _, q := range pages {
		if q.Path == r.URL.Path {
			p = q
		}
	}
	if !p.Public && c.signedIn != nil && !c.signedIn(r) {
		h.Set("Cache-Control", "no-store")
		http.Redirect(w, r, "/sign-in?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, view{Page: p, Nav: pages}); err != nil {
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	// Pages are shells whose data the browser fetches: they may be cached
	// only until the binary changes, which revalidation tells.
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
}

func contentType(p string) string {
	switch path.Ext(p) {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	}
	return "application/octet-stream"
}
