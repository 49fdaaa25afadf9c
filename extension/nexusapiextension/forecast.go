package nexusapiextension

import (
	"net/http"
	"strconv"
	"time"

	"github.com/nexus-otel/nexus/internal/spend"
)

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
