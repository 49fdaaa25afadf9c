package provider

import (
	"net/http"
	"time"
)

// StandIn serves a provider's stand-in: answer writes the status and
// returns the body of the path it knows (ok), for the day the stand-in
// reports; any other path gets the same 404 from every stand-in.
func StandIn(answer func(w http.ResponseWriter, r *http.Request, mount string, day time.Time) (string, bool),
	mount string, day time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := answer(w, r, mount, day)
		StandInAnswer(w, body, ok)
	})
}

// StandInAnswer ends a stand-in's answer: body when ok, else the 404 every
// stand-in gives for a path it does not know.
func StandInAnswer(w http.ResponseWriter, body string, ok bool) {
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		body = `{"error":{"message":"not found"}}`
	}
	_, _ = w.Write([]byte(body))
}
