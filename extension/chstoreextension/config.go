package chstoreextension

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"time"

	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configtls"

	"github.com/nexus-otel/nexus/extension/chstoreextension/internal/chhttp"
)

// Store modes.
const (
	ModeEmbedded = "embedded"
	ModeRemote   = "remote"
)

// Remote protocols, as clickhouse-go names them.
const (
	ProtocolNative = "native"
	ProtocolHTTP   = "http"
)

// DataDirEnv overrides the embedded data directory when data_dir is empty.
const DataDirEnv = "NEXUS_DATA_DIR"

// Config configures the chstore extension.
type Config struct {
	// Mode is "embedded" (chDB in-process, the default) or "remote" (a
	// ClickHouse server or cluster).
	Mode string `mapstructure:"mode"`
	// Database holds every Nexus table.
	Database string `mapstructure:"database"`
	// Migrate applies pending schema migrations at start.
	Migrate bool `mapstructure:"migrate"`
	// MaxQueryTime bounds every read through the store (Query): the
	// engine or server ends a read that runs longer (max_execution_time).
	// Writes (Exec, batches) are not bounded by it.
	MaxQueryTime time.Duration `mapstructure:"max_query_time"`

	Embedded EmbeddedConfig `mapstructure:"embedded"`
	Remote   RemoteConfig   `mapstructure:"remote"`
	// Retention is how long each table keeps rows (a TTL per table).
	Retention RetentionConfig `mapstructure:"retention"`
	// HTTP serves the ClickHouse HTTP interface over the embedded engine, so
	// curl, Grafana and clickhouse-go can read it as they would a server.
	HTTP HTTPConfig `mapstructure:"http"`
	// Credentials is where the key-encryption key of tenants' provider
	// credentials is read (internal/credentials).
	Credentials CredentialsConfig `mapstructure:"credentials"`
}

// CredentialsConfig names the key-encryption key (KEK) that seals tenants'
// provider credentials in the store. The key is never in the config
// itself: a config is shared, pasted and logged.
type CredentialsConfig struct {
	// KEKFile holds the 32-byte key as base64 or hex; empty reads the
	// variable KEKEnv instead. Neither set: credentials are unavailable.
	KEKFile string `mapstructure:"kek_file"`
	// KEKEnv is the environment variable read when KEKFile is empty
	// (empty: NEXUS_KEK).
	KEKEnv string `mapstructure:"kek_env"`
	// PreviousKEKFiles are keys being rotated away from: credentials
	// sealed under them still open, and are re-sealed under the current
	// key at start.
	PreviousKEKFiles []string `mapstructure:"previous_kek_files"`
}

// EmbeddedConfig configures the in-process engine.
type EmbeddedConfig struct {
	// DataDir is where the engine keeps its files; empty means
	// $NEXUS_DATA_DIR, else ./data. One process per directory.
	DataDir string `mapstructure:"data_dir"`
	// LibraryPath is libchdb.so; empty searches $CHDB_LIB_PATH, beside the
	// executable, then the engine cache (.engine/) of `make engine`.
	LibraryPath string `mapstructure:"library_path"`
	// Connections is how many writes (Exec, batches) may run at once
	// (each engine connection runs one statement at a time).
	Connections int `mapstructure:"connections"`
	// ReadConnections is how many reads (Query) may run at once, on
	// connections of their own: a read never makes a write wait.
	ReadConnections int `mapstructure:"read_connections"`
	// MaxMemory bounds the engine's memory, in bytes (0: the engine's own
	// bound, 90 % of the memory the machine or container has, with caches
	// of up to 5 GiB each). The engine enforces it on everything it
	// allocates, caches, merges, inserts and queries alike: a statement
	// that would go past it fails with MEMORY_LIMIT_EXCEEDED (an insert is
	// retried by the exporter), and its caches are sized from it. The
	// memory_limiter cannot see this memory: the process's RSS is it plus
	// the Go runtime's, the engine's code and the mapped pages of a
	// persistent queue.
	MaxMemory int64 `mapstructure:"max_memory"`
}

// minEmbeddedMaxMemory is below what the engine needs to start, migrate
// and insert a batch.
const minEmbeddedMaxMemory int64 = 128 << 20

// A bound is not set by default: one statement's memory grows with the
// data it covers (a back-fill's aggregation of a month of calls by
// customer took past 2 GiB at 10 M calls), so a bound fit for one store
// fails another's migrations. Set it where the collector shares memory
// with other processes (a container), above http.max_memory_usage.

