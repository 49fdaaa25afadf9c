package dashboards

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// All is the value Grafana stores for a variable set to "All".
const All = "$__all"

// Value is a variable's current value.
type Value struct {
	// Values is the selection. For All it is every option: what Grafana
	// substitutes for the variable when it has no custom all value.
	Values []string
	// Multi says the variable is multi-value: Grafana then hands the
	// plugin a list even for a single selection, which the plugin quotes.
	Multi bool
	// All says "All" is selected ($__conditionalAll drops its condition).
	All bool
}

// Single is the value of a single-value variable.
func Single(v string) Value { return Value{Values: []string{v}} }

// Multi is a selection of a multi-value variable.
func Multi(vs ...string) Value { return Value{Values: vs, Multi: true} }

// AllOf is "All" selected in a multi-value variable whose options are
// options.
func AllOf(options ...string) Value { return Value{Values: options, Multi: true, All: true} }

// Vars are variable values by name.
type Vars map[string]Value

// Expand is what a panel's SQL becomes on its way to ClickHouse, step for
// step as Grafana and grafana-clickhouse-datasource (v4) do it:
//
//  1. the plugin's front end resolves $__conditionalAll(condition, $var):
//     the condition, or 1=1 when the variable is All (or empty);
//  2. Grafana interpolates variables — $var, ${var}, [[var]] and
//     ${var:format} — through the plugin's formatter (a list becomes
//     'a','b'; a single value goes in as it is);
//  3. the plugin's back end expands its macros, longest name first:
//     $__timeFilter(c) → c >= toDateTime(from) AND c <= toDateTime(to),
//     $__timeFilter_ms(c) with fromUnixTimestamp64Milli, $__dateFilter(c)
//     with toDate('YYYY-MM-DD'), $__dateTimeFilter(d, t) and $__dt,
//     $__timeInterval(c) → toStartOfInterval(toDateTime(c), INTERVAL n
//     second) and $__timeInterval_ms, $__interval_s → n (n = the
//     interval in whole seconds, at least 1), $__fromTime/$__toTime →
//     toDateTime(unix) and their _ms forms.
//
// It is stricter than Grafana where Grafana would hide a mistake: an
// unknown variable or macro, a malformed macro, a $__conditionalAll whose
// variable the plugin would not recognise (${var:format}), or an All
// variable without its options is an error rather than text left in
// place.
func Expand(sql string, vars Vars, from, to time.Time, interval time.Duration) (string, error) {
	s, err := conditionalAll(sql, vars)
	if err != nil {
		return "", err
	}
	if s, err = interpolate(s, vars, from, to, interval); err != nil {
		return "", err
	}
	return expandMacros(s, from, to, interval)
}

const conditionalAllMacro = "$__conditionalAll("

// conditionalAllVar finds the variable in $__conditionalAll's second
// argument as the plugin does: the first ${name} or $name (not
// ${name:format}).
var conditionalAllVar = regexp.MustCompile(`\$\{(\w+)\}|\$(\w+)`)

// conditionalAll resolves $__conditionalAll from the last occurrence to
// the first, as the plugin's applyConditionalAll does.
func conditionalAll(sql string, vars Vars) (string, error) {
	for {
		i := strings.LastIndex(sql, conditionalAllMacro)
		if i < 0 {
			return sql, nil
		}
		params := macroArgsJS(sql[i+len(conditionalAllMacro)-1:])
		if len(params) != 2 {
			return "", fmt.Errorf("$__conditionalAll at offset %d: want (condition, $variable), got %d arguments", i, len(params))
		}
		m := conditionalAllVar.FindStringSubmatch(strings.TrimSpace(params[1]))
		if m == nil {
			return "", fmt.Errorf("$__conditionalAll(%s,%s): the second argument names no variable as $var or ${var}", params[0], params[1])
		}
		name := m[1] + m[2]
		v, ok := vars[name]
		if !ok {
			return "", fmt.Errorf("$__conditionalAll: unknown variable %q", name)
		}
		phrase := params[0]
		if v.All || strings.Join(v.Values, ",") == "" {
			phrase = "1=1"
		}
		sql = strings.Replace(sql, conditionalAllMacro+params[0]+","+params[1]+")", phrase, 1)
	}
}

// macroArgsJS splits "(a, b(c, d), e)…" into its arguments at the commas
// of the first level, untrimmed, as the plugin's getMacroArgs does; nil
// when the parentheses do not close.
func macroArgsJS(s string) []string {
	var args []string
	depth, last := 0, 1
	for i, r := range s {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 1 {
				args = append(args, s[last:i])
				last = i + 1
			}
		default:
			continue
		}
		if depth == 0 {
			return append(args, s[last:i])
		}
	}
	return nil
}

