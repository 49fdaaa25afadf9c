package provider

import "net/http"

// StandInAnswer ends a stand-in's answer: body when ok, else the 404 every
// stand-in gives for a path it does not know.
func StandInAnswer(w http.ResponseWriter, body string, ok bool) {
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		body = `{"error":{"message":"not found"}}`
	}
	_, _ = w.Write([]byte(body))
}
