// Package apicalltest turns fuzz input into span attributes, so that every
// component that reads calls from spans (apicall, the cost processor) is
// fuzzed with the same vocabulary: the attribute names Nexus reads, any
// other name, and values of every type, including the hostile ones (NaN and
// infinite doubles, negative and huge ints, numeric strings with spaces,
// invalid UTF-8).
package apicalltest

import (
	"encoding/binary"
	"fmt"
	"math"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/nexus-otel/nexus/internal/semconv"
)

// Keys are the attribute names an encoded attribute can name by index.
var Keys = []string{
	semconv.AttrProviderName, semconv.AttrSystem, semconv.AttrOperationName, semconv.AttrRequestModel,
	semconv.AttrResponseModel, semconv.AttrInputTokens, semconv.AttrPromptTokens, semconv.AttrOutputTokens,
	semconv.AttrCompletionTok, semconv.AttrCacheReadToken, semconv.AttrCacheWriteTok, semconv.AttrReasoningTok,
	semconv.AttrReasoningTok1, semconv.AttrUsageCost, semconv.AttrExaCost, semconv.AttrExaResults,
	semconv.AttrExaPages, semconv.AttrTwilioPrice, semconv.AttrTwilioSegments, semconv.AttrTwilioCountry,
	semconv.AttrTwilioSeconds, semconv.AttrApolloCredits, semconv.AttrReportedCost, semconv.AttrServerAddress,
	semconv.AttrNetPeerName, semconv.AttrURLFull, semconv.AttrHTTPURL, semconv.AttrHTTPRoute,
	semconv.AttrURLPath, semconv.AttrMethod, semconv.AttrMethodOld, semconv.AttrStatusCode,
	semconv.AttrStatusCodeOld, semconv.AttrErrorType, semconv.AttrNexusProvider, semconv.AttrNexusOperation,
	semconv.AttrNexusModel, semconv.AttrCostPicoUSD, semconv.AttrCostStatus, semconv.AttrUnpricedReason,
	semconv.AttrPricingVersion, semconv.AttrCostReason, semconv.AttrAnomalyScore, semconv.AttrAnomaly,
}

// Value types of an encoded attribute.
const (
	TypeStr byte = iota
	TypeInt
	TypeDouble
	TypeBool
	TypeBytes
	TypeEmpty
	TypeSlice
	TypeMap
	numTypes
)

// MaxAttrs bounds how many attributes one input sets.
const MaxAttrs = 64

// Decode sets attributes on m from data, a sequence of records:
//
//	key   byte: an index into Keys, or 0xff followed by a length byte and
//	      that many bytes of name (any name, any bytes)
//	type  byte (mod numTypes)
//	value: TypeStr, TypeBytes, TypeSlice: a length byte and that many
//	      bytes; TypeInt: 8 bytes big-endian; TypeDouble: 8 bytes of IEEE
//	      754 bits (NaN, ±Inf, -0); TypeBool: 1 byte; others: nothing.
//
// A record cut short by the end of data takes what is there.
func Decode(data []byte, m pcommon.Map) {
	next := func(n int) []byte {
		n = min(n, len(data))
		b := data[:n]
		data = data[n:]
		return b
	}
	byteOr0 := func() byte {
		if b := next(1); len(b) == 1 {
			return b[0]
		}
		return 0
	}
	for i := 0; len(data) > 0 && i < MaxAttrs; i++ {
		kb := byteOr0()
		var key string
		if int(kb) < len(Keys) {
			key = Keys[kb]
		} else {
			key = string(next(int(byteOr0())))
		}
		var word [8]byte
		switch byteOr0() % numTypes {
		case TypeStr:
			m.PutStr(key, string(next(int(byteOr0()))))
		case TypeInt:
			copy(word[:], next(8))
			m.PutInt(key, int64(binary.BigEndian.Uint64(word[:])))
		case TypeDouble:
			copy(word[:], next(8))
			m.PutDouble(key, math.Float64frombits(binary.BigEndian.Uint64(word[:])))
		case TypeBool:
			m.PutBool(key, byteOr0()&1 == 1)
		case TypeBytes:
			m.PutEmptyBytes(key).FromRaw(next(int(byteOr0())))
		case TypeEmpty:
			m.PutEmpty(key)
		case TypeSlice:
			m.PutEmptySlice(key).AppendEmpty().SetStr(string(next(int(byteOr0()))))
		case TypeMap:
			m.PutEmptyMap(key)
		}
	}
}

