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

// Routes are the operations Nexus knows. Apollo operations are named by the
// endpoint path (without /api/v1), as its credit table is.
var Routes = []Route{
	{Provider: Exa, Pattern: "search", Operation: "search"},
	{Provider: Exa, Pattern: "contents", Operation: "contents"},
	{Provider: Exa, Pattern: "answer", Operation: "answer"},
	{Provider: Exa, Pattern: "findSimilar", Operation: "find_similar"},
	{Provider: Exa, Pattern: "research/v1", Operation: "research"},
	{Provider: Exa, Pattern: "research/v1/{}", Operation: "research"},

	{Provider: Twilio, Method: "POST", Pattern: "Accounts/{}/Messages.json", Operation: "sms"},
	{Provider: Twilio, Method: "POST", Pattern: "Accounts/{}/Calls.json", Operation: "voice"},
	{Provider: Twilio, Pattern: "Accounts/{}/Messages/{}", Operation: "sms_status"},
	{Provider: Twilio, Pattern: "Accounts/{}/Calls/{}", Operation: "voice_status"},

	{Provider: Apollo, Pattern: "people/match", Operation: "people/match"},
	{Provider: Apollo, Pattern: "people/bulk_match", Operation: "people/bulk_match"},
	{Provider: Apollo, Pattern: "mixed_people/search", Operation: "mixed_people/search"},
	{Provider: Apollo, Pattern: "mixed_companies/search", Operation: "mixed_companies/search"},
	{Provider: Apollo, Pattern: "organizations/enrich", Operation: "organizations/enrich"},
	{Provider: Apollo, Pattern: "organizations/bulk_enrich", Operation: "organizations/bulk_enrich"},
	{Provider: Apollo, Pattern: "organizations/{}", Operation: "organizations/show"},
	{Provider: Apollo, Pattern: "people/{}", Operation: "people/show"},

	{Provider: OpenAI, Pattern: "chat/completions", Operation: "chat"},
	{Provider: OpenAI, Pattern: "responses", Operation: "chat"},
	{Provider: OpenAI, Pattern: "completions", Operation: "text_completion"},
	{Provider: OpenAI, Pattern: "embeddings", Operation: "embeddings"},
	{Provider: OpenRouter, Pattern: "chat/completions", Operation: "chat"},
	{Provider: OpenRouter, Pattern: "completions", Operation: "text_completion"},
	{Provider: OpenRouter, Pattern: "embeddings", Operation: "embeddings"},
}

// Operation returns the operation of a call to provider at path (a path or a
// full URL; query strings are ignored), trying extra routes before the
// built-in ones. "" when no route matches. It does not allocate.
func Operation(provider, method, path string, extra []Route) string {
	path = PathOf(path)
	for _, table := range [2][]Route{extra, Routes} {
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
