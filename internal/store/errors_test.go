package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

type coded struct {
	msg  string
	code int
}

func (c *coded) Error() string { return c.msg }
func (c *coded) Code() int     { return c.code }

func TestIsDataError(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		code int
		data bool
	}{
		{"nil", nil, 0, false},
		{"go error", context.DeadlineExceeded, 0, false},
		{"partitions per block", &coded{"Code: 252. DB::Exception: Too many partitions for single INSERT block (more than 100). (TOO_MANY_PARTS)", 252}, 252, true},
		{"merges behind", &coded{"Code: 252. DB::Exception: Too many parts (3001). Merges are processing significantly slower than inserts. (TOO_MANY_PARTS)", 252}, 252, false},
		{"constraint, wrapped", fmt.Errorf("insert: %w", &coded{"Code: 469. DB::Exception: Constraint `c` … is violated at row 2", 469}), 469, true},
		{"memory", &coded{"Code: 241. DB::Exception: Memory limit exceeded", 241}, 241, false},
		{"unknown table", &coded{"Code: 60. DB::Exception: Unknown table", 60}, 60, false},
		{"readonly", &coded{"Code: 164. DB::Exception: Cannot execute query in readonly mode", 164}, 164, false},
		{"timeout", &coded{"Code: 159. DB::Exception: Timeout exceeded", 159}, 159, false},
		{"code only in text (engine)", errors.New("Code: 27. DB::Exception: Cannot parse input"), 27, true},
		{"code only in text (clickhouse-go)", fmt.Errorf("send: %w", errors.New("code: 53, message: Type mismatch")), 53, true},
		{"not a code", errors.New("dial tcp: lookup code: 6, no such host"), 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ErrorCode(tc.err); got != tc.code {
				t.Errorf("ErrorCode = %d, want %d", got, tc.code)
			}
			if got := IsDataError(tc.err); got != tc.data {
				t.Errorf("IsDataError = %v, want %v", got, tc.data)
			}
		})
	}
}

func TestInsertSettingsInContext(t *testing.T) {
	ctx := context.Background()
	if InsertSettingsFrom(ctx) != nil {
		t.Fatal("settings in a bare context")
	}
	a := WithInsertSettings(ctx, InsertSettings{"max_insert_block_size": "1000"})
	b := WithInsertSettings(a, DedupSettings("tok"))
	got := InsertSettingsFrom(b)
	if len(got) != 3 || got[SettingDedupToken] != "tok" || got[SettingDedupInViews] != "1" || got["max_insert_block_size"] != "1000" {
		t.Fatalf("merged settings: %v", got)
	}
	if len(InsertSettingsFrom(a)) != 1 {
		t.Fatalf("the outer context's settings changed: %v", InsertSettingsFrom(a))
	}
}
