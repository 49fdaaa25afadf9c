package twilio

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/nexus-otel/nexus/internal/providers/provider"
)

// StandInCostUSD is the bill of the stand-in's day (the totalprice
// category).
const StandInCostUSD = "12.3456"

// StandIn is a fake of Twilio's API for tests, mounted at mount: it answers
// the documented payloads (shared/reference/providers.md) for day.
func StandIn(mount string, day time.Time) http.Handler {
	return provider.StandIn(standIn, mount, day)
}

func standIn(_ http.ResponseWriter, r *http.Request, mount string, day time.Time) (string, bool) {
	p := r.URL.Path
	switch {
	case strings.HasSuffix(p, "/Usage/Records/Daily.json") || strings.HasSuffix(p, "/Usage/Records/Today.json"):
		cat := r.URL.Query().Get("Category")
		if strings.HasSuffix(p, "Today.json") {
			return `{"usage_records":[],"next_page_uri":null}`, true
		}
		price := map[string]string{"totalprice": "12.3456", "sms": "10.00", "calls": "2.3456"}[cat]
		if price == "" {
			return `{"usage_records":[],"next_page_uri":null}`, true
		}
		d := day.Format("2006-01-02")
		return fmt.Sprintf(`{"usage_records":[{"account_sid":"AC1","category":%q,"count":"1250","count_unit":"messages",
			"description":"x","start_date":%q,"end_date":%q,"usage":"1300","usage_unit":"segments","price":%s,"price_unit":"usd"}],
			"next_page_uri":null}`, cat, d, d, price), true
	case strings.HasSuffix(p, "/Balance.json"):
		return `{"account_sid":"AC1","balance":"87.65","currency":"USD"}`, true
	case strings.HasPrefix(p, mount+"/2010-04-01/Accounts/") && strings.HasSuffix(p, ".json"):
		return `{"sid":"AC1","status":"active"}`, true
	}
	return "", false
}
