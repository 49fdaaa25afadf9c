package apollo

import "testing"

func TestHostileNumbers(t *testing.T) {
	for v, want := range map[any]int64{"1e30": -1, "99999999999999999999": -1, "-1": -1, "12": 12, nil: -1} {
		if got := apolloInt(v); got != want {
			t.Errorf("apolloInt(%v) = %d, want %d", v, got, want)
		}
	}
}