// grafanaVar is Grafana's variable syntax: $name, [[name:format]] and
// ${name.field:format}.
var grafanaVar = regexp.MustCompile(`\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^\}]+))?(?::([^\}]+))?\}`)

func interpolate(sql string, vars Vars, from, to time.Time, interval time.Duration) (string, error) {
	var firstErr error
	out := grafanaVar.ReplaceAllStringFunc(sql, func(ref string) string {
		m := grafanaVar.FindStringSubmatch(ref)
		name, format := m[1]+m[2]+m[4], m[3]+m[6]
		if m[5] != "" {
			firstErr = cmpErr(firstErr, fmt.Errorf("%s: field paths are not supported", ref))
			return ref
		}
		v, ok := vars[name]
		if !ok {
			if g, ok := globalVar(name, from, to, interval); ok {
				return g
			}
			if strings.HasPrefix(name, "__") {
				return ref // a macro, for the plugin's back end
			}
			firstErr = cmpErr(firstErr, fmt.Errorf("%s: unknown variable %q", ref, name))
			return ref
		}
		if v.All && len(v.Values) == 0 {
			firstErr = cmpErr(firstErr, fmt.Errorf("%s: variable %q is All but its options are not given", ref, name))
			return ref
		}
		s, err := formatValue(v, format)
		if err != nil {
			firstErr = cmpErr(firstErr, fmt.Errorf("%s: %w", ref, err))
			return ref
		}
		return s
	})
	return out, firstErr
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// globalVar is one of Grafana's built-in variables.
func globalVar(name string, from, to time.Time, interval time.Duration) (string, bool) {
	switch name {
	case "__from":
		return strconv.FormatInt(from.UnixMilli(), 10), true
	case "__to":
		return strconv.FormatInt(to.UnixMilli(), 10), true
	case "__interval_ms":
		return strconv.FormatInt(interval.Milliseconds(), 10), true
	case "__interval":
		return intervalText(interval), true
	case "__range_s":
		return strconv.FormatInt(int64(to.Sub(from).Seconds()), 10), true
	case "__range_ms":
		return strconv.FormatInt(to.Sub(from).Milliseconds(), 10), true
	}
	return "", false
}

// intervalText writes an interval as Grafana does: 500ms, 30s, 5m, 2h, 1d.
func intervalText(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0 && d > 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0 && d > 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0 && d > 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d%time.Second == 0 && d > 0:
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return fmt.Sprintf("%dms", d.Milliseconds())
}

// formatValue renders a value in one of Grafana's formats; without one, as
// the plugin's formatter does: a list (multi-value variable) becomes
// 'a','b', a single value goes in as it is.
func formatValue(v Value, format string) (string, error) {
	quote := func(q, esc string) string {
		parts := make([]string, len(v.Values))
		for i, s := range v.Values {
			parts[i] = q + strings.ReplaceAll(s, q, esc) + q
		}
		return strings.Join(parts, ",")
	}
	switch format {
	case "":
		if v.Multi {
			return "'" + strings.Join(v.Values, "','") + "'", nil
		}
		return strings.Join(v.Values, ","), nil
	case "singlequote":
		return quote("'", `\'`), nil
	case "doublequote":
		return quote(`"`, `\"`), nil
	case "sqlstring":
		return quote("'", "''"), nil
	case "raw", "csv":
		return strings.Join(v.Values, ","), nil
	case "pipe":
		return strings.Join(v.Values, "|"), nil
	}
	return "", fmt.Errorf("format %q is not supported", format)
}

// macro is one of the plugin's back-end macros.
type macro struct {
	args int // -1: none taken
	fn   func(args []string, from, to time.Time, interval time.Duration) string
}

func dateTime(t time.Time) string { return fmt.Sprintf("toDateTime(%d)", t.Unix()) }
func dateTime64(t time.Time) string {
	return fmt.Sprintf("fromUnixTimestamp64Milli(%d)", t.UnixMilli())
}
func date(t time.Time) string { return fmt.Sprintf("toDate('%s')", t.UTC().Format("2006-01-02")) }
func intervalSeconds(d time.Duration) int {
	return int(math.Max(d.Seconds(), 1))
}

// macros are grafana-clickhouse-datasource's (pkg/macros).
var macros = map[string]macro{
	"fromTime":    {-1, func(_ []string, from, _ time.Time, _ time.Duration) string { return dateTime(from) }},
	"toTime":      {-1, func(_ []string, _, to time.Time, _ time.Duration) string { return dateTime(to) }},
	"fromTime_ms": {-1, func(_ []string, from, _ time.Time, _ time.Duration) string { return dateTime64(from) }},
	"toTime_ms":   {-1, func(_ []string, _, to time.Time, _ time.Duration) string { return dateTime64(to) }},
	"timeFilter": {1, func(a []string, from, to time.Time, _ time.Duration) string {
		return fmt.Sprintf("%s >= %s AND %s <= %s", a[0], dateTime(from), a[0], dateTime(to))
	}},
	"timeFilter_ms": {1, func(a []string, from, to time.Time, _ time.Duration) string {
		return fmt.Sprintf("%s >= %s AND %s <= %s", a[0], dateTime64(from), a[0], dateTime64(to))
	}},
	"dateFilter": {1, func(a []string, from, to time.Time, _ time.Duration) string {
		return fmt.Sprintf("%s >= %s AND %s <= %s", a[0], date(from), a[0], date(to))
	}},
	"dateTimeFilter": {2, dateTimeFilter},
	"dt":             {2, dateTimeFilter},
	"timeInterval": {1, func(a []string, _, _ time.Time, d time.Duration) string {
		return fmt.Sprintf("toStartOfInterval(toDateTime(%s), INTERVAL %d second)", a[0], intervalSeconds(d))
	}},
	"timeInterval_ms": {1, func(a []string, _, _ time.Time, d time.Duration) string {
		return fmt.Sprintf("toStartOfInterval(toDateTime64(%s, 3), INTERVAL %d millisecond)", a[0], int(math.Max(float64(d.Milliseconds()), 1)))
	}},
	"interval_s": {-1, func(_ []string, _, _ time.Time, d time.Duration) string { return strconv.Itoa(intervalSeconds(d)) }},
}

func dateTimeFilter(a []string, from, to time.Time, _ time.Duration) string {
	return fmt.Sprintf("(%s >= %s AND %s <= %s) AND (%s >= %s AND %s <= %s)",
		a[0], date(from), a[0], date(to), a[1], dateTime(from), a[1], dateTime(to))
}

// TimeMacros are the macros that bound a query to the dashboard's range.
var TimeMacros = []string{"timeFilter", "timeFilter_ms", "dateFilter", "dateTimeFilter", "dt",
	"fromTime", "toTime", "fromTime_ms", "toTime_ms"}

var macroNames = func() []string {
	var names []string
	for n := range macros {
		names = append(names, n)
	}
	// Longest first, as sqlds applies them: $__timeFilter_ms before
	// $__timeFilter.
	sort.Slice(names, func(i, j int) bool {
		if len(names[i]) != len(names[j]) {
			return len(names[i]) > len(names[j])
		}
		return names[i] < names[j]
	})
	return names
}()

var macroPatterns = func() map[string]*regexp.Regexp {
	out := map[string]*regexp.Regexp{}
	for n := range macros {
		out[n] = regexp.MustCompile(`\$__` + n + `\b`)
	}
	return out
}()

var anyMacro = regexp.MustCompile(`\$__\w+`)

// expandMacros applies the plugin's macros as sqlds does: each macro
// name in turn, longest first; each match, with its parenthesised
// arguments split at the commas of the first level and trimmed, is
// replaced wherever the same text occurs.
func expandMacros(sql string, from, to time.Time, interval time.Duration) (string, error) {
	for _, name := range macroNames {
		m := macros[name]
		for {
			loc := macroPatterns[name].FindStringIndex(sql)
			if loc == nil {
				break
			}
			args, n := macroArgs(sql[loc[1]:])
			if n < 0 {
				return "", fmt.Errorf("$__%s: missing closing parenthesis", name)
			}
			want := max(m.args, 0)
			if len(args) != want {
				return "", fmt.Errorf("$__%s: expected %d argument(s), received %d", name, want, len(args))
			}
			full := sql[loc[0] : loc[1]+n]
			sql = strings.ReplaceAll(sql, full, m.fn(args, from, to, interval))
		}
	}
	if left := anyMacro.FindString(sql); left != "" {
		return "", fmt.Errorf("%s: not a macro of grafana-clickhouse-datasource", left)
	}
	return sql, nil
}

// macroArgs is sqlds's parseArgs: the trimmed arguments of a bracketed
// list at the start of s and its length; (nil, 0) when s does not start
// with "(", (nil, -1) when the bracket does not close.
func macroArgs(s string) ([]string, int) {
	if !strings.HasPrefix(s, "(") {
		return nil, 0
	}
	var args []string
	depth := 0
	var arg strings.Builder
	for i, r := range s {
		switch r {
		case '(':
			depth++
			if depth == 1 {
				continue
			}
		case ')':
			depth--
			if depth == 0 {
				return append(args, strings.TrimSpace(arg.String())), i + 1
			}
		case ',':
			if depth == 1 {
				args = append(args, strings.TrimSpace(arg.String()))
				arg.Reset()
				continue
			}
		}
		arg.WriteRune(r)
	}
	return nil, -1
}
