package credentials

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nexus-otel/nexus/internal/domainerr"
	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/store"
)

// table holds the credentials (migration 0015_people.sql): one row per
// version, the highest version of (tenant, provider) wins under FINAL, and
// a deleted=1 version hides the credential.
const table = "provider_credentials"

var columns = []string{"tenant", "provider", "ciphertext", "kek_id", "fingerprint", "set_by", "updated_at", "deleted", "version"}

// tenantID is internal/tenants' ValidID, which this package cannot import:
// the chstore extension imports it, and tenants' tests start the extension.
var tenantID = regexp.MustCompile(`^[a-z][a-z0-9-]{1,62}$`)

// Bounds of what Set accepts: a provider's secrets are API keys, at most a
// PEM key or a service-account document.
const (
	maxValue       = 4096
	maxSetBy       = 256
	maxNamesShown  = 16
	maxNameShownAt = 64
)

// Info is what may be shown of a stored credential: whose it is, who set
// it and when, and fingerprints — never the secret.
type Info struct {
	Tenant   string `json:"tenant"`
	Provider string `json:"provider"`
	// Fingerprint is "sha256:" and the first 12 hex digits of SHA-256 over
	// the credential's fields: it tells two secrets apart, and 48 bits of
	// a hash of an API key give nothing to use.
	Fingerprint string    `json:"fingerprint"`
	SetBy       string    `json:"setBy"`
	UpdatedAt   time.Time `json:"updatedAt"`
	// KEKID names the key-encryption key the credential is sealed under.
	KEKID string `json:"kekId"`
}

// Store keeps the tenants' provider credentials in the store, sealed under
// the keyring's current key. It holds no copy: every call reads the table,
// which every collector behind a load balancer shares.
type Store struct {
	store  store.Store
	ring   *Keyring
	fields func(provider string) ([]string, bool)
	// writes serialises this process's read-version-then-write: versions
	// must grow for the latest write to win.
	writes sync.Mutex
}

// NewStore is the credentials of s sealed under ring (nil: unavailable).
// fields says which credential fields provider takes, every one required
// (false: not a provider Nexus knows); nil knows no provider.
func NewStore(s store.Store, ring *Keyring, fields func(provider string) ([]string, bool)) *Store {
	if fields == nil {
		fields = func(string) ([]string, bool) { return nil, false }
	}
	return &Store{store: s, ring: ring, fields: fields}
}

// Available tells whether a key-encryption key is configured, so that
// credentials can be set and read.
func (cs *Store) Available() bool { return cs.ring.usable() }

// row is one stored version.
type row struct {
	Info
	ciphertext string
	deleted    bool
	version    time.Time
}

// read is the latest version of every credential, of tenant and provider
// when not "" (deleted ones included: a write needs their version),
// ordered by tenant then provider.
func (cs *Store) read(ctx context.Context, tenant, provider string) ([]row, error) {
	// tenant and provider are the sorting key: filtering them before FINAL
	// is exact. deleted is filtered in Go, after FINAL picked the latest.
	q := "SELECT tenant, provider, ciphertext, kek_id, fingerprint, set_by, updated_at, deleted, version FROM " +
		schema.Table(cs.store, table) + " FINAL WHERE 1"
	params := store.Params{}
	if tenant != "" {
		q += " AND tenant = {tenant:String}"
		params["tenant"] = tenant
	}
	if provider != "" {
		q += " AND provider = {provider:String}"
		params["provider"] = provider
	}
	rows, err := cs.store.Query(ctx, q+" ORDER BY tenant, provider", params)
	if err != nil {
		return nil, fmt.Errorf("read provider credentials: %w", err)
	}
	defer rows.Close()
	var out []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.Tenant, &r.Provider, &r.ciphertext, &r.KEKID, &r.Fingerprint, &r.SetBy, &r.UpdatedAt, &r.deleted, &r.version); err != nil {
			return nil, fmt.Errorf("read provider credentials: %w", err)
		}
		r.UpdatedAt = r.UpdatedAt.UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read provider credentials: %w", err)
	}
	return out, nil
}

// live is read without the deleted credentials.
func (cs *Store) live(ctx context.Context, tenant, provider string) ([]row, error) {
	all, err := cs.read(ctx, tenant, provider)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, r := range all {
		if !r.deleted {
			out = append(out, r)
		}
	}
	return out, nil
}

// nextVersion is a version above prev: now, unless prev is not before it
// (another collector's clock ahead, or the same microsecond).
func nextVersion(prev time.Time) time.Time {
	v := time.Now().UTC().Truncate(time.Microsecond)
	if !v.After(prev) {
		v = prev.Add(time.Microsecond)
	}
	return v
}