// Attr is one attribute for Encode.
type Attr struct {
	Key   string
	Value any // string, int, int64, float64, bool, []byte, nil (empty), []string (a slice of one), map[string]any (empty map)
}

// Encode is Decode's inverse, for seed corpora: attrs as Decode reads them.
// Strings longer than 255 bytes are cut.
func Encode(attrs ...Attr) []byte {
	var out []byte
	lenBytes := func(b []byte) {
		b = b[:min(len(b), 255)]
		out = append(out, byte(len(b)))
		out = append(out, b...)
	}
	for _, a := range attrs {
		idx := -1
		for i, k := range Keys {
			if k == a.Key {
				idx = i
				break
			}
		}
		if idx >= 0 {
			out = append(out, byte(idx))
		} else {
			out = append(out, 0xff)
			lenBytes([]byte(a.Key))
		}
		switch v := a.Value.(type) {
		case string:
			out = append(out, TypeStr)
			lenBytes([]byte(v))
		case int:
			out = append(out, TypeInt)
			out = binary.BigEndian.AppendUint64(out, uint64(v))
		case int64:
			out = append(out, TypeInt)
			out = binary.BigEndian.AppendUint64(out, uint64(v))
		case float64:
			out = append(out, TypeDouble)
			out = binary.BigEndian.AppendUint64(out, math.Float64bits(v))
		case bool:
			out = append(out, TypeBool)
			if v {
				out = append(out, 1)
			} else {
				out = append(out, 0)
			}
		case []byte:
			out = append(out, TypeBytes)
			lenBytes(v)
		case nil:
			out = append(out, TypeEmpty)
		case []string:
			out = append(out, TypeSlice)
			s := ""
			if len(v) > 0 {
				s = v[0]
			}
			lenBytes([]byte(s))
		case map[string]any:
			out = append(out, TypeMap)
		default:
			panic(fmt.Sprintf("apicalltest.Encode: %T", a.Value))
		}
	}
	return out
}

