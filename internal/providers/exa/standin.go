package exa

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/nexus-otel/nexus/internal/providers/provider"
)

// StandInCostUSD is the cost of the stand-in's day.
const StandInCostUSD = "0.75"

// StandIn is a fake of Exa's API for tests, mounted at mount: it answers
// the documented payloads (shared/reference/providers.md) for day.
func StandIn(mount string, day time.Time) http.Handler {
	return provider.StandIn(standIn, mount, day)
}

func standIn(w http.ResponseWriter, r *http.Request, mount string, day time.Time) (string, bool) {
	p := r.URL.Path
	switch {
	case p == mount+"/search":
		w.WriteHeader(http.StatusBadRequest)
		return `{"requestId":"r1","error":"query is required","tag":"INVALID_REQUEST"}`, true
	case p == mount+"-admin/team-management/api-keys":
		return `{"apiKeys":[{"id":"key_1","name":"search-prod"}]}`, true
	case strings.HasPrefix(p, mount+"-admin/team-management/api-keys/") && strings.HasSuffix(p, "/usage"):
		from := r.URL.Query().Get("start_date")
		d, err := time.Parse(time.RFC3339, from)
		if err != nil || !d.UTC().Truncate(24*time.Hour).Equal(day) {
			return fmt.Sprintf(`{"api_key_id":"key_1","api_key_name":"search-prod","team_id":"team_1",
				"period":{"start":%q,"end":%q},"total_cost_usd":0,"cost_breakdown":[]}`, from, r.URL.Query().Get("end_date")), true
		}
		return fmt.Sprintf(`{"api_key_id":"key_1","api_key_name":"search-prod","team_id":"team_1",
			"period":{"start":%q,"end":%q},"total_cost_usd":0.75,
			"cost_breakdown":[{"price_id":"p1","price_name":"search","quantity":100,"amount_usd":0.5},
			{"price_id":"p2","price_name":"contents","quantity":250,"amount_usd":0.25}]}`, from, r.URL.Query().Get("end_date")), true
	}
	return "", false
}
