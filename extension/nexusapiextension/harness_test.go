package nexusapiextension

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/collector/extension/extensiontest"

	"github.com/nexus-otel/nexus/internal/store"
	"github.com/nexus-otel/nexus/internal/storetest"
)

func TestMain(m *testing.M) {
	// The stream benchmark runs its clients in a child process of this
	// test binary.
	if spec := os.Getenv(streamLoadEnv); spec != "" {
		os.Exit(streamLoadClients(spec))
	}
	storetest.Main(m)
}

// testAPI is a running API over a real embedded store, with an admin key.
// testAdminPassword is the bootstrap installation admin's (admin@localhost).
const testAdminPassword = "correct horse battery staple"

type testAPI struct {
	t     testing.TB
	api   *api
	base  string
	admin string
	store store.Store
	host  storetest.Host
}

// startAPI starts the real extension on database db; tweak adjusts config.
func startAPI(t testing.TB, db string, tweak func(*Config)) *testAPI {
	t.Helper()
	s, host := storetest.Start(t, db)
	return startAPIOn(t, s, host, tweak)
}

// another starts a second API extension over the same store, as a second
// collector behind a load balancer would run; it does not evaluate alerts.
func (ta *testAPI) another(tweak func(*Config)) *testAPI {
	ta.t.Helper()
	return startAPIOn(ta.t, ta.store, ta.host, func(c *Config) {
		c.Alerting.Evaluate = false
		if tweak != nil {
			tweak(c)
		}
	})
}

func startAPIOn(t testing.TB, s store.Store, host storetest.Host, tweak func(*Config)) *testAPI {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.NetAddr.Endpoint = l.Addr().String()
	l.Close()
	cfg.RateLimit.RequestsPerSecond, cfg.RateLimit.Burst = 1000, 1000
	if tweak != nil {
		tweak(cfg)
	}
	const adminKey = "nxs_test_admin_key_0123456789abcdefghijklmnop"
	t.Setenv(AdminKeyEnv, adminKey)
	// The first installation admin's password: from the environment, so
	// that no test writes a password file.
	t.Setenv(AdminPasswordEnv, testAdminPassword)
	a := newAPI(cfg, extensiontest.NewNopSettings(componentType))
	if err := a.Start(context.Background(), host); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Shutdown(context.Background()) })
	return &testAPI{t: t, api: a, base: "http://" + cfg.NetAddr.Endpoint, admin: adminKey, store: s, host: host}
}

// envelope is a decoded answer.
type envelope struct {
	Success    bool            `json:"success"`
	Data       json.RawMessage `json:"data"`
	Pagination *Pagination     `json:"pagination"`
	Meta       *struct {
		Timestamp string   `json:"timestamp"`
		Version   string   `json:"version"`
		Warnings  []string `json:"warnings"`
	} `json:"meta"`
	Error     *APIError `json:"error"`
	RequestID string    `json:"requestId"`
	status    int
	header    http.Header
}

// do sends method path with body (a value to marshal, raw []byte, or nil)
// using key ("" sends no Authorization) and decodes the envelope.
func (ta *testAPI) do(method, path, key string, body any) envelope {
	ta.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			ta.t.Fatal(err)
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, ta.base+path, rd)
	if err != nil {
		ta.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ta.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var e envelope
	if err := json.Unmarshal(raw, &e); err != nil {
		ta.t.Fatalf("%s %s: HTTP %d, body is not an envelope: %s", method, path, resp.StatusCode, raw)
	}
	e.status, e.header = resp.StatusCode, resp.Header
	// Every answer follows the documented envelope.
	if e.Success {
		if e.Meta == nil || e.Meta.Version == "" || e.Meta.Timestamp == "" {
			ta.t.Fatalf("%s %s: success without meta: %s", method, path, raw)
		}
	} else if e.Error == nil || e.Error.Code == "" || e.Error.Message == "" || e.RequestID == "" || e.RequestID != resp.Header.Get("X-Request-Id") {
		ta.t.Fatalf("%s %s: error answer not in the documented shape: %s", method, path, raw)
	}
	return e
}

// data decodes the envelope's data into v.
func (e envelope) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(e.Data, v); err != nil {
		t.Fatalf("data %s: %v", e.Data, err)
	}
}

// key creates a key of role and returns its secret.
func (ta *testAPI) key(role string) string {
	ta.t.Helper()
	e := ta.do("POST", "/api/v1/keys", ta.admin, map[string]string{"name": role + " key", "role": role})
	if e.status != 201 {
		ta.t.Fatalf("create %s key: %d %+v", role, e.status, e.Error)
	}
	var k struct {
		Key string `json:"key"`
	}
	e.decode(ta.t, &k)
	return k.Key
}

var dbRuns atomic.Int64

// freshDB names a database no earlier run in this process used, so that
// go test -count=N starts every run from empty tables.
func freshDB(name string) string { return fmt.Sprintf("%s_%d", name, dbRuns.Add(1)) }
