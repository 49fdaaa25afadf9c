package nexusapiextension

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/nexus-otel/nexus/internal/spend"
)

func (a *api) costRoutes() {
	a.route("GET /api/v1/costs/summary", roleViewer, a.costSummary)
	a.route("GET /api/v1/costs/timeseries", roleViewer, a.costTimeseries)
	a.route("GET /api/v1/costs/forecast", roleViewer, a.costForecast)
	a.route("GET /api/v1/costs/reconciliation", roleViewer, a.costReconciliation)
}

// joinErrors answers one 400 with the details of every failed check.
func joinErrors(errs ...*APIError) *APIError {
	var details []FieldError
	for _, e := range errs {
		if e == nil {
			continue
		}
		if e.Status != http.StatusBadRequest {
			return e
		}
		details = append(details, e.Details...)
	}
	if details == nil {
		return nil
	}
	return badRequest("invalid query", details...)
}

func oneOf(field, v string, allowed []string) *APIError {
	for _, s := range allowed {
		if v == s {
			return nil
		}
	}
	return badRequest("invalid "+field, FieldError{Field: field, Message: "must be one of " + strings.Join(allowed, ", ")})
}

func (a *api) costSummary(w http.ResponseWriter, r *http.Request) *APIError {
	f, fErr := a.parseFilters(r, 30*24*time.Hour)
	pg, pErr := parsePage(r)
	groupBy := r.URL.Query().Get("groupBy")
	if groupBy == "" {
		groupBy = "provider"
	}
	if err := joinErrors(fErr, pErr, groupOf("groupBy", groupBy, spend.SummaryGroups)); err != nil {
		return err
	}
	out, err := a.spend.Summary(r.Context(), f.filter(), groupBy)
	if err != nil {
		return a.costError(r, "cost summary", "from", err)
	}
	writeData(w, http.StatusOK, paginate(out, pg), pg.of(int64(len(out))))
	return nil
}

func (a *api) costTimeseries(w http.ResponseWriter, r *http.Request) *APIError {
	q := r.URL.Query()
	f, fErr := a.parseFilters(r, 24*time.Hour)
	pg, pErr := parsePage(r)
	var gErr, sErr *APIError
	groupBy := q.Get("groupBy")
	if groupBy != "" {
		gErr = groupOf("groupBy", groupBy, spend.SeriesGroups)
	}
	step := q.Get("step")
	if step != "" {
		sErr = oneOf("step", step, spend.Steps)
	}
	if err := joinErrors(fErr, pErr, gErr, sErr); err != nil {
		return err
	}
	ts, total, err := a.spend.CostTimeseries(r.Context(), f.filter(), groupBy, step, int(pg.offset()), pg.Limit)
	if err != nil {
		return a.costError(r, "cost timeseries", "from", err)
	}
	writeData(w, http.StatusOK, ts, pg.of(int64(total)))
	return nil
}

// costReconciliation lists, per provider and UTC day, what the provider
// billed against what Nexus computed. A day is listed when it overlaps
// [from, to).
func (a *api) costReconciliation(w http.ResponseWriter, r *http.Request) *APIError {
	f, fErr := a.parseFilters(r, 30*24*time.Hour)
	pg, pErr := parsePage(r)
	var sErr *APIError
	// The view has provider and day only: another scope filter would be
	// silently ignored, so it is refused.
	for _, name := range []string{"model", "operation", "service", "environment"} {
		if r.URL.Query().Get(name) != "" {
			sErr = joinErrors(sErr, badRequest("", FieldError{Field: name, Message: "not available: reconciliation is per provider and day"}))
		}
	}
	sErr = joinErrors(sErr, refuseDims(f, "reconciliation is per provider and day", "team", "feature", "customer", "user", "tag"))
	if err := joinErrors(fErr, pErr, sErr); err != nil {
		return err
	}
	out, err := a.spend.Reconciliation(r.Context(), f.Tenant, f.From, f.To, f.Provider)
	if err != nil {
		return a.storeError(r, "cost reconciliation", err)
	}
	writeData(w, http.StatusOK, paginate(out, pg), pg.of(int64(len(out))))
	return nil
}

// costForecast projects the month's spend at its end (spend.MonthForecast)
// in the configured time zone: month=YYYY-MM (default this month), days of
// training (default 14), and the scope filters; from and to do not apply.
func (a *api) costForecast(w http.ResponseWriter, r *http.Request) *APIError {
	q := r.URL.Query()
	now := time.Now()
	var details []FieldError
	for _, name := range []string{"from", "to"} {
		if q.Has(name) {
			details = append(details, FieldError{Field: name, Message: "not accepted: the forecast covers a calendar month (use month=YYYY-MM)"})
		}
	}
	var scope filters
	if details == nil {
		var fErr *APIError
		scope, fErr = a.parseFilters(r, time.Hour)
		if fErr != nil {
			details = append(details, fErr.Details...)
		}
	}
	days := spend.DefaultForecastDays
	if v := q.Get("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > spend.MaxForecastDays {
			details = append(details, FieldError{Field: "days", Message: "must be a whole number from 1 to " + strconv.Itoa(spend.MaxForecastDays)})
		} else {
			days = n
		}
	}
	y, m, _ := now.In(a.loc).Date()
	monthStart := time.Date(y, m, 1, 0, 0, 0, 0, a.loc)
	if v := q.Get("month"); v != "" {
		t, err := time.ParseInLocation("2006-01", v, a.loc)
		switch {
		case err != nil:
			details = append(details, FieldError{Field: "month", Message: "must be a month as YYYY-MM, e.g. 2026-11"})
		case t.After(now):
			details = append(details, FieldError{Field: "month", Message: "is in the future"})
		case now.Sub(t) > a.cfg.MaxRange:
			details = append(details, FieldError{Field: "month", Message: "older than the data is kept (" + a.cfg.MaxRange.String() + ")"})
		default:
			monthStart = t
		}
	}
	if details != nil {
		return badRequest("invalid forecast query", details...)
	}
	out, err := a.spend.MonthForecast(r.Context(), scope.filter().Scope, monthStart, days, now)
	if err != nil {
		return a.costError(r, "cost forecast", "days", err)
	}
	writeData(w, http.StatusOK, out, nil)
	return nil
}
