package chhttp

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Settings in the policy: SETTINGS clauses as the lexer sees them, and
// the rules of policylists.go applied to them and to the URL's.

// assignment is one "name = value" of a SETTINGS clause.
type assignment struct {
	name  string
	value settingValue
}

// settingValue is a setting's value as given.
type settingValue struct {
	literal   string // SQL text to set it with ('' when not a literal)
	text      string // decoded value, for numeric checks
	isDefault bool   // the DEFAULT keyword
}

// parseAssignments reads "name = value, …" from the start of toks; it
// stops at the first token that does not continue the list (the engine
// reports a malformed list).
func parseAssignments(src string, toks []token) []assignment {
	var out []assignment
	for i := 0; i+2 < len(toks); {
		n := toks[i]
		if (n.kind != tokWord && n.kind != tokQuoted) || !toks[i+1].isPunct(src, '=') {
			break
		}
		v, used := parseLiteral(src, toks[i+2:])
		i += 2 + max(used, 1)
		if i < len(toks) && toks[i].kind == tokPunct && !toks[i].isPunct(src, ',') && !toks[i].isPunct(src, ')') {
			v.literal = "" // an expression (1+1), which the check refuses
		}
		out = append(out, assignment{name: n.name(src), value: v})
		if i >= len(toks) || !toks[i].isPunct(src, ',') {
			break
		}
		i++
	}
	return out
}

// parseLiteral reads a setting value: a string, an optionally negative
// number (with an exponent such as 1e6), true/false, or DEFAULT. Anything
// else yields an empty literal, which the check refuses.
func parseLiteral(src string, toks []token) (settingValue, int) {
	if len(toks) == 0 {
		return settingValue{}, 0
	}
	t := toks[0]
	switch {
	case t.kind == tokString || t.kind == tokHeredoc:
		raw := t.stringValue(src)
		if t.kind == tokString {
			raw = unescapeQuoted(raw)
		}
		return settingValue{literal: t.text(src), text: raw}, 1
	case t.isWord(src, "DEFAULT"):
		return settingValue{isDefault: true}, 1
	case t.isWord(src, "true"), t.isWord(src, "false"):
		return settingValue{literal: t.text(src), text: t.text(src)}, 1
	case t.kind == tokNumber:
		end, used := t.end, 1
		if len(toks) > 1 && toks[1].kind == tokWord && toks[1].start == end && isExponent(toks[1].text(src)) {
			end, used = toks[1].end, 2
		}
		text := src[t.start:end]
		return settingValue{literal: text, text: text}, used
	case t.isPunct(src, '-') && len(toks) > 1 && toks[1].kind == tokNumber && toks[1].start == t.end:
		v, used := parseLiteral(src, toks[1:])
		v.literal, v.text = "-"+v.literal, "-"+v.text
		return v, used + 1
	}
	return settingValue{}, 1
}