// RemoteConfig configures a ClickHouse server or cluster.
type RemoteConfig struct {
	// Endpoints are host:port pairs (9000/9440 native, 8123/8443 http).
	Endpoints []string            `mapstructure:"endpoints"`
	Protocol  string              `mapstructure:"protocol"`
	Username  string              `mapstructure:"username"`
	Password  configopaque.String `mapstructure:"password"`
	// TLS is off unless insecure is set to false.
	TLS         configtls.ClientConfig `mapstructure:"tls"`
	DialTimeout time.Duration          `mapstructure:"dial_timeout"`
	// MaxOpenConns bounds the client's connection pool.
	MaxOpenConns int `mapstructure:"max_open_conns"`
	// Cluster, when set, runs DDL ON CLUSTER with Replicated* engines.
	Cluster string `mapstructure:"cluster"`
	// TenantUsers are provisioned on the server at start (tenants.go): a
	// ClickHouse user each, allowed to read the Nexus database, with row
	// policies that show it its tenant's rows only. The server enforces
	// them. remote.username must be allowed to manage access
	// (access_management).
	TenantUsers []TenantUser `mapstructure:"tenant_users"`
}

// TenantUser is a credential that reads one tenant's rows only.
type TenantUser struct {
	Username string              `mapstructure:"username"`
	Password configopaque.String `mapstructure:"password"`
	// Tenant is the tenant id: "default" or a slug ([a-z][a-z0-9-]{1,62}).
	Tenant string `mapstructure:"tenant"`
}

// HTTPConfig configures the ClickHouse HTTP interface of the embedded store.
type HTTPConfig struct {
	Enabled                 bool `mapstructure:"enabled"`
	confighttp.ServerConfig `mapstructure:",squash"`
	// ReadOnly refuses every statement that writes (the default): the
	// interface is for reading; Nexus components write through the store.
	ReadOnly bool `mapstructure:"read_only"`
	// Username and Password are the operator's: they read every tenant
	// (and write, when read_only is false).
	Username string              `mapstructure:"username"`
	Password configopaque.String `mapstructure:"password"`
	// Users are tenant users (Grafana per tenant): each reads its tenant's
	// rows only, whatever SQL it sends, and never writes. With users set,
	// every request must authenticate.
	Users []TenantUser `mapstructure:"users"`
	// CORSAllowedOrigins are the web origins ("https://grafana.example.com")
	// whose pages may read answers; no other origin gets CORS headers.
	// confighttp's own cors block is refused: it would answer any origin
	// that asks with add_http_cors_header.
	CORSAllowedOrigins []string `mapstructure:"cors_allowed_origins"`
	// AllowedHosts are the host names the Host header may carry besides
	// localhost and IP addresses (a defence against DNS rebinding).
	AllowedHosts []string `mapstructure:"allowed_hosts"`
	// MaxExecutionTime ends a statement of the interface that runs longer
	// (the engine's max_execution_time); requests may lower it.
	MaxExecutionTime time.Duration `mapstructure:"max_execution_time"`
	// MaxConcurrentQueries bounds the statements the interface runs at
	// once; QueueTimeout is how long a request waits for its turn before
	// it is answered 503 (TOO_MANY_SIMULTANEOUS_QUERIES).
	MaxConcurrentQueries int           `mapstructure:"max_concurrent_queries"`
	QueueTimeout         time.Duration `mapstructure:"queue_timeout"`
	// MaxResultBytes ends a query whose result grows beyond it;
	// MaxMemoryUsage one that needs more memory. Requests may lower them.
	MaxResultBytes int64 `mapstructure:"max_result_bytes"`
	MaxMemoryUsage int64 `mapstructure:"max_memory_usage"`
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// maxQueryTimeCeiling keeps max_query_time a time limit.
const maxQueryTimeCeiling = 24 * time.Hour

// Validate checks the configuration; each error names its key.
func (cfg *Config) Validate() error {
	var errs []error
	switch cfg.Mode {
	case ModeEmbedded, ModeRemote:
	default:
		errs = append(errs, fmt.Errorf("mode: must be %q or %q, got %q", ModeEmbedded, ModeRemote, cfg.Mode))
	}
	if !identifier.MatchString(cfg.Database) {
		errs = append(errs, fmt.Errorf("database: %q is not a plain identifier ([A-Za-z_][A-Za-z0-9_]*)", cfg.Database))
	}
	if cfg.Embedded.Connections < 1 {
		errs = append(errs, fmt.Errorf("embedded.connections: must be at least 1, got %d", cfg.Embedded.Connections))
	}
	if cfg.Embedded.ReadConnections < 1 {
		errs = append(errs, fmt.Errorf("embedded.read_connections: must be at least 1, got %d", cfg.Embedded.ReadConnections))
	}
	if m := cfg.Embedded.MaxMemory; m != 0 && m < minEmbeddedMaxMemory {
		errs = append(errs, fmt.Errorf("embedded.max_memory: must be 0 (the engine's own bound) or at least %d bytes (128 MiB), got %d",
			minEmbeddedMaxMemory, m))
	}
	if cfg.MaxQueryTime < time.Second || cfg.MaxQueryTime > maxQueryTimeCeiling {
		errs = append(errs, fmt.Errorf("max_query_time: must be between 1s and %v, got %v", maxQueryTimeCeiling, cfg.MaxQueryTime))
	}
	if cfg.Mode == ModeRemote {
		if len(cfg.Remote.Endpoints) == 0 {
			errs = append(errs, errors.New("remote.endpoints: at least one host:port is required in remote mode"))
		}
		switch cfg.Remote.Protocol {
		case ProtocolNative, ProtocolHTTP:
		default:
			errs = append(errs, fmt.Errorf("remote.protocol: must be %q or %q, got %q", ProtocolNative, ProtocolHTTP, cfg.Remote.Protocol))
		}
		if cfg.Remote.Cluster != "" && !identifier.MatchString(cfg.Remote.Cluster) {
			errs = append(errs, fmt.Errorf("remote.cluster: %q is not a plain identifier", cfg.Remote.Cluster))
		}
		if cfg.Remote.DialTimeout < 0 {
			errs = append(errs, errors.New("remote.dial_timeout: must not be negative"))
		}
		if err := cfg.Remote.TLS.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("remote.tls: %w", err))
		}
		errs = append(errs, validateTenantUsers("remote.tenant_users", cfg.Remote.TenantUsers, cfg.Remote.Username)...)
	}
	if cfg.Mode != ModeRemote && len(cfg.Remote.TenantUsers) > 0 {
		errs = append(errs, errors.New("remote.tenant_users: provisioned on a ClickHouse server in remote mode only; "+
			"the embedded store's tenant users are http.users"))
	}
	errs = append(errs, cfg.Retention.validate()...)
	errs = append(errs, cfg.Credentials.validate()...)
	if cfg.HTTP.Enabled {
		if cfg.Mode != ModeEmbedded {
			errs = append(errs, errors.New("http.enabled: the HTTP interface serves the embedded store only; a ClickHouse server has its own"))
		}
		if cfg.HTTP.NetAddr.Endpoint == "" {
			errs = append(errs, errors.New("http.endpoint: required when http.enabled is true"))
		}
		if (cfg.HTTP.Username == "") != (cfg.HTTP.Password == "") {
			errs = append(errs, errors.New("http.username, http.password: set both or neither"))
		}
		errs = append(errs, cfg.HTTP.validate()...)
		errs = append(errs, validateTenantUsers("http.users", cfg.HTTP.Users, cfg.HTTP.Username)...)
	}
	return errors.Join(errs...)
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// validate checks the credentials block: a previous key must be a file
// other than the current one (and listed once), or rotation re-seals
// nothing and removing "the old file" removes the current key.
func (c CredentialsConfig) validate() []error {
	var errs []error
	if c.KEKEnv != "" && !envName.MatchString(c.KEKEnv) {
		errs = append(errs, fmt.Errorf("credentials.kek_env: %q is not an environment variable name", c.KEKEnv))
	}
	seen := map[string]bool{}
	if c.KEKFile != "" {
		seen[filepath.Clean(c.KEKFile)] = true
	}
	for i, f := range c.PreviousKEKFiles {
		at := fmt.Sprintf("credentials.previous_kek_files[%d]", i)
		switch {
		case f == "":
			errs = append(errs, fmt.Errorf("%s: empty; name the file of a key being rotated away from", at))
		case filepath.Clean(f) == filepath.Clean(c.KEKFile):
			errs = append(errs, fmt.Errorf("%s: %s is credentials.kek_file, the current key; list only keys being rotated away from", at, f))
		case seen[filepath.Clean(f)]:
			errs = append(errs, fmt.Errorf("%s: %s is listed twice", at, f))
		}
		seen[filepath.Clean(f)] = true
	}
	return errs
}

