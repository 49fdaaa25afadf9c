package costprocessor

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"

	"github.com/nexus-otel/nexus/internal/livefeed"
	"github.com/nexus-otel/nexus/internal/semconv"
)

// authOf is what a server authenticator leaves in the client info: the
// collector's AuthData interface, as nexusingestauth fills it.
type authOf map[string]any

func (a authOf) GetAttribute(name string) any { return a[name] }
func (a authOf) GetAttributeNames() []string {
	names := make([]string, 0, len(a))
	for n := range a {
		names = append(names, n)
	}
	return names
}

// TestTenantIsTheAuthenticatedOne: the resource's nexus.tenant is the
// tenant of the request's client info, overwriting the one the sender
// claims; the span's claim is deleted; without authentication (or with an
// authenticator that says nothing of tenants) it is the default tenant.
// The live feed labels the call with the same tenant.
func TestTenantIsTheAuthenticatedOne(t *testing.T) {
	id := component.MustNewID("nexusapi")
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	cfg.LiveFeed = &id
	p, sink := newTracesProcessor(t, cfg)
	hub := livefeed.NewHub(1)
	host := feedHost{Host: componenttest.NewNopHost(), exts: map[component.ID]component.Component{id: &feedExtension{hub: hub}}}
	if err := p.Start(context.Background(), host); err != nil {
		t.Fatal(err)
	}
	defer p.Shutdown(context.Background())
	sub, _ := hub.Subscribe(8, nil, 0)
	defer sub.Close()

	for i, c := range []struct {
		ctx  context.Context
		want string
	}{
		{client.NewContext(context.Background(), client.Info{Auth: authOf{semconv.AuthTenant: "acme"}}), "acme"},
		{context.Background(), "default"},
		{client.NewContext(context.Background(), client.Info{Auth: authOf{"subject": "someone"}}), "default"},
		{client.NewContext(context.Background(), client.Info{Auth: authOf{semconv.AuthTenant: ""}}), "default"},
	} {
		td := spanWith(map[string]any{
			"gen_ai.system": "openai", "gen_ai.operation.name": "chat", "gen_ai.response.model": "gpt-4o-mini",
			"gen_ai.usage.input_tokens": int64(10), "gen_ai.usage.output_tokens": int64(5), semconv.Tenant: "globex",
		}, 100*time.Millisecond)
		td.ResourceSpans().At(0).Resource().Attributes().PutStr(semconv.Tenant, "globex")
		if err := p.ConsumeTraces(c.ctx, td); err != nil {
			t.Fatal(err)
		}
		out := sink.AllTraces()[i].ResourceSpans().At(0)
		if v, _ := out.Resource().Attributes().Get(semconv.Tenant); v.Str() != c.want {
			t.Errorf("case %d: resource tenant %q, want %q", i, v.Str(), c.want)
		}
		if _, ok := out.ScopeSpans().At(0).Spans().At(0).Attributes().Get(semconv.Tenant); ok {
			t.Errorf("case %d: the sender's span tenant survived", i)
		}
		select {
		case e := <-sub.C:
			var call livefeed.Call
			if err := json.Unmarshal(e.Data, &call); err != nil || call.Tenant != c.want || e.Labels.Tenant != c.want {
				t.Errorf("case %d: live feed tenant %q / label %q, want %q", i, call.Tenant, e.Labels.Tenant, c.want)
			}
		case <-time.After(time.Second):
			t.Fatalf("case %d: no call published", i)
		}
	}
}
