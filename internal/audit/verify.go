package audit

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/store"
)

// Verification is the result of checking one tenant's chain. Entries
// counts the entries read: all of them when OK, up to and including the
// broken link otherwise. BrokenSeq and Reason name the first broken link.
type Verification struct {
	Tenant    string `json:"tenant"`
	Entries   uint64 `json:"entries"`
	OK        bool   `json:"ok"`
	BrokenSeq uint64 `json:"broken_seq,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

// Verify walks tenant's chain by seq, a page at a time, and checks that
// seqs follow one another, that each entry's prev_hash is its
// predecessor's hash and that each hash is its entry's. The first entry
// present may link to anything: retention removes the oldest. It names the
// first broken link: a seq twice (a fork: two writers, or a copied entry),
// missing seqs (removed entries), a prev_hash that is not the
// predecessor's (forged or reordered), a hash that is not the entry's
// (edited). An error is a failure to read, not a broken chain.
func (l *Log) Verify(ctx context.Context, tenant string) (Verification, error) {
	v := Verification{Tenant: tenant, OK: true}
	var prev *Entry
	var after uint64
	q := "SELECT " + strings.Join(columns, ", ") + " FROM " + schema.Table(l.store, Table) +
		" WHERE tenant = {tenant:String} AND seq > {after:UInt64} ORDER BY seq LIMIT {limit:UInt32} WITH TIES"
	for {
		// WITH TIES: every copy of the page's last seq is in the page, so
		// the next page (seq > after) misses no duplicate.
		page, err := l.read(ctx, q, store.Params{"tenant": tenant, "after": strconv.FormatUint(after, 10),
			"limit": strconv.Itoa(l.page)}, true)
		if err != nil {
			return Verification{}, fmt.Errorf("verify the audit chain of tenant %q: %w", tenant, err)
		}
		for i := range page {
			e := &page[i]
			v.Entries++
			if broken, reason := link(prev, e); broken != 0 {
				v.OK, v.BrokenSeq, v.Reason = false, broken, reason
				l.logger.Warn("audit chain broken", zap.String("tenant", tenant), zap.Uint64("seq", broken), zap.String("reason", reason))
				return v, nil
			}
			prev = e
		}
		if len(page) < l.page {
			return v, nil
		}
		after = page[len(page)-1].Seq
	}
}

// link checks e against its predecessor prev (nil for the first entry
// present): the seq it breaks at (0: none) and why.
func link(prev, e *Entry) (uint64, string) {
	if prev != nil {
		switch {
		case e.Seq == prev.Seq:
			return e.Seq, fmt.Sprintf("seq %d appears more than once: the chain forked (two writers) or an entry was copied", e.Seq)
		case e.Seq != prev.Seq+1:
			return prev.Seq + 1, fmt.Sprintf("entries %d to %d are missing (removed) before seq %d", prev.Seq+1, e.Seq-1, e.Seq)
		case e.PrevHash != prev.Hash:
			return e.Seq, fmt.Sprintf("prev_hash of seq %d is not the hash of seq %d (forged or reordered)", e.Seq, prev.Seq)
		}
	}
	if Hash(*e) != e.Hash {
		return e.Seq, fmt.Sprintf("seq %d does not match its hash (edited)", e.Seq)
	}
	return 0, ""
}

// VerifyAll verifies the chain of every tenant present in the table, the
// installation's ("") included, by tenant.
func (l *Log) VerifyAll(ctx context.Context) ([]Verification, error) {
	rows, err := l.store.Query(ctx, "SELECT DISTINCT tenant FROM "+schema.Table(l.store, Table)+" ORDER BY tenant", nil)
	if err != nil {
		return nil, fmt.Errorf("list the audited tenants: %w", err)
	}
	var tenants []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list the audited tenants: %w", err)
		}
		tenants = append(tenants, t)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, fmt.Errorf("list the audited tenants: %w", err)
	}
	out := make([]Verification, 0, len(tenants))
	for _, t := range tenants {
		v, err := l.Verify(ctx, t)
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}
