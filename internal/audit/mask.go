package audit

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// MaxMasked bounds a masked value: an entry's before or after is at most
// this many bytes of JSON.
const MaxMasked = 64 << 10

// maxMaskInput is the largest JSON Mask parses: beyond it the result
// would be cut anyway, and parsing it would cost memory for nothing.
const maxMaskInput = 4 << 20

// sensitive are the member names (lower-cased, as the name or its end)
// whose values never reach the audit trail. Beyond the brief's list:
// password_hash (a user record's argon2 hash is crackable offline),
// ciphertext (sealed provider credentials), credential, authorization,
// cookie and session_id.
var sensitive = []string{"password", "secret", "token", "api_key", "key_hash", "auth_token", "admin_key",
	"credentials", "private_key", "client_secret",
	"password_hash", "ciphertext", "credential", "authorization", "cookie", "session_id"}

// sensitiveSquashed is sensitive without separators, so that apiKey,
// x-api-key and API_KEY are caught alike.
var sensitiveSquashed = func() []string {
	out := make([]string, len(sensitive))
	for i, s := range sensitive {
		out[i] = squash(s)
	}
	return out
}()

func squash(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '_', '-', '.', ' ':
			return -1
		}
		return r
	}, s)
}

func isSensitive(name string) bool {
	lower := strings.ToLower(name)
	sq := squash(lower)
	for i, s := range sensitive {
		if strings.HasSuffix(lower, s) || strings.HasSuffix(sq, sensitiveSquashed[i]) {
			return true
		}
	}
	return false
}

// Mask is the JSON of v for an audit entry (nil for nil or JSON null),
// with the value of every object member whose name is, or ends with, a
// secret's name (password, secret, token, api_key, key_hash, auth_token,
// admin_key, credentials, private_key, client_secret and the few more of
// sensitive; case and separators ignored) replaced by "***", at any
// depth, inside arrays too. v may already be JSON (json.RawMessage or
// []byte). The result is at most MaxMasked bytes: a larger one is
// {"truncated":true,"bytes":N} (N the masked size, or the input's when too
// large to read), and what is not JSON, or cannot be, is
// {"invalid_json":true,"bytes":N}: never the text itself, which might be
// a secret.
func Mask(v any) json.RawMessage {
	var raw []byte
	switch x := v.(type) {
	case nil:
		return nil
	case json.RawMessage:
		raw = x
	case []byte:
		raw = x
	default:
		var err error
		if raw, err = json.Marshal(v); err != nil {
			return marker("invalid_json", 0)
		}
	}
	if raw == nil {
		return nil
	}
	if len(raw) > maxMaskInput {
		return marker("truncated", len(raw))
	}
	if !json.Valid(raw) {
		return marker("invalid_json", len(raw))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // numbers keep their digits, not float64's
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return marker("invalid_json", len(raw))
	}
	if doc == nil {
		return nil
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(maskValue(doc)); err != nil {
		return marker("invalid_json", len(raw))
	}
	masked := bytes.TrimSuffix(out.Bytes(), []byte("\n"))
	if len(masked) > MaxMasked {
		return marker("truncated", len(masked))
	}
	return json.RawMessage(masked)
}

func maskValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, inner := range x {
			if isSensitive(k) {
				x[k] = "***"
			} else {
				x[k] = maskValue(inner)
			}
		}
	case []any:
		for i, inner := range x {
			x[i] = maskValue(inner)
		}
	case string:
		// Nexus's own secrets are recognisable by their prefix, whatever
		// field carries them.
		for _, p := range secretPrefixes {
			if strings.HasPrefix(x, p) && len(x) >= len(p)+16 {
				return "***"
			}
		}
	}
	return v
}

// secretPrefixes mark Nexus's secrets: API keys, ingest keys, sessions.
var secretPrefixes = []string{"nxs_", "nxi_", "nxss_"}

func marker(what string, n int) json.RawMessage {
	return json.RawMessage(`{"` + what + `":true,"bytes":` + strconv.Itoa(n) + `}`)
}
