package ingestkeys

import (
	"context"
	"testing"

	"github.com/nexus-otel/nexus/internal/storetest"
)

// BenchmarkCheck is the cost per export of checking a key, known and
// unknown, with 1,000 keys stored: a hash and a map lookup, no query.
func BenchmarkCheck(b *testing.B) {
	s, _ := storetest.Start(b, "ingestkeys_bench")
	ctx := context.Background()
	svc := New(s)
	var secret string
	for range 1000 {
		var err error
		if secret, _, err = svc.Create(ctx, "acme", "k"); err != nil {
			b.Fatal(err)
		}
	}
	chk := NewChecker(s)
	if err := chk.Load(ctx); err != nil {
		b.Fatal(err)
	}
	unknown := Prefix + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	b.Run("known", func(b *testing.B) {
		for b.Loop() {
			if _, err := chk.Check(ctx, secret); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("unknown", func(b *testing.B) {
		for b.Loop() {
			if _, err := chk.Check(ctx, unknown); err == nil {
				b.Fatal("accepted")
			}
		}
	})
	b.Run("refresh_unchanged", func(b *testing.B) {
		for b.Loop() {
			if _, err := chk.Refresh(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}