func isExponent(s string) bool {
	if len(s) < 2 || (s[0] != 'e' && s[0] != 'E') {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// settingRuleFor finds a setting's rule for statement st ("" kind for URL
// settings of any statement).
func (p policy) settingRuleFor(st *statement, name string) (settingRule, bool) {
	n := strings.ToLower(name)
	if r, ok := readSettings[n]; ok {
		return r, true
	}
	if !p.write {
		return 0, false
	}
	if r, ok := writeSettings[n]; ok {
		return r, true
	}
	if st != nil && (strings.EqualFold(st.kind, "CREATE") || strings.EqualFold(st.kind, "ALTER")) {
		r, ok := tableSettings[n]
		return r, ok
	}
	return 0, false
}

// notAllowedSettings refuses settings off the allow-list, naming them all.
func notAllowedSettings(names ...string) *sqlError {
	what := "Setting '" + strings.Join(names, "', '") + "' is"
	if len(names) > 1 {
		what = "Settings '" + strings.Join(names, "', '") + "' are"
	}
	return accessDenied("%s not allowed on this HTTP interface (settings are an allow-list: "+
		"output formatting, and limits that may only be lowered)", what)
}

// checkSetting judges one setting and returns the literal to set it with.
// A value above a ceiling is refused, except that clamp lowers it to the
// ceiling instead: for clients that put the value there on their own
// (clickhouse-go sends its context's remaining time + 5 s as
// max_execution_time). Either way the ceiling holds.
func (p policy) checkSetting(st *statement, name string, v settingValue, clamp bool) (string, *sqlError) {
	rule, ok := p.settingRuleFor(st, name)
	if !ok {
		return "", notAllowedSettings(name)
	}
	if v.isDefault {
		// The engine resets a setting to its built-in default on DEFAULT
		// even at readonly=1 and past constraints (measured), so this
		// check is the only guard.
		return "", accessDenied("Setting '%s' cannot be reset to DEFAULT on this HTTP interface", name)
	}
	if v.literal == "" {
		return "", &sqlError{code: codeBadArguments, msg: fmt.Sprintf(
			"Code: 36. DB::Exception: The value of setting '%s' must be a string, number or boolean literal. (BAD_ARGUMENTS)", name)}
	}
	if p.tenant && analyzerSettings[name] {
		if t := strings.ToLower(strings.TrimSpace(v.text)); t != "1" && t != "true" {
			return "", accessDenied("Setting '%s' = %s is not allowed for tenant users: their queries run on the analyzer, "+
				"the one that applies the tenant's filter to merge()", name, v.text)
		}
	}
	if rule == anyLiteral {
		return v.literal, nil
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v.text), 64)
	ceiling := p.ceiling(rule)
	switch {
	case err != nil:
		return "", &sqlError{code: codeBadArguments, msg: fmt.Sprintf(
			"Code: 36. DB::Exception: The value of setting '%s' must be a number, got %s. (BAD_ARGUMENTS)", name, v.literal)}
	case f < 0 || f == 0 && rule != threads:
		return "", accessDenied("Setting '%s' = %s would lift a limit: on this HTTP interface it may only be lowered, "+
			"to a value above 0", name, v.text)
	case rule == execTime && f < 1:
		// The engine profile's lower bound (engineprofile.go).
		return "", accessDenied("Setting '%s' = %s is below 1 second, the least this HTTP interface allows", name, v.text)
	case ceiling > 0 && f > ceiling && clamp:
		return strconv.FormatFloat(ceiling, 'f', -1, 64), nil
	case ceiling > 0 && f > ceiling:
		return "", accessDenied("Setting '%s' = %s is above this HTTP interface's limit of %s: it may only be lowered",
			name, v.text, strconv.FormatFloat(ceiling, 'f', -1, 64))
	}
	return v.literal, nil
}

func (p policy) ceiling(rule settingRule) float64 {
	switch rule {
	case execTime:
		return p.limits.MaxExecutionTime.Seconds()
	case resultBytes:
		return float64(p.limits.MaxResultBytes)
	case memoryUsage:
		return float64(p.limits.MaxMemoryUsage)
	case threads:
		return float64(max(p.cpus, 1))
	case querySize:
		return maxStatementBytes
	}
	return 0
}

// assignments lists the statement's SETTINGS assignments, at any depth,
// in order.
func (st *statement) assignments() []assignment {
	var out []assignment
	for i, t := range st.toks {
		if t.isWord(st.src, "SETTINGS") || t.isWord(st.src, "SETTING") && i > 0 && st.toks[i-1].isWord(st.src, "MODIFY") {
			out = append(out, parseAssignments(st.src, st.toks[i+1:])...)
		}
	}
	return out
}

// urlSettings checks the URL's settings, naming every one off the
// allow-list. Clients that speak the native protocol over HTTP
// (client_protocol_version: clickhouse-go, and Grafana through it) derive
// max_execution_time from their own deadline; for them a value above the
// ceiling is lowered to it rather than refused.
func (h *handler) urlSettings(pol policy, st *statement, params url.Values) ([]Setting, *queryError) {
	var out []Setting
	var denied []string
	clamp := params.Has("client_protocol_version")
	for _, s := range querySettings(params) {
		if !isIdentifier(s.name) {
			return nil, newError(codeUnknownSetting, "UNKNOWN_SETTING", "Unknown setting '%s'", s.name)
		}
		if _, ok := pol.settingRuleFor(st, s.name); !ok {
			denied = append(denied, s.name)
			continue
		}
		lit, err := pol.checkSetting(st, s.name, settingValue{literal: quoteString(s.value), text: s.value}, clamp)
		if err != nil {
			return nil, toQueryError(err)
		}
		out = append(out, Setting{Name: s.name, Literal: lit})
	}
	if len(denied) > 0 {
		return nil, toQueryError(notAllowedSettings(denied...))
	}
	return out, nil
}

// httpOnlyParams are URL parameters of ClickHouse's HTTP interface that are
// not settings to pass to the engine (handled here, or without meaning here).
var httpOnlyParams = func() map[string]bool {
	m := map[string]bool{}
	for _, p := range strings.Fields(`
		query database default_format user password quota_key query_id
		session_id session_timeout session_check compress decompress readonly
		buffer_size wait_end_of_query enable_http_compression http_zlib_compression_level
		http_native_compression_disable_checksumming_on_decompress
		send_progress_in_http_headers http_headers_progress_interval_ms
		add_http_cors_header cancel_http_readonly_queries_on_client_close
		http_response_buffer_size http_wait_end_of_query http_write_exception_in_output_format
		stacktrace role client_protocol_version`) {
		m[p] = true
	}
	return m
}()

type setting struct{ name, value string }

// querySettings collects the URL parameters that are settings, by name.
func querySettings(params url.Values) []setting {
	var out []setting
	for k, vs := range params {
		if httpOnlyParams[k] || strings.HasPrefix(k, "param_") {
			continue
		}
		out = append(out, setting{k, vs[len(vs)-1]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}