// Seeds are realistic and hostile calls, encoded, for every fuzz target
// that reads calls from attributes.
func Seeds() [][]byte {
	a := func(k string, v any) Attr { return Attr{k, v} }
	return [][]byte{
		// OpenAI chat, current names, cached subset of input.
		Encode(a(semconv.AttrProviderName, "openai"), a(semconv.AttrOperationName, "chat"), a(semconv.AttrRequestModel, "gpt-4o"),
			a(semconv.AttrResponseModel, "gpt-4o-2024-08-06"), a(semconv.AttrInputTokens, 1000), a(semconv.AttrCacheReadToken, 800),
			a(semconv.AttrOutputTokens, 500), a(semconv.AttrServerAddress, "api.openai.com")),
		// Deprecated names, tokens as a string and a double.
		Encode(a(semconv.AttrSystem, "openai"), a(semconv.AttrRequestModel, "gpt-4o-mini"),
			a(semconv.AttrPromptTokens, " 1000 "), a(semconv.AttrCompletionTok, 200.0)),
		// OpenRouter with a reported cost as a double and as exact text.
		Encode(a(semconv.AttrProviderName, "openrouter"), a(semconv.AttrRequestModel, "openai/gpt-4o-mini"),
			a(semconv.AttrUsageCost, 0.00123), a(semconv.AttrReportedCost, "0.00123"), a(semconv.AttrInputTokens, 10)),
		// Exa over plain HTTP, with costDollars.total.
		Encode(a(semconv.AttrURLFull, "https://api.exa.ai/search"), a(semconv.AttrMethod, "POST"),
			a(semconv.AttrExaCost, "0.005"), a(semconv.AttrExaResults, 10), a(semconv.AttrStatusCode, 200)),
		// Twilio SMS with a negative (billed) price and a destination.
		Encode(a(semconv.AttrServerAddress, "api.twilio.com"), a(semconv.AttrMethod, "POST"),
			a(semconv.AttrURLPath, "/2010-04-01/Accounts/AC1/Messages.json"), a(semconv.AttrTwilioPrice, "-0.00790"),
			a(semconv.AttrTwilioSegments, "2"), a(semconv.AttrTwilioCountry, "GB")),
		// Twilio voice without a duration; Apollo credits.
		Encode(a(semconv.AttrServerAddress, "api.twilio.com:443"), a(semconv.AttrMethodOld, "POST"),
			a(semconv.AttrHTTPRoute, "/2010-04-01/Accounts/{sid}/Calls.json")),
		Encode(a(semconv.AttrHTTPURL, "https://user:pw@api.apollo.io:443/api/v1/people/match?x=1"), a(semconv.AttrMethod, "POST"),
			a(semconv.AttrApolloCredits, 1)),
		// A failed call: 429 with an error type.
		Encode(a(semconv.AttrProviderName, "openai"), a(semconv.AttrRequestModel, "gpt-4o"), a(semconv.AttrStatusCode, 429),
			a(semconv.AttrErrorType, "rate_limit_exceeded")),
		// Hostile numbers: negative, huge, NaN, infinities, overflowing text.
		Encode(a(semconv.AttrProviderName, "openai"), a(semconv.AttrRequestModel, "gpt-4o"),
			a(semconv.AttrInputTokens, int64(-1)), a(semconv.AttrOutputTokens, math.NaN()),
			a(semconv.AttrCacheReadToken, math.Inf(1)), a(semconv.AttrReasoningTok, int64(math.MaxInt64)),
			a(semconv.AttrCacheWriteTok, "99999999999999999999"), a(semconv.AttrStatusCode, int64(math.MinInt64))),
		Encode(a(semconv.AttrProviderName, "openrouter"), a(semconv.AttrNexusModel, "x"),
			a(semconv.AttrUsageCost, math.Inf(-1)), a(semconv.AttrInputTokens, 1e300), a(semconv.AttrOutputTokens, math.Copysign(0, -1))),
		// Reported costs out of range, finer than pico-USD, not numbers.
		Encode(a(semconv.AttrProviderName, "openrouter"), a(semconv.AttrRequestModel, "openai/gpt-4o"),
			a(semconv.AttrReportedCost, "-9223372.036854775808")),
		Encode(a(semconv.AttrProviderName, "openrouter"), a(semconv.AttrRequestModel, "openai/gpt-4o"),
			a(semconv.AttrReportedCost, "5000000")),
		Encode(a(semconv.AttrProviderName, "openrouter"), a(semconv.AttrUsageCost, 1e6), a(semconv.AttrInputTokens, 5)),
		Encode(a(semconv.AttrProviderName, "openrouter"), a(semconv.AttrReportedCost, "1e-13"), a(semconv.AttrExaCost, "0.1")),
		Encode(a(semconv.AttrServerAddress, "api.exa.ai"), a(semconv.AttrExaCost, int64(math.MinInt64)), a(semconv.AttrURLPath, "/contents")),
		Encode(a(semconv.AttrServerAddress, "api.exa.ai"), a(semconv.AttrExaCost, "1e9999"), a(semconv.AttrExaPages, "7")),
		// Non-UTF-8 and odd types where strings are expected.
		Encode(a(semconv.AttrProviderName, "\xff\xfeOpenAI"), a(semconv.AttrRequestModel, []byte{0, 1, 2}),
			a(semconv.AttrOperationName, true), a(semconv.AttrInputTokens, []string{"5"}), a(semconv.AttrOutputTokens, map[string]any{})),
		Encode(a(semconv.AttrNexusProvider, "twilio"), a(semconv.AttrNexusOperation, "voice"), a(semconv.AttrTwilioSeconds, int64(1<<40)),
			a(semconv.AttrCostPicoUSD, "stale"), a(semconv.AttrCostStatus, "computed"), a(semconv.AttrUnpricedReason, nil)),
		Encode(a("\x00", "x"), a("", nil), a(semconv.AttrURLFull, "://"), a(semconv.AttrURLFull, "https://[::1]:99/x"),
			a(semconv.AttrServerAddress, "api.openai.com:notaport")),
	}
}
