package apiproxyreceiver

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configauth"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/extension/extensiontest"

	"github.com/nexus-otel/nexus/extension/ingestauthextension"
	"github.com/nexus-otel/nexus/internal/ingestkeys"
	"github.com/nexus-otel/nexus/internal/semconv"
	"github.com/nexus-otel/nexus/internal/storetest"
)

// TestIngestKeyChoosesTheTenant runs the proxy with the real nexusingestauth
// authenticator over the real store: a call with tenant globex's ingest key
// reaches the provider without the key and its span leaves the cost
// processor as globex's; a wrong, revoked or missing key is answered 401
// by the proxy and the provider sees nothing of it.
func TestIngestKeyChoosesTheTenant(t *testing.T) {
	s, h := storetest.Start(t, "proxy_ingest_auth")
	ctx := context.Background()
	keys := ingestkeys.New(s)
	secret, _, err := keys.Create(ctx, "globex", "checkout")
	if err != nil {
		t.Fatal(err)
	}
	revoked, rk, err := keys.Create(ctx, "globex", "old")
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.Revoke(ctx, "globex", rk.ID); err != nil {
		t.Fatal(err)
	}

	af := ingestauthextension.NewFactory()
	authID := component.NewID(af.Type())
	auth, err := af.Create(ctx, extensiontest.NewNopSettings(af.Type()), af.CreateDefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := auth.Start(ctx, h); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = auth.Shutdown(context.Background()) })
	h.Extensions[authID] = auth

	up := fakeOpenAI(t)
	tp := startProxy(t, func(c *Config) {
		c.Route("openai").Endpoint = up.URL + "/v1"
		c.Auth = configoptional.Some(configauth.Config{AuthenticatorID: authID})
	}, withHost(h))

	send := func(key string) (*http.Response, []byte) {
		hdr := http.Header{"Authorization": {"Bearer " + testKey}, "Content-Type": {"application/json"}}
		if key != "" {
			hdr[headerIngestKey] = []string{key}
		}
		return do(t, rawClient(), http.MethodPost, tp.url+"/openai/v1/chat/completions", chatReq, hdr)
	}
	for name, key := range map[string]string{"unknown": ingestkeys.Prefix + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"revoked": revoked, "missing": "", "api key": "nxs_notaningestkey"} {
		res, body := send(key)
		var e struct {
			Error struct{ Code string } `json:"error"`
		}
		if res.StatusCode != http.StatusUnauthorized || json.Unmarshal(body, &e) != nil || e.Error.Code != codeUnauthenticated {
			t.Fatalf("%s key: %d %s", name, res.StatusCode, body)
		}
	}
	if n := up.count(); n != 0 {
		t.Fatalf("the provider saw %d refused calls", n)
	}

	res, body := send(secret)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("call with a good key: %d %s", res.StatusCode, body)
	}
	if n := up.count(); n != 1 {
		t.Fatalf("provider saw %d calls, want 1", n)
	}
	seen := up.requests[0].header
	if v := seen.Values(headerIngestKey); len(v) != 0 || seen.Get("Authorization") != "Bearer "+testKey {
		t.Fatalf("upstream headers: ingest key %q, authorization %q", v, seen.Get("Authorization"))
	}
	sp := tp.span(t, 1)
	if v, _ := sp.resource.Attributes().Get(semconv.Tenant); v.Str() != "globex" {
		t.Fatalf("span's tenant %q, want globex", v.Str())
	}
	noSecret(t, []spanOf{sp}, secret)
	time.Sleep(50 * time.Millisecond)
	if n := tp.sink.SpanCount(); n != 1 {
		t.Fatalf("%d spans reached the pipeline, want only the authenticated call's", n)
	}
}