// userName is what a tenant user's name may be: it is a ClickHouse user
// name in remote mode and an HTTP basic-auth name (no ':') in both.
var userName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.@-]{0,63}$`)

// validateTenantUsers checks a list of tenant users under key.
func validateTenantUsers(key string, users []TenantUser, operator string) []error {
	var errs []error
	seen := map[string]bool{}
	for i, u := range users {
		at := fmt.Sprintf("%s[%d]", key, i)
		switch {
		case !userName.MatchString(u.Username):
			errs = append(errs, fmt.Errorf("%s.username: %q is not a user name ([A-Za-z_][A-Za-z0-9_.@-]{0,63})", at, u.Username))
		case seen[u.Username]:
			errs = append(errs, fmt.Errorf("%s.username: %q is listed twice", at, u.Username))
		case u.Username == operator || u.Username == "default":
			// "default" is the installation's user when no username is
			// set, and a ClickHouse server's own.
			errs = append(errs, fmt.Errorf("%s.username: %q is the installation's own user, which reads every tenant", at, u.Username))
		}
		seen[u.Username] = true
		if u.Password == "" {
			errs = append(errs, fmt.Errorf("%s.password: required", at))
		}
		if u.Tenant == "" {
			errs = append(errs, fmt.Errorf("%s.tenant: required (the tenant whose rows the user reads)", at))
		} else if !chhttp.ValidTenantID(u.Tenant) {
			errs = append(errs, fmt.Errorf("%s.tenant: %q is not a tenant id (\"default\" or [a-z][a-z0-9-]{1,62})", at, u.Tenant))
		}
	}
	return errs
}
