package nexusapiextension

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/nexus-otel/nexus/internal/metrics"
)

func (a *api) metricRoutes() {
	a.route("GET /api/v1/metrics", roleViewer, a.queryMetrics)
}

// commaList splits a comma-separated parameter; absent is nil.
func commaList(v string) []string {
	if v == "" {
		return nil
	}
	return strings.Split(v, ",")
}

// queryMetrics is GET /api/v1/metrics (internal/metrics): metrics, groupBy
// (up to two dimensions), step, top and sort over the filters; the default
// range is the last 24 hours.
func (a *api) queryMetrics(w http.ResponseWriter, r *http.Request) *APIError {
	qs := r.URL.Query()
	f, fErr := a.parseFilters(r, 24*time.Hour)
	q := metrics.Query{Filter: f.filter(), Metrics: commaList(qs.Get("metrics")), GroupBy: commaList(qs.Get("groupBy")),
		Step: qs.Get("step"), Sort: qs.Get("sort")}
	var details []FieldError
	if fErr != nil {
		details = append(details, fErr.Details...)
	}
	if v := qs.Get("top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			details = append(details, FieldError{Field: "top", Message: "a whole number from 1"})
		} else {
			q.Top = n
		}
	}
	for _, g := range q.GroupBy {
		if name, ok := strings.CutPrefix(g, "tag."); ok && !tagName.MatchString(name) {
			details = append(details, FieldError{Field: "groupBy", Message: "a tag grouping is tag.<name>, the name 1-64 characters of A-Z a-z 0-9 _ . -"})
		}
	}
	if fErr == nil {
		for _, d := range q.Check() {
			details = append(details, FieldError{Field: d.Field, Message: d.Message})
		}
	}
	if details != nil {
		return badRequest("invalid metrics query", details...)
	}
	res, err := a.metrics.Run(r.Context(), q)
	if err != nil {
		return a.costError(r, "metrics", "from", err)
	}
	writeData(w, http.StatusOK, res, nil)
	return nil
}
