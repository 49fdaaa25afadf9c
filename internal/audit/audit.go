// Package audit is the tamper-evident audit trail of Nexus: who did what
// to which resource, when, from where, and with what outcome. Entries are
// appended to the audit_log table, never updated. Each tenant's entries
// (and the installation's, tenant "") form a hash chain: an entry's hash
// covers its content and the previous entry's hash, so an entry edited,
// removed, reordered or copied in the table breaks the chain where it
// happened, and Verify names that place.
//
// Limits. The chain is serialised per process: Append takes a per-tenant
// lock and keeps the chain head in memory. Two collectors appending the
// same tenant's audit concurrently would both extend the same head and
// fork the chain (two entries with one seq); run the API's audit writes on
// one instance, or expect Verify to report the fork as a broken link.
// The hash is unkeyed SHA-256: it shows edits made by anyone who does not
// recompute the hashes after their edit; someone able to rewrite the whole
// tail of a chain is caught only by comparing its head with a copy kept
// elsewhere (an export, say). Retention removes the oldest entries, so the
// first entry present may link to one that is gone.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/domainerr"
	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/store"
)

// Table is the audit trail's table.
const Table = "audit_log"

// columns is the order every read and write of the table uses.
var columns = []string{"tenant", "seq", "at", "actor_type", "actor_id", "via", "action",
	"resource_type", "resource_id", "before", "after", "request_id", "client_addr", "outcome",
	"detail", "prev_hash", "hash"}

// Outcomes of an entry.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
	OutcomeDenied  = "denied"
)

// Actor types of an entry.
const (
	ActorUser      = "user"
	ActorKey       = "key"
	ActorAnonymous = "anonymous"
	ActorSystem    = "system"
)

// Entry is one audited event. Seq, At, PrevHash and Hash are assigned by
// Append; the rest is the caller's. Tenant "" is the installation's own
// events (users, tenants, sign-ins before a tenant is known).
type Entry struct {
	Tenant       string          `json:"tenant"`
	Seq          uint64          `json:"seq"`
	At           time.Time       `json:"at"`
	ActorType    string          `json:"actor_type"`
	ActorID      string          `json:"actor_id"`
	Via          string          `json:"via"`
	Action       string          `json:"action"`
	ResourceType string          `json:"resource_type"`
	ResourceID   string          `json:"resource_id"`
	Before       json.RawMessage `json:"before,omitempty"`
	After        json.RawMessage `json:"after,omitempty"`
	RequestID    string          `json:"request_id"`
	ClientAddr   string          `json:"client_addr"`
	Outcome      string          `json:"outcome"`
	Detail       string          `json:"detail"`
	PrevHash     string          `json:"prev_hash"`
	Hash         string          `json:"hash"`
}

// Field bounds: request ids and client addresses come from request
// headers, details from error messages; none may grow the table without
// bound. Longer values are cut (at a character boundary), not refused: an
// audit entry is recorded whatever its caller sends.
const (
	maxField  = 1024
	maxDetail = 8 << 10
)

// Log appends to and reads the audit trail of one store.
type Log struct {
	store  store.Store
	logger *zap.Logger
	// page is how many entries Export and Verify read at once.
	page int

	mu    sync.Mutex
	heads map[string]*head
}

// head is the last entry of a tenant's chain as this process knows it.
// Its mutex serialises the tenant's appends, table write included, so the
// next entry is only numbered once the previous one is stored.
type head struct {
	mu     sync.Mutex
	loaded bool
	seq    uint64
	hash   string
	at     time.Time
}

// New is the audit trail of s; logger may be nil.
func New(s store.Store, logger *zap.Logger) *Log {
	if logger == nil {
		logger = zap.NewNop()
	}
	return &Log{store: s, logger: logger, page: exportPage, heads: map[string]*head{}}
}

func (l *Log) head(tenant string) *head {
	l.mu.Lock()
	defer l.mu.Unlock()
	h, ok := l.heads[tenant]
	if !ok {
		h = &head{}
		l.heads[tenant] = h
	}
	return h
}

// Append numbers e as the next entry of its tenant's chain, timestamps,
// hashes and stores it, and returns it as stored. Before and After are
// masked again (see Mask), so a caller that forgot cannot store a secret;
// text fields are made valid UTF-8 and bounded, so the stored entry, its
// JSON and its hash agree. An Append that fails to write leaves the chain
// as it was: the head is read again from the table before the next one,
// in case the write landed after all.
func (l *Log) Append(ctx context.Context, e Entry) (Entry, error) {
	e = normalise(e)
	if e.Action == "" {
		return Entry{}, domainerr.Invalid("invalid audit entry", domainerr.Field{Field: "action", Message: "required"})
	}
	h := l.head(e.Tenant)
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.loaded {
		if err := l.loadHead(ctx, e.Tenant, h); err != nil {
			return Entry{}, err
		}
	}
	e.Seq, e.PrevHash = h.seq+1, h.hash
	// A clock stepping back must not put an entry before its predecessor:
	// pages are ordered by time.
	e.At = time.Now().UTC().Truncate(time.Microsecond)
	if e.At.Before(h.at) {
		e.At = h.at
	}
	e.Hash = Hash(e)
	if err := l.write(ctx, e); err != nil {
		h.loaded = false
		l.logger.Error("audit entry not stored", zap.String("tenant", e.Tenant), zap.Uint64("seq", e.Seq),
			zap.String("action", e.Action), zap.Error(err))
		return Entry{}, err
	}
	h.seq, h.hash, h.at = e.Seq, e.Hash, e.At
	return e, nil
}

