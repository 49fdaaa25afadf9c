package nexusapiextension

import (
	"net/http"
	"strings"
	"time"

	"github.com/nexus-otel/nexus/internal/insights"
)

// InsightsConfig is the thresholds of the recommendations (the insights:
// block), defined with them in internal/insights.
type InsightsConfig = insights.Config

func defaultInsightsConfig() InsightsConfig { return insights.DefaultConfig() }

// savingsMonth is the default window of the recommendations, the month
// their savings are scaled to.
const savingsMonth = 30 * 24 * time.Hour

func (a *api) insightRoutes() {
	a.route("GET /api/v1/insights/recommendations", roleViewer, a.insightRecommendations)
	a.route("GET /api/v1/insights/trends", roleViewer, a.insightTrends)
}

func (a *api) insightRecommendations(w http.ResponseWriter, r *http.Request) *APIError {
	f, fErr := a.parseFilters(r, savingsMonth)
	pg, pErr := parsePage(r)
	var kErr *APIError
	kinds := map[string]bool{}
	if v := r.URL.Query().Get("kind"); v != "" {
		for _, k := range strings.Split(v, ",") {
			if e := oneOf("kind", k, insights.RecommendationKinds); e != nil {
				kErr = e
				break
			}
			kinds[k] = true
		}
	}
	if err := joinErrors(fErr, pErr, kErr); err != nil {
		return err
	}
	read := a.insights.Recommendations
	if q := r.URL.Query(); q.Get("from") == "" && q.Get("to") == "" {
		// The last 30 days: a month's advice is reused for a minute.
		read = a.insights.RecentRecommendations
	}
	out, err := read(r.Context(), f.filter(), kinds)
	if err != nil {
		return a.domainError(r, "recommendations", err)
	}
	total := len(out.Recommendations)
	out.Recommendations = paginate(out.Recommendations, pg)
	writeData(w, http.StatusOK, out, pg.of(int64(total)))
	return nil
}

// insightTrends compares the period ending at `at` with the one before it
// (insights.Service.Trends).
func (a *api) insightTrends(w http.ResponseWriter, r *http.Request) *APIError {
	q := r.URL.Query()
	f, details := parseScope(r)
	var errs []*APIError
	if details != nil {
		errs = append(errs, badRequest("invalid filters", details...))
	}
	for _, name := range []string{"from", "to"} {
		if q.Get(name) != "" {
			errs = append(errs, badRequest("", FieldError{Field: name, Message: "not used: trends compare whole UTC periods ending at `at`"}))
		}
	}
	at := time.Now().UTC()
	if v := q.Get("at"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			errs = append(errs, badRequest("", FieldError{Field: "at", Message: "must be an RFC 3339 time, e.g. 2026-11-26T00:00:00Z"}))
		}
		at = t.UTC()
	}
	period := q.Get("period")
	if period == "" {
		period = "week"
	}
	errs = append(errs, oneOf("period", period, insights.TrendPeriods))
	sortBy := q.Get("sort")
	if sortBy == "" {
		sortBy = "spend"
	}
	errs = append(errs, oneOf("sort", sortBy, insights.TrendSorts))
	pg, pErr := parsePage(r)
	errs = append(errs, pErr)
	if err := joinErrors(errs...); err != nil {
		return err
	}
	out, err := a.insights.Trends(r.Context(), f.filter().Scope, at, period, sortBy)
	if err != nil {
		return a.domainError(r, "read trends", err)
	}
	total := len(out.Rows)
	out.Rows = paginate(out.Rows, pg)
	writeData(w, http.StatusOK, out, pg.of(int64(total)))
	return nil
}
