package provider

import (
	"math"
	"net/http"
	"strconv"
	"strings"
)

// HeaderInt reads a rate-limit header as a non-negative count; -1 when it
// is absent or unreadable.
func HeaderInt(h http.Header, name string) int64 {
	v := strings.TrimSpace(h.Get(name))
	if v == "" {
		return -1
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		// "12.0", "1e3"; NaN, infinities and values beyond int64 are
		// unreadable (a float → int64 conversion of them is undefined).
		f, ferr := strconv.ParseFloat(v, 64)
		if ferr != nil || !(f >= 0 && f < math.MaxInt64) {
			return -1
		}
		return int64(f)
	}
	if n < 0 {
		return -1
	}
	return n
}
