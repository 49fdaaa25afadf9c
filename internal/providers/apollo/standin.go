package apollo

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/nexus-otel/nexus/internal/providers/provider"
)

// StandIn is a fake of Apollo's API for tests, mounted at mount: it answers
// the documented payloads (shared/reference/providers.md) for day.
func StandIn(mount string, day time.Time) http.Handler {
	return provider.StandIn(standIn, mount, day)
}

func standIn(_ http.ResponseWriter, r *http.Request, mount string, day time.Time) (string, bool) {
	p := r.URL.Path
	switch {
	case p == mount+"/api/v1/usage_stats/api_usage_stats":
		stats := map[string]any{
			`["api/v1/people","match"]`: map[string]any{
				"minute": map[string]int{"limit": 200, "consumed": 20, "left_over": 180},
				"hour":   map[string]int{"limit": 400, "consumed": 100, "left_over": 300},
				"day":    map[string]int{"limit": 2000, "consumed": 1500, "left_over": 999},
			},
		}
		b, _ := json.Marshal(stats)
		return string(b), true
	case p == mount+"/api/v1/auth/health":
		return `{"is_logged_in":true}`, true
	}
	return "", false
}
