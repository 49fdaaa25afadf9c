package nexusapiextension

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/nexus-otel/nexus/internal/schema"
)

// filters are the scope and time range every read resource accepts, and
// the tenant they read: the caller's, never a parameter.
type filters struct {
	schema.Scope
	From, To time.Time
}

// scopeFields are the filterable columns, in the order they are applied:
// those of every calls table, then the attribution ones.
var scopeFields = append(slices.Clip(schema.ScopeFields), schema.DimFields...)

// tagName is what a tag's name may be, in a filter (tag.<name>=<value>)
// and a grouping (groupBy=tag.<name>).
var tagName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// filter is f as the domain packages take it.
func (f filters) filter() schema.Filter {
	return schema.Filter{Scope: f.Scope, From: f.From, To: f.To}
}

// field is the filter of query parameter name, nil for another name.
func (f *filters) field(name string) *string { return f.Scope.Field(name) }

// badValue tells what is wrong with a filter value, "" when nothing.
func badValue(v string) string {
	if len(v) > 200 || strings.ContainsFunc(v, func(c rune) bool { return c < 0x20 || c == 0x7f }) {
		return "at most 200 printable characters"
	}
	return ""
}

// parseScope reads the scope filters (no time range) of r, for the
// caller's tenant: the columns, and at most one tag filter
// tag.<name>=<value>. A tag parameter with a bad name, a second tag, or an
// empty tag value is named in the answer rather than ignored: a filter
// silently dropped would widen the answer.
func parseScope(r *http.Request) (filters, []FieldError) {
	q := r.URL.Query()
	f := filters{Scope: schema.Scope{Tenant: tenantOf(r.Context())}}
	var details []FieldError
	for _, name := range scopeFields {
		v := q.Get(name)
		if msg := badValue(v); msg != "" {
			details = append(details, FieldError{Field: name, Message: msg})
			continue
		}
		*f.field(name) = v
	}
	var tags []string
	for k := range q {
		if strings.HasPrefix(k, schema.TagPrefix) {
			tags = append(tags, k)
		}
	}
	slices.Sort(tags)
	for _, k := range tags {
		name, v := strings.TrimPrefix(k, schema.TagPrefix), q.Get(k)
		switch {
		case !tagName.MatchString(name):
			details = append(details, FieldError{Field: k, Message: "a tag filter is tag.<name>=<value>, the name 1-64 characters of A-Z a-z 0-9 _ . -"})
		case f.TagKey != "":
			details = append(details, FieldError{Field: k, Message: "one tag filter at a time (already tag." + f.TagKey + ")"})
		case v == "":
			details = append(details, FieldError{Field: k, Message: "must not be empty"})
		case badValue(v) != "":
			details = append(details, FieldError{Field: k, Message: badValue(v)})
		default:
			f.TagKey, f.TagValue = name, v
		}
	}
	return f, details
}

// groupOf checks a groupBy against allowed; where allowed holds the
// attribution dimensions (customer), a tag's values tag.<name> too.
func groupOf(field, v string, allowed []string) *APIError {
	if slices.Contains(allowed, v) {
		return nil
	}
	if name, ok := strings.CutPrefix(v, schema.TagPrefix); ok && slices.Contains(allowed, schema.DimCustomer) {
		if tagName.MatchString(name) {
			return nil
		}
		return badRequest("invalid "+field, FieldError{Field: field, Message: "a tag grouping is tag.<name>, the name 1-64 characters of A-Z a-z 0-9 _ . -"})
	}
	msg := "must be one of " + strings.Join(allowed, ", ")
	if slices.Contains(allowed, schema.DimCustomer) {
		msg += ", tag.<name>"
	}
	return badRequest("invalid "+field, FieldError{Field: field, Message: msg})
}

// refuseDims names the attribution filters set in f, for resources whose
// data does not hold them: ignoring one would answer for more than asked.
func refuseDims(f filters, why string, names ...string) *APIError {
	var details []FieldError
	for _, name := range names {
		if p := f.field(name); p != nil && *p != "" {
			details = append(details, FieldError{Field: name, Message: "not available: " + why})
		}
	}
	if f.TagKey != "" && slices.Contains(names, "tag") {
		details = append(details, FieldError{Field: schema.TagPrefix + f.TagKey, Message: "not available: " + why})
	}
	if details == nil {
		return nil
	}
	return badRequest("invalid filters", details...)
}

// parseFilters reads the scope filters and from/to (RFC 3339). A missing
// range is the last defaultSpan up to now. Every bad field is named.
func (a *api) parseFilters(r *http.Request, defaultSpan time.Duration) (filters, *APIError) {
	q := r.URL.Query()
	f, details := parseScope(r)
	now := time.Now().UTC()
	f.To = now
	if v := q.Get("to"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			details = append(details, FieldError{Field: "to", Message: "must be an RFC 3339 time, e.g. 2026-11-26T00:00:00Z"})
		} else {
			f.To = t.UTC()
		}
	}
	f.From = f.To.Add(-defaultSpan)
	if v := q.Get("from"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			details = append(details, FieldError{Field: "from", Message: "must be an RFC 3339 time, e.g. 2026-11-01T00:00:00Z"})
		} else {
			f.From = t.UTC()
		}
	}
	if details == nil {
		switch {
		case !f.To.After(f.From):
			details = append(details, FieldError{Field: "to", Message: "must be after from"})
		case f.To.Sub(f.From) > a.cfg.MaxRange:
			details = append(details, FieldError{Field: "from", Message: fmt.Sprintf("range longer than the %s data is kept", a.cfg.MaxRange)})
		}
	}
	if details != nil {
		return f, badRequest("invalid filters", details...)
	}
	return f, nil
}
