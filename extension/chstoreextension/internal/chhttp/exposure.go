package chhttp

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Who may talk to the interface from a browser. ClickHouse answers
// add_http_cors_header=1 with "Access-Control-Allow-Origin: *", which lets
// any web page a user visits read query results; here only configured
// origins get CORS headers, and the parameter is ignored.
//
// DNS rebinding: a page on evil.example whose name is re-pointed at
// 127.0.0.1 talks to the interface as a same-origin page, so CORS does not
// apply; its requests carry "Host: evil.example". Requests are therefore
// answered only when the Host header is a loopback name, an IP address (a
// page cannot rebind an address: its origin is that address), or a
// configured name.

// corsAllowHeaders are the request headers ClickHouse clients send.
const corsAllowHeaders = "Origin, X-Requested-With, Content-Type, Authorization, X-ClickHouse-Format, " +
	"X-ClickHouse-User, X-ClickHouse-Key, X-ClickHouse-Database, X-ClickHouse-Query-Id"

// corsExposeHeaders lets a page read ClickHouse's answer headers.
const corsExposeHeaders = "X-ClickHouse-Query-Id, X-ClickHouse-Format, X-ClickHouse-Summary, " +
	"X-ClickHouse-Exception-Code, X-ClickHouse-Server-Display-Name"

type exposure struct {
	origins map[string]bool // normalised origins
	hosts   map[string]bool // lower-case host names
}

func newExposure(cfg Config) exposure {
	e := exposure{origins: map[string]bool{}, hosts: map[string]bool{}}
	for _, o := range cfg.CORSAllowedOrigins {
		if n, ok := NormalizeOrigin(o); ok {
			e.origins[n] = true
		}
	}
	for _, h := range cfg.AllowedHosts {
		e.hosts[strings.ToLower(strings.TrimSuffix(h, "."))] = true
	}
	return e
}

// NormalizeOrigin returns an origin as browsers send it
// ("scheme://host[:port]", lower case, no default port, no path) and
// whether s is one.
func NormalizeOrigin(s string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", false
	}
	host := strings.ToLower(u.Host)
	if port := u.Port(); (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		host = strings.ToLower(u.Hostname())
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
	}
	return strings.ToLower(u.Scheme) + "://" + host, true
}

// cors adds CORS headers when the request's origin is allowed. The
// preflight (OPTIONS) is answered by the caller, with these headers only
// for an allowed origin, so a browser refuses the request otherwise.
func (e exposure) cors(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return
	}
	hdr := w.Header()
	hdr.Add("Vary", "Origin")
	n, ok := NormalizeOrigin(origin)
	if !ok || !e.origins[n] {
		return
	}
	hdr.Set("Access-Control-Allow-Origin", origin)
	hdr.Set("Access-Control-Allow-Headers", corsAllowHeaders)
	hdr.Set("Access-Control-Allow-Methods", "GET, HEAD, POST, OPTIONS")
	hdr.Set("Access-Control-Expose-Headers", corsExposeHeaders)
	hdr.Set("Access-Control-Max-Age", "600")
}

// checkHost refuses a Host header that is neither a loopback name, an IP
// address nor a configured name.
func (e exposure) checkHost(r *http.Request) *queryError {
	host := r.Host
	if host == "" {
		return nil // HTTP/1.0 without Host: no browser sends that
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	if host == "localhost" || net.ParseIP(host) != nil || e.hosts[host] {
		return nil
	}
	return newError(codeAccessDenied, "ACCESS_DENIED",
		"Host header %q is not allowed: this HTTP interface answers localhost, IP addresses and the names in its "+
			"allowed_hosts (a check against DNS rebinding)", r.Host)
}
