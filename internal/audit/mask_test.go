package audit

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestMask(t *testing.T) {
	type creds struct {
		User         string `json:"user"`
		ClientSecret string `json:"client_secret"`
		Nested       any    `json:"nested"`
	}
	for _, tc := range []struct {
		name string
		in   any
		want string
	}{
		{"nil", nil, ""},
		{"nil raw", json.RawMessage(nil), ""},
		{"null", json.RawMessage("null"), ""},
		{"nil pointer", (*creds)(nil), ""},
		{"flat", map[string]any{"name": "n", "password": "p", "Token": 1}, `{"Token":"***","name":"n","password":"***"}`},
		{"suffix and case", map[string]any{"DB_PASSWORD": "p", "accessToken": "t", "OpenAI_API_Key": "k", "x-api-key": "k", "apiKey": "k"},
			`{"DB_PASSWORD":"***","OpenAI_API_Key":"***","accessToken":"***","apiKey":"***","x-api-key":"***"}`},
		{"not secrets", map[string]any{"max_tokens": 5, "tokens": 2, "key": "k", "tag_key": "team", "token_count": 3},
			`{"key":"k","max_tokens":5,"tag_key":"team","token_count":3,"tokens":2}`},
		{"struct, nested, arrays", creds{User: "u", ClientSecret: "s", Nested: []any{map[string]any{"private_key": "pk", "ok": []any{map[string]any{"admin_key": "a"}}}}},
			`{"client_secret":"***","nested":[{"ok":[{"admin_key":"***"}],"private_key":"***"}],"user":"u"}`},
		{"whole object masked", json.RawMessage(`{"credentials":{"user":"u","pass":"p"},"key_hash":"ab"}`), `{"credentials":"***","key_hash":"***"}`},
		{"raw bytes, numbers kept", []byte(`{"amount_usd": 12345678901234567890.5, "auth_token": null, "s": "<&>"}`),
			`{"amount_usd":12345678901234567890.5,"auth_token":"***","s":"<&>"}`},
		{"top-level array", json.RawMessage(`[{"secret":1},2,"password"]`), `[{"secret":"***"},2,"password"]`},
		{"scalar", "text", `"text"`},
		{"password_hash", map[string]any{"password_hash": "$argon2id$..."}, `{"password_hash":"***"}`},
		{"invalid raw", json.RawMessage(`{"password":"p"`), `{"invalid_json":true,"bytes":15}`},
		{"trailing data", json.RawMessage(`{"a":1}}`), `{"invalid_json":true,"bytes":8}`},
		{"unencodable", map[string]any{"c": make(chan int)}, `{"invalid_json":true,"bytes":0}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Mask(tc.in)
			if string(got) != tc.want || (tc.want == "" && got != nil) {
				t.Fatalf("Mask = %s, want %s", got, tc.want)
			}
		})
	}
}

// Large values are cut to a marker, never stored whole: over the output
// bound after masking, or too large to read at all; a value that masking
// shrinks below the bound passes.
func TestMaskBounds(t *testing.T) {
	big := map[string]any{"blob": strings.Repeat("x", MaxMasked)}
	got := Mask(big)
	if len(got) > MaxMasked || !strings.HasPrefix(string(got), `{"truncated":true,"bytes":`) {
		t.Fatalf("big value: %.80s (%d bytes)", got, len(got))
	}
	var m struct{ Bytes int }
	if err := json.Unmarshal(got, &m); err != nil || m.Bytes <= MaxMasked {
		t.Fatalf("marker %s: %v", got, err)
	}
	huge := []byte(`{"a":"` + strings.Repeat("y", maxMaskInput) + `"}`)
	if got := Mask(huge); string(got) != `{"truncated":true,"bytes":`+itoa(len(huge))+`}` {
		t.Fatalf("huge input: %.80s", got)
	}
	shrinks := map[string]any{"password": strings.Repeat("p", MaxMasked), "name": "n"}
	if got := Mask(shrinks); string(got) != `{"name":"n","password":"***"}` {
		t.Fatalf("secret over the bound: %.80s", got)
	}
	deep := strings.Repeat("[", 5000) + strings.Repeat("]", 5000)
	if got := Mask(json.RawMessage(deep)); len(got) != len(deep) {
		t.Fatalf("deep array: %.80s", got)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