func (cs *Store) write(ctx context.Context, r row) error {
	b, err := cs.store.PrepareBatch(ctx, table, columns)
	if err != nil {
		return fmt.Errorf("write the credential of %s/%s: %w", r.Tenant, r.Provider, err)
	}
	if err := b.Append(r.Tenant, r.Provider, r.ciphertext, r.KEKID, r.Fingerprint, r.SetBy, r.UpdatedAt, r.deleted, r.version); err != nil {
		_ = b.Abort()
		return fmt.Errorf("write the credential of %s/%s: %w", r.Tenant, r.Provider, err)
	}
	if err := b.Send(ctx); err != nil {
		return fmt.Errorf("write the credential of %s/%s: %w", r.Tenant, r.Provider, err)
	}
	return nil
}

// canonical is the credential's fields as sealed and fingerprinted: a JSON
// object, keys sorted (encoding/json sorts map keys), so that the same
// fields always give the same fingerprint.
func canonical(values map[string]string) ([]byte, error) {
	return json.Marshal(values)
}

func fingerprint(canon []byte) string {
	sum := sha256.Sum256(canon)
	return "sha256:" + hex.EncodeToString(sum[:])[:12]
}

// shown is a name as an error may quote it: bounded, valid UTF-8.
func shown(name string) string {
	if len(name) > maxNameShownAt {
		name = name[:maxNameShownAt] + "…"
	}
	return strings.ToValidUTF8(name, "?")
}

// validate names every refused part of a Set.
func (cs *Store) validate(tenant, provider string, values map[string]string, setBy string) error {
	var details []domainerr.Field
	if !tenantID.MatchString(tenant) {
		details = append(details, domainerr.Field{Field: "tenant", Message: "not a tenant id"})
	}
	if setBy == "" || len(setBy) > maxSetBy {
		details = append(details, domainerr.Field{Field: "setBy", Message: fmt.Sprintf("required, at most %d bytes", maxSetBy)})
	}
	want, ok := cs.fields(provider)
	if !ok {
		details = append(details, domainerr.Field{Field: "provider", Message: "not a provider Nexus polls with credentials"})
		return domainerr.Invalid("invalid provider credential", details...)
	}
	known := make(map[string]bool, len(want))
	for _, f := range want {
		known[f] = true
		switch v, set := values[f]; {
		case !set || v == "":
			details = append(details, domainerr.Field{Field: f, Message: "required"})
		case len(v) > maxValue:
			details = append(details, domainerr.Field{Field: f, Message: fmt.Sprintf("at most %d bytes", maxValue)})
		}
	}
	var unknown []string
	for name := range values {
		if !known[name] {
			unknown = append(unknown, name)
		}
	}
	sort.Strings(unknown)
	takes := "it takes " + strings.Join(want, ", ")
	if len(want) == 0 {
		takes = "it takes none"
	}
	for i, name := range unknown {
		if i == maxNamesShown {
			details = append(details, domainerr.Field{Field: "values", Message: fmt.Sprintf("%d more unknown fields", len(unknown)-i)})
			break
		}
		details = append(details, domainerr.Field{Field: shown(name), Message: "not a credential field of " + provider + " (" + takes + ")"})
	}
	if len(want) == 0 && len(unknown) == 0 {
		details = append(details, domainerr.Field{Field: "provider", Message: "takes no credential"})
	}
	return domainerr.Invalid("invalid provider credential", details...)
}

// Set seals values as tenant's credential for provider, replacing any,
// on behalf of setBy. Refused input is a *domainerr.InvalidError naming
// each field (provider when unknown, each unknown or missing field, values
// empty or over 4 KiB); no key-encryption key is ErrNoKEK.
func (cs *Store) Set(ctx context.Context, tenant, provider string, values map[string]string, setBy string) (Info, error) {
	if !cs.Available() {
		return Info{}, ErrNoKEK
	}
	if err := cs.validate(tenant, provider, values, setBy); err != nil {
		return Info{}, err
	}
	canon, err := canonical(values)
	if err != nil {
		return Info{}, fmt.Errorf("set the credential of %s/%s: %w", tenant, provider, err)
	}
	ciphertext, kekID, err := cs.ring.Seal(tenant, provider, canon)
	if err != nil {
		return Info{}, err
	}
	cs.writes.Lock()
	defer cs.writes.Unlock()
	prev, err := cs.read(ctx, tenant, provider)
	if err != nil {
		return Info{}, err
	}
	var last time.Time
	if len(prev) > 0 {
		last = prev[0].version
	}
	r := row{Info: Info{Tenant: tenant, Provider: provider, Fingerprint: fingerprint(canon), SetBy: setBy,
		UpdatedAt: time.Now().UTC().Truncate(time.Millisecond), KEKID: kekID},
		ciphertext: ciphertext, version: nextVersion(last)}
	if err := cs.write(ctx, r); err != nil {
		return Info{}, err
	}
	return r.Info, nil
}

