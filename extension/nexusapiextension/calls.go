package nexusapiextension

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/nexus-otel/nexus/internal/calllog"
)

// callsDefaultSpan is the range /calls and /calls/stats read when the
// request names none: recent calls are what is looked at most.
const callsDefaultSpan = 24 * time.Hour

func (a *api) callRoutes() {
	a.route("GET /api/v1/calls", roleViewer, a.listCalls)
	a.route("GET /api/v1/calls/stats", roleViewer, a.callStats)
}

// parseCallFilters reads status, anomaly and unpriced, naming each bad one.
func parseCallFilters(r *http.Request) (calllog.Filter, []FieldError) {
	q := r.URL.Query()
	var c calllog.Filter
	var details []FieldError
	switch v := q.Get("status"); v {
	case "", "ok", "error":
		c.Status = v
	default:
		details = append(details, FieldError{Field: "status", Message: "must be ok or error"})
	}
	for _, name := range []string{"anomaly", "unpriced"} {
		var b *bool
		switch q.Get(name) {
		case "":
		case "true":
			b = new(true)
		case "false":
			b = new(false)
		default:
			details = append(details, FieldError{Field: name, Message: "must be true or false"})
		}
		if name == "anomaly" {
			c.Anomaly = b
		} else {
			c.Unpriced = b
		}
	}
	return c, details
}

// parseCallRequest reads the scope filters, the raw-only filters and
// (when paged) the page, answering every bad field at once.
func (a *api) parseCallRequest(r *http.Request, paged bool) (filters, calllog.Filter, page, *APIError) {
	var details []FieldError
	f, ferr := a.parseFilters(r, callsDefaultSpan)
	if ferr != nil {
		details = append(details, ferr.Details...)
	}
	cf, cdet := parseCallFilters(r)
	details = append(details, cdet...)
	var p page
	if paged {
		tooDeep := FieldError{Field: "page", Message: "too deep: at most " + strconv.Itoa(calllog.MaxOffset) +
			" calls may be skipped; narrow the time range (from/to) or the filters instead"}
		var perr *APIError
		if p, perr = parsePage(r); perr != nil {
			for _, d := range perr.Details {
				// A page past parsePage's bound is too deep here, and
				// saying how to get there helps more than the bound.
				if n, err := strconv.ParseUint(r.URL.Query().Get("page"), 10, 64); d.Field == "page" &&
					((err == nil && n > maxPage) || errors.Is(err, strconv.ErrRange)) {
					d = tooDeep
				}
				details = append(details, d)
			}
		} else if p.Page-1 > calllog.MaxOffset/p.Limit {
			// Compared by division: (page-1)*limit can overflow for a huge page.
			details = append(details, tooDeep)
		}
	}
	if details != nil {
		return f, cf, p, badRequest("invalid query", details...)
	}
	return f, cf, p, nil
}

func (a *api) listCalls(w http.ResponseWriter, r *http.Request) *APIError {
	f, cf, p, apiErr := a.parseCallRequest(r, true)
	if apiErr != nil {
		return apiErr
	}
	out, total, err := a.calls.List(r.Context(), f.filter(), cf, p.offset(), p.Limit)
	if err != nil {
		return a.domainError(r, "list calls", err)
	}
	writeData(w, http.StatusOK, out, p.of(total))
	return nil
}

// callStats is the answer of /calls/stats without groupBy.
type callStats struct {
	// Source and Percentiles: see calllog.Stats.
	Source      string `json:"source"`
	Percentiles string `json:"percentiles"`
	From        string `json:"from"`
	To          string `json:"to"`
	calllog.Row
}

// groupedCallStats is the answer with groupBy: one row per group, by count
// descending. No overall row: percentiles of groups do not combine, and a
// total without them would be a different shape under the same name.
type groupedCallStats struct {
	Source      string        `json:"source"`
	Percentiles string        `json:"percentiles"`
	From        string        `json:"from"`
	To          string        `json:"to"`
	GroupBy     string        `json:"groupBy"`
	Groups      []calllog.Row `json:"groups"`
}

func (a *api) callStats(w http.ResponseWriter, r *http.Request) *APIError {
	f, cf, _, apiErr := a.parseCallRequest(r, false)
	groupBy := r.URL.Query().Get("groupBy")
	if groupBy != "" {
		apiErr = joinErrors(apiErr, groupOf("groupBy", groupBy, calllog.GroupNames))
	}
	if apiErr != nil {
		return apiErr
	}
	st, err := a.calls.Stats(r.Context(), f.filter(), cf, groupBy)
	if err != nil {
		return a.domainError(r, "call stats", err)
	}
	from, to := f.From.Format(time.RFC3339Nano), f.To.Format(time.RFC3339Nano)
	if groupBy != "" {
		writeData(w, http.StatusOK, groupedCallStats{Source: st.Source, Percentiles: st.Percentiles, From: from, To: to, GroupBy: groupBy, Groups: st.Groups}, nil)
		return nil
	}
	writeData(w, http.StatusOK, callStats{Source: st.Source, Percentiles: st.Percentiles, From: from, To: to, Row: st.Total}, nil)
	return nil
}
