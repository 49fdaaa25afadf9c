package attribution

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClean(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		max      int
		changed  bool
	}{
		{"acme", "acme", 256, false},
		{"  acme ", "acme", 256, false},
		{"", "", 256, false},
		{"ac\x00me\n", "acme", 256, true},
		{"a\x1b[31mred", "a[31mred", 256, true},
		{"ac\xffme", "acme", 256, true},
		{"abcdef", "abc", 3, true},
		{"héllo", "h", 2, true}, // é is two bytes: not split
		{"日本語", "日本語", 9, false},
		{"a\u0085b\u009fc", "abc", 256, true}, // C1 controls
	} {
		got, changed := Clean(tc.in, tc.max)
		if got != tc.want || changed != tc.changed {
			t.Errorf("Clean(%q, %d) = %q, %v; want %q, %v", tc.in, tc.max, got, changed, tc.want, tc.changed)
		}
	}
}

func TestCleanMegabyte(t *testing.T) {
	huge := strings.Repeat("é\x07", 1<<20)
	got, changed := Clean(huge, DefaultMaxValueBytes)
	if !changed || len(got) > DefaultMaxValueBytes || !utf8.ValidString(got) || strings.ContainsRune(got, 7) {
		t.Fatalf("Clean(1 MiB) = %d bytes, changed %v, valid %v", len(got), changed, utf8.ValidString(got))
	}
	if len(got) != DefaultMaxValueBytes {
		t.Fatalf("kept %d bytes, want %d (128 two-byte runes)", len(got), DefaultMaxValueBytes)
	}
}