// Info is tenant's credential for provider, without its secret; false
// when there is none.
func (cs *Store) Info(ctx context.Context, tenant, provider string) (Info, bool, error) {
	if tenant == "" || provider == "" {
		return Info{}, false, nil
	}
	found, err := cs.live(ctx, tenant, provider)
	if err != nil || len(found) == 0 {
		return Info{}, false, err
	}
	return found[0].Info, true, nil
}

// List is every credential of tenant, by provider, without secrets.
func (cs *Store) List(ctx context.Context, tenant string) ([]Info, error) {
	if tenant == "" {
		return nil, nil
	}
	found, err := cs.live(ctx, tenant, "")
	if err != nil {
		return nil, err
	}
	out := make([]Info, len(found))
	for i, r := range found {
		out[i] = r.Info
	}
	return out, nil
}

// Delete deletes tenant's credential for provider on behalf of by: the
// version written keeps no ciphertext. None is a *domainerr.NotFoundError.
func (cs *Store) Delete(ctx context.Context, tenant, provider, by string) error {
	if tenant == "" || provider == "" {
		return domainerr.NotFound("no credential for " + shown(provider))
	}
	cs.writes.Lock()
	defer cs.writes.Unlock()
	found, err := cs.read(ctx, tenant, provider)
	if err != nil {
		return err
	}
	if len(found) == 0 || found[0].deleted {
		return domainerr.NotFound("no credential for " + shown(provider))
	}
	r := row{Info: Info{Tenant: tenant, Provider: provider, SetBy: by, UpdatedAt: time.Now().UTC().Truncate(time.Millisecond)},
		deleted: true, version: nextVersion(found[0].version)}
	return cs.write(ctx, r)
}

// All is every tenant's live credentials, opened, for the pollers. A
// credential that does not open (sealed under a key not configured, or
// altered) is left out and named in the error, returned with those that
// opened: one bad row must not stop every tenant's polling. Without a key
// it is ErrNoKEK, unless no credential is stored at all.
func (cs *Store) All(ctx context.Context) ([]Credential, error) {
	found, err := cs.live(ctx, "", "")
	if err != nil {
		return nil, err
	}
	if len(found) == 0 {
		return nil, nil
	}
	if !cs.Available() {
		return nil, ErrNoKEK
	}
	out := make([]Credential, 0, len(found))
	var failed []string
	var first error
	for _, r := range found {
		values, err := cs.open(r)
		if err != nil {
			failed = append(failed, r.Tenant+"/"+r.Provider)
			if first == nil {
				first = err
			}
			continue
		}
		out = append(out, Credential{Info: r.Info, Values: values})
	}
	if first != nil {
		return out, fmt.Errorf("%d provider credentials do not open (%s): %w", len(failed), strings.Join(failed, ", "), first)
	}
	return out, nil
}

// open decrypts r's fields.
func (cs *Store) open(r row) (map[string]string, error) {
	plain, err := cs.ring.Open(r.Tenant, r.Provider, r.ciphertext, r.KEKID)
	if err != nil {
		return nil, err
	}
	var values map[string]string
	if err := json.Unmarshal(plain, &values); err != nil {
		return nil, fmt.Errorf("the credential of %s/%s opens to no fields", r.Tenant, r.Provider)
	}
	return values, nil
}

// Fingerprint sums up the table's latest version of each credential in
// one cheap aggregate: any write that takes effect adds a newer version,
// which changes the sum, so pollers read All again only when it changed.
// Over the latest versions only, not every row: the engine's merges drop
// superseded versions in the background, which must not look like a
// write.
func (cs *Store) Fingerprint(ctx context.Context) (string, error) {
	q := "SELECT concat(toString(count()), '/', toString(max(v)), '/', toString(sum(cityHash64(tenant, provider, k, v)))) FROM " +
		"(SELECT tenant, provider, argMax(kek_id, version) AS k, max(version) AS v FROM " + schema.Table(cs.store, table) +
		" GROUP BY tenant, provider)"
	rows, err := cs.store.Query(ctx, q, nil)
	if err != nil {
		return "", fmt.Errorf("read provider credentials' versions: %w", err)
	}
	defer rows.Close()
	var fp string
	if rows.Next() {
		if err := rows.Scan(&fp); err != nil {
			return "", fmt.Errorf("read provider credentials' versions: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("read provider credentials' versions: %w", err)
	}
	return fp, nil
}
