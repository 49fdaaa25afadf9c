package apiproxyreceiver

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// requestDoc is what the proxy reads from a request body: the model and
// service tier asked for, and what bounds the answer's size. A limit that is
// absent, null or not an integer is 0.
type requestDoc struct {
	model, tier                                        string
	maxTokens, maxCompletionTokens, maxOutputTokens, n int64
}

// parseRequest reads a request body's top-level fields; ok is false when
// the body is not a JSON object. It reads as the providers do, not as
// encoding/json would: keys match exactly (encoding/json also takes
// "Max_Tokens" for max_tokens, which the provider ignores — a caller could
// shrink its own reservation that way) and the last of duplicate keys wins.
// Nested values are skipped, not decoded: a chat request is mostly its
// messages, and a 100 KiB body is read in ~140 µs where encoding/json took
// ~680 (the budget check reads it on the request path).
func parseRequest(body []byte) (requestDoc, bool) {
	var d requestDoc
	if tooDeep(body) || !gjson.ValidBytes(body) {
		return d, false
	}
	top := gjson.ParseBytes(body)
	if !top.IsObject() {
		return d, false
	}
	top.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "model":
			setString(&d.model, v)
		case "service_tier":
			setString(&d.tier, v)
		case "max_tokens":
			setInt(&d.maxTokens, v)
		case "max_completion_tokens":
			setInt(&d.maxCompletionTokens, v)
		case "max_output_tokens":
			setInt(&d.maxOutputTokens, v)
		case "n":
			setInt(&d.n, v)
		}
		return true
	})
	return d, true
}

// maxDepth bounds how deeply a body read here may nest. gjson validates by
// recursion, one call per level: a body of a few million "[" would overflow
// the goroutine's stack, a fatal error that ends the collector, not a
// panic. It is encoding/json's own limit, so what it refused is refused
// alike (the defaults hold).
const maxDepth = 10_000

// tooDeep reports whether body nests deeper than maxDepth. Counting the
// brackets first (a vectorised scan) spares real requests, which have far
// fewer, the walk that tells brackets in strings from the others.
func tooDeep(body []byte) bool {
	if bytes.Count(body, []byte{'['})+bytes.Count(body, []byte{'{'}) <= maxDepth {
		return false
	}
	depth, inString := 0, false
	for i := 0; i < len(body); i++ {
		switch c := body[i]; {
		case inString && c == '\\':
			i++ // the escaped character, a quote included
		case c == '"':
			inString = !inString
		case inString:
		case c == '[' || c == '{':
			if depth++; depth > maxDepth {
				return true
			}
		case c == ']' || c == '}':
			depth--
		}
	}
	return false
}

// setString takes a string value; a value of another type leaves dst.
func setString(dst *string, v gjson.Result) {
	if v.Type == gjson.String {
		*dst = strings.ToValidUTF8(v.Str, "\uFFFD")
	}
}

// setInt takes an integer value (1.5 and 1e3 are not), null clears it, a
// value of another type leaves dst.
func setInt(dst *int64, v gjson.Result) {
	switch v.Type {
	case gjson.Null:
		*dst = 0
	case gjson.Number:
		if n, err := strconv.ParseInt(v.Raw, 10, 64); err == nil {
			*dst = n
		}
	}
}
