package provider

// JSON helpers for reading response bodies: the proxy reads the usage every
// GenAI API shares with them, and providers read their own fields.

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/shopspring/decimal"
)

// IsTypeError reports whether err is a JSON value of the wrong type, after
// which encoding/json still decodes the other fields.
func IsTypeError(err error) bool {
	var te *json.UnmarshalTypeError
	return errors.As(err, &te)
}

// maxValueTries bounds the occurrences of a key ValueAfter tries: each try
// may decode to the end of buf, so trying every occurrence of a key repeated
// throughout a hostile body ("usage":{"usage":{…) would be quadratic.
const maxValueTries = 16

// ValueAfter decodes into dst the JSON value that follows key in buf — the
// first occurrence or the last — trying the next few occurrences when one
// cannot be decoded (cut by the window's edge). It reports whether one could.
func ValueAfter(buf []byte, key string, last bool, dst any) bool {
	k := []byte(key)
	for tries := 0; len(buf) > 0 && tries < maxValueTries; tries++ {
		var i int
		if last {
			i = bytes.LastIndex(buf, k)
		} else {
			i = bytes.Index(buf, k)
		}
		if i < 0 {
			return false
		}
		rest := bytes.TrimLeft(buf[i+len(k):], " \t\r\n")
		if len(rest) > 0 && rest[0] == ':' {
			if err := json.NewDecoder(bytes.NewReader(rest[1:])).Decode(dst); err == nil {
				return true
			}
		}
		if last {
			buf = buf[:i]
		} else {
			buf = buf[i+len(k):]
		}
	}
	return false
}

// ScalarText is a JSON string's or number's text, "" for anything else.
func ScalarText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
		return ""
	}
	if IsNumber(string(raw)) {
		return string(raw)
	}
	return ""
}

// IsNumber reports whether s is a JSON number's text.
func IsNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

// DecimalText reads a money amount given as a JSON number or string into
// exact decimal text ("1e-7" becomes "0.0000001"): the cost processor reads
// it as money, never through a float.
func DecimalText(raw json.RawMessage) (string, bool) {
	s := ScalarText(raw)
	if s == "" {
		return "", false
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return "", false
	}
	return d.String(), true
}

// CountText reads a count given as a JSON number or a string (Twilio's
// num_segments is "1").
func CountText(raw json.RawMessage) (int64, bool) {
	s := ScalarText(raw)
	if s == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}
