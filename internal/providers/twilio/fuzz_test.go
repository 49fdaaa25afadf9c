package twilio

import (
	"context"
	"strings"
	"testing"

	"github.com/nexus-otel/nexus/internal/providers/provider/fuzztest"
)

const (
	fuzzTwilioSID   = "AC00000000000000000000000000000fuzz"
	fuzzTwilioToken = "twilio-FUZZ6666secret"
)

// FuzzTwilio: the Daily and Today usage records lists (paged by
// next_page_uri), the balance, and the key check.
func FuzzTwilio(f *testing.F) {
	records := `{"usage_records":[{"account_sid":"` + fuzzTwilioSID + `","category":"sms","start_date":"2026-11-25","end_date":"2026-11-25",
		"count":"12","count_unit":"messages","usage":"14","usage_unit":"segments","price":"0.1106","price_unit":"usd"},
		{"category":"totalprice","start_date":"2026-11-25","price":"0.5","price_unit":"USD","usage":"0.5","usage_unit":"usd"}],
		"next_page_uri":"/2010-04-01/Accounts/` + fuzzTwilioSID + `/Usage/Records/Daily.json?Page=1&PageToken=PA1"}`
	balance := `{"account_sid":"` + fuzzTwilioSID + `","balance":"-3.25","currency":"USD","status":"active"}`
	f.Add(uint8(0), "", []byte(records), []byte(balance))
	f.Add(uint8(0), "", []byte(`{"usage_records":[{"category":"calls","start_date":"2026-13-45","count":"-4","usage":-1,"price":"1e9999","price_unit":"eur"}],
		"next_page_uri":"https://evil.example/steal"}`), []byte(`{"balance":"NaN","currency":"usd","status":"suspended`+strings.Repeat("!", 2000)+`"}`))
	f.Add(uint8(0), "", []byte(`{"usage_records":[],"next_page_uri":"//evil.example/x"}`), []byte(`{"status":"closed"}`))
	f.Add(uint8(0), "", []byte(`{"usage_records":null,"next_page_uri":"https://`+fuzztest.Host+`/2010-04-01/x.json"}`), []byte(`{}`))
	f.Add(uint8(7), "", []byte(`{"code":20003,"message":"Authenticate `+fuzzTwilioToken+`","status":401}`), []byte(`{}`))
	f.Fuzz(func(t *testing.T, status uint8, headers string, recordsBody, balanceBody []byte) {
		ft, hc := fuzztest.NewTransport(t, status, headers, func(path string) []byte {
			if strings.Contains(path, "/Usage/Records/") {
				return recordsBody
			}
			return balanceBody
		})
		tw := NewClient(ClientConfig{BaseURL: "https://" + fuzztest.Host, AccountSID: fuzzTwilioSID, AuthToken: fuzzTwilioToken}, hc)
		from, now := fuzztest.Window()
		p, err := tw.Poll(context.Background(), from, now)
		// Per category a Daily and a Today list of at most two pages, and the balance.
		fuzztest.CheckPoll(t, ft, len(TwilioDefaultCategories)*2*2+1, p, err, fuzzTwilioToken)
		for _, n := range tw.Notes() {
			fuzztest.NoSecret(t, n, []string{fuzzTwilioToken})
		}
		fuzztest.CheckCheck(t, tw.Check(context.Background()), fuzzTwilioToken)
	})
}
