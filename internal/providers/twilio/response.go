package twilio

import (
	"encoding/json"
	"strings"

	"github.com/nyaruka/phonenumbers"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/nexus-otel/nexus/internal/providers/provider"
	"github.com/nexus-otel/nexus/internal/semconv"
)

// response reads what Twilio's message and call resources state: the price
// (once known), the segments of a message, and the destination, whose
// country sets the price.
type response struct {
	price    string // exact decimal, "" when not stated
	segments int64  // -1: unknown
	to       string
}

func newResponse() provider.ResponseReader { return &response{segments: -1} }

type responseDoc struct {
	Price       json.RawMessage `json:"price"`
	NumSegments json.RawMessage `json:"num_segments"`
	To          string          `json:"to"`
}

func (r *response) Read(doc []byte) {
	var d responseDoc
	if err := json.Unmarshal(doc, &d); err != nil && !provider.IsTypeError(err) {
		return
	}
	if s, ok := provider.DecimalText(d.Price); ok {
		r.price = s
	}
	if n, ok := provider.CountText(d.NumSegments); ok {
		r.segments = n
	}
	if d.To != "" {
		r.to = d.To
	}
}

// ReadPartial reads nothing: Twilio's resources are small, a body past the
// proxy's limit is no message or call.
func (r *response) ReadPartial(_, _ []byte) {}

func (r *response) Parsed() bool { return r.segments >= 0 || r.price != "" }

func (r *response) Annotate(operation string, attrs pcommon.Map) {
	if r.segments >= 0 {
		attrs.PutInt(semconv.AttrTwilioSegments, r.segments)
	}
	// Only the call that creates a message or a call is billed; a status
	// fetch repeats the same price and would count it twice.
	if r.price != "" && (operation == "sms" || operation == "voice") {
		attrs.PutStr(semconv.AttrTwilioPrice, r.price)
	}
	if c := destinationCountry(r.to); c != "" {
		attrs.PutStr(semconv.AttrTwilioCountry, c)
	}
}

// destinationCountry is the ISO 3166 code of a phone number's country:
// Twilio's prices depend on it, often by ten times. Numbers that do not
// parse (client:… identities, SIP addresses) have none. A number valid for
// no region (a +1 555 test number) still belongs to its calling code's
// main country.
func destinationCountry(to string) string {
	if !strings.HasPrefix(to, "+") {
		return ""
	}
	num, err := phonenumbers.Parse(to, "")
	if err != nil {
		return ""
	}
	if region := phonenumbers.GetRegionCodeForNumber(num); region != "" && region != "ZZ" {
		return region
	}
	if region := phonenumbers.GetRegionCodeForCountryCode(int(num.GetCountryCode())); region != "ZZ" {
		return region
	}
	return ""
}
