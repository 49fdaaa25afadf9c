package provider

import "strings"

// Route names the operation behind a path of a provider's HTTP API, for
// plain HTTP client spans that carry no gen_ai.operation.name. Pattern is
// matched against the end of the request path, segment by segment, so it
// holds whatever prefix (/api/v1, /2010-04-01) the client used; "{}" matches
// any one segment. Method "" matches every method.
type Route struct {
	Provider  string `mapstructure:"provider"`
	Method    string `mapstructure:"method"`
	Pattern   string `mapstructure:"pattern"`
	Operation string `mapstructure:"operation"`
}

// Operation returns the operation of a call to provider at path (a path or a
// full URL; query strings are ignored) by the first table whose route
// matches: configured routes before the provider's own. "" when no route
// matches. It does not allocate.
func Operation(provider, method, path string, tables ...[]Route) string {
	path = PathOf(path)
	for _, table := range tables {
		for i := range table {
			r := &table[i]
			if r.Provider != provider || (r.Method != "" && !strings.EqualFold(r.Method, method)) {
				continue
			}
			if matchTail(path, r.Pattern) {
				return r.Operation
			}
		}
	}
	return ""
}

// PathOf returns the path of a URL or path, without scheme, host, query or
// fragment, as a substring (no allocation).
func PathOf(s string) string {
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
		if j := strings.IndexByte(s, '/'); j >= 0 {
			s = s[j:]
		} else {
			return "/"
		}
	}
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	return s
}

// matchTail reports whether the last segments of path match pattern.
func matchTail(path, pattern string) bool {
	path = strings.TrimSuffix(path, "/")
	for pattern != "" {
		var pseg string
		if i := strings.LastIndexByte(pattern, '/'); i >= 0 {
			pattern, pseg = pattern[:i], pattern[i+1:]
		} else {
			pattern, pseg = "", pattern
		}
		i := strings.LastIndexByte(path, '/')
		if i < 0 {
			return false
		}
		seg := path[i+1:]
		path = path[:i]
		if seg == "" || (pseg != "{}" && pseg != seg) {
			return false
		}
	}
	return true
}