// loadHead reads the tenant's last entry (none: an empty chain).
func (l *Log) loadHead(ctx context.Context, tenant string, h *head) error {
	rows, err := l.store.Query(ctx, "SELECT seq, hash, at FROM "+schema.Table(l.store, Table)+
		" WHERE tenant = {tenant:String} ORDER BY seq DESC, hash DESC LIMIT 1", store.Params{"tenant": tenant})
	if err != nil {
		return fmt.Errorf("read the audit chain head of tenant %q: %w", tenant, err)
	}
	defer rows.Close()
	h.seq, h.hash, h.at = 0, "", time.Time{}
	if rows.Next() {
		if err := rows.Scan(&h.seq, &h.hash, &h.at); err != nil {
			return fmt.Errorf("read the audit chain head of tenant %q: %w", tenant, err)
		}
		h.at = h.at.UTC()
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read the audit chain head of tenant %q: %w", tenant, err)
	}
	h.loaded = true
	return nil
}

func (l *Log) write(ctx context.Context, e Entry) error {
	b, err := l.store.PrepareBatch(ctx, Table, columns)
	if err != nil {
		return fmt.Errorf("write audit entry %q/%d: %w", e.Tenant, e.Seq, err)
	}
	if err := b.Append(e.Tenant, e.Seq, e.At, e.ActorType, e.ActorID, e.Via, e.Action, e.ResourceType, e.ResourceID,
		string(e.Before), string(e.After), e.RequestID, e.ClientAddr, e.Outcome, e.Detail, e.PrevHash, e.Hash); err != nil {
		_ = b.Abort()
		return fmt.Errorf("write audit entry %q/%d: %w", e.Tenant, e.Seq, err)
	}
	if err := b.Send(ctx); err != nil {
		return fmt.Errorf("write audit entry %q/%d: %w", e.Tenant, e.Seq, err)
	}
	return nil
}

// normalise makes e's content what the table will give back: bounded
// valid UTF-8 text, masked JSON (nil for none or JSON null).
func normalise(e Entry) Entry {
	for _, f := range []*string{&e.Tenant, &e.ActorType, &e.ActorID, &e.Via, &e.Action, &e.ResourceType,
		&e.ResourceID, &e.RequestID, &e.ClientAddr, &e.Outcome} {
		*f = clean(*f, maxField)
	}
	e.Detail = clean(e.Detail, maxDetail)
	e.Before, e.After = maskRaw(e.Before), maskRaw(e.After)
	return e
}

func maskRaw(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return nil
	}
	return Mask(raw)
}

// clean is s as valid UTF-8 of at most max bytes, cut at a character.
func clean(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= max {
		return s
	}
	s = s[:max]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// hashDomain versions the canonical form, so that a later change of it
// cannot make an old entry's bytes read as a new one's.
const hashDomain = "nexus-audit-v1"

// Hash is the hash an entry must carry: hex(SHA-256(PrevHash ||
// canonical(e))). The canonical form is every field but Hash, each
// length-prefixed (strings and JSON by their byte length, seq and the
// time in microseconds as 8 bytes), so no two entries share it. It is
// computed on the values as the table holds them (At in UTC at
// microseconds; nil and empty JSON alike), so a verifier recomputes it
// from what it reads.
func Hash(e Entry) string {
	sum := sha256.New()
	sum.Write([]byte(e.PrevHash))
	sum.Write(canonical(e))
	return hex.EncodeToString(sum.Sum(nil))
}

func canonical(e Entry) []byte {
	var b []byte
	str := func(s string) {
		b = binary.BigEndian.AppendUint64(b, uint64(len(s)))
		b = append(b, s...)
	}
	str(hashDomain)
	str(e.Tenant)
	b = binary.BigEndian.AppendUint64(b, e.Seq)
	b = binary.BigEndian.AppendUint64(b, uint64(e.At.UTC().Truncate(time.Microsecond).UnixMicro()))
	for _, s := range []string{e.ActorType, e.ActorID, e.Via, e.Action, e.ResourceType, e.ResourceID,
		string(e.Before), string(e.After), e.RequestID, e.ClientAddr, e.Outcome, e.Detail, e.PrevHash} {
		str(s)
	}
	return b
}
