package twilio

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/providers/provider"
	"github.com/nexus-otel/nexus/internal/providers/provider/clienttest"
)

const (
	twilioTestSID   = "AC0123456789abcdef0123456789abcdef"
	twilioTestToken = "tok_SECRET_9f8e7d6c5b4a"
	twilioTestDaily = "/2010-04-01/Accounts/" + twilioTestSID + "/Usage/Records/Daily.json"
	twilioTestToday = "/2010-04-01/Accounts/" + twilioTestSID + "/Usage/Records/Today.json"
	twilioTestBal   = "/2010-04-01/Accounts/" + twilioTestSID + "/Balance.json"
	twilioTestAcct  = "/2010-04-01/Accounts/" + twilioTestSID + ".json"
)

func twilioRecordJSON(category, date, count, countUnit, usage, usageUnit, price, priceUnit string) string {
	return fmt.Sprintf(`{"account_sid":%q,"api_version":"2010-04-01","as_of":"2026-11-26T12:00:00+00:00",
		"category":%q,"count":%s,"count_unit":%q,"description":"%s usage","end_date":%q,"price":%s,
		"price_unit":%q,"start_date":%q,"subresource_uris":{},"uri":"/2010-04-01/Accounts/x/Usage/Records.json",
		"usage":%s,"usage_unit":%q}`, twilioTestSID, category, count, countUnit, category, date, price, priceUnit, date, usage, usageUnit)
}

func twilioPageJSON(next string, records ...string) string {
	nx := "null"
	if next != "" {
		nx = fmt.Sprintf("%q", next)
	}
	return fmt.Sprintf(`{"first_page_uri":"/first","end":0,"previous_page_uri":null,"uri":"/this","page_size":1000,
		"start":0,"usage_records":[%s],"next_page_uri":%s,"page":0}`, strings.Join(records, ","), nx)
}

// twilioServer answers with handler after checking the Basic auth header.
func twilioServer(t *testing.T, user, pass string, handler http.HandlerFunc) *clienttest.Server {
	t.Helper()
	return clienttest.NewKeyedServer(t, "Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user+":"+pass)), handler)
}

func twilioNew(base string, cats ...string) *Client {
	return NewClient(ClientConfig{BaseURL: base + "/", AccountSID: twilioTestSID, AuthToken: twilioTestToken, Categories: cats}, nil)
}

// twilioTestSecrets are what no error or message may show: the token, alone
// or in the Basic credentials.
var twilioTestSecrets = []string{twilioTestToken, base64.StdEncoding.EncodeToString([]byte(twilioTestSID + ":" + twilioTestToken))}

func TestTwilioPollDailyTodayBalance(t *testing.T) {
	from := time.Date(2026, 11, 24, 15, 30, 0, 0, time.UTC)
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.FixedZone("CET", 3600)) // 08:00 UTC
	page2 := twilioTestDaily + "?Category=totalprice&EndDate=2026-11-26&PageSize=1000&StartDate=2026-11-24&Page=1&PageToken=PAabc"
	srv := twilioServer(t, twilioTestSID, twilioTestToken, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		switch {
		case r.URL.Path == twilioTestDaily && q.Get("PageToken") == "PAabc":
			fmt.Fprint(w, twilioPageJSON("",
				twilioRecordJSON("totalprice", "2026-11-25", `""`, "", `"0.5"`, "usd", `"0.50000"`, "usd")))
		case r.URL.Path == twilioTestDaily:
			if q.Get("StartDate") != "2026-11-24" || q.Get("EndDate") != "2026-11-26" || q.Get("PageSize") != "1000" {
				t.Errorf("daily query %v", q)
			}
			switch q.Get("Category") {
			case "totalprice":
				fmt.Fprint(w, twilioPageJSON(page2,
					twilioRecordJSON("totalprice", "2026-11-24", `""`, "", `"1.25"`, "usd", `1.25`, "usd")))
			case "sms":
				fmt.Fprint(w, twilioPageJSON("",
					twilioRecordJSON("sms", "2026-11-24", `"12"`, "messages", `"14"`, "segments", `0.10500`, "usd"),
					twilioRecordJSON("sms", "2026-11-25", `"0"`, "messages", `"0"`, "segments", `null`, "usd"),
					twilioRecordJSON("sms", "2026-11-26", `"1"`, "messages", `"1"`, "segments", `0.0079`, "usd"),
					// a category that was not asked for is ignored
					twilioRecordJSON("calls", "2026-11-24", `"5"`, "calls", `"17"`, "minutes", `0.22`, "usd")))
			default:
				t.Errorf("unexpected category %q", q.Get("Category"))
			}
		case r.URL.Path == twilioTestToday:
			if q.Get("PageSize") != "1000" || q.Has("StartDate") {
				t.Errorf("today query %v", q)
			}
			switch q.Get("Category") {
			case "totalprice":
				fmt.Fprint(w, twilioPageJSON("",
					twilioRecordJSON("totalprice", "2026-11-26", `""`, "", `"0.0229"`, "usd", `0.0229`, "usd")))
			case "sms":
				fmt.Fprint(w, twilioPageJSON("",
					twilioRecordJSON("sms", "2026-11-26", `"3"`, "messages", `"4"`, "segments", `"0.0229"`, "usd"),
					twilioRecordJSON("sms", "2026-11-26x", `"3"`, "messages", `"4"`, "segments", `1`, "usd")))
			}
		case r.URL.Path == twilioTestBal:
			fmt.Fprintf(w, `{"account_sid":%q,"balance":"12.34500","currency":"USD"}`, twilioTestSID)
		default:
			t.Errorf("unexpected request %s", r.URL)
			http.NotFound(w, r)
		}
	})
	tw := twilioNew(srv.URL, "totalprice", "sms")
	if tw.Provider() != Name {
		t.Fatalf("Provider() = %q", tw.Provider())
	}
	p, err := tw.Poll(context.Background(), from, now)
	if err != nil {
		t.Fatalf("Poll: %v", err)
	}
	var got []string
	for _, u := range p.Usage {
		got = append(got, clienttest.UsageLine(u))
	}
	a := twilioTestSID
	clienttest.SameLines(t, "usage", got, []string{
		"2026-11-24T00:00:00Z 2026-11-25T00:00:00Z acct=" + a + " kind=cost_usd value=1.25 project= model= line= cat=totalprice key=",
		"2026-11-24T00:00:00Z 2026-11-25T00:00:00Z acct=" + a + " kind=usage value=1.25 project= model= line=usd cat=totalprice key=",
		"2026-11-25T00:00:00Z 2026-11-26T00:00:00Z acct=" + a + " kind=cost_usd value=0.5 project= model= line= cat=totalprice key=",
		"2026-11-25T00:00:00Z 2026-11-26T00:00:00Z acct=" + a + " kind=usage value=0.5 project= model= line=usd cat=totalprice key=",
		"2026-11-26T00:00:00Z 2026-11-27T00:00:00Z acct=" + a + " kind=cost_usd value=0.0229 project= model= line= cat=totalprice key=",
		"2026-11-26T00:00:00Z 2026-11-27T00:00:00Z acct=" + a + " kind=usage value=0.0229 project= model= line=usd cat=totalprice key=",
		"2026-11-24T00:00:00Z 2026-11-25T00:00:00Z acct=" + a + " kind=breakdown_cost_usd value=0.105 project= model= line= cat=sms key=",
		"2026-11-24T00:00:00Z 2026-11-25T00:00:00Z acct=" + a + " kind=count value=12 project= model= line=messages cat=sms key=",
		"2026-11-24T00:00:00Z 2026-11-25T00:00:00Z acct=" + a + " kind=usage value=14 project= model= line=segments cat=sms key=",
		// null price: no cost row, counts still reported
		"2026-11-25T00:00:00Z 2026-11-26T00:00:00Z acct=" + a + " kind=count value=0 project= model= line=messages cat=sms key=",
		"2026-11-25T00:00:00Z 2026-11-26T00:00:00Z acct=" + a + " kind=usage value=0 project= model= line=segments cat=sms key=",
		// Today's record replaced Daily's for the open day
		"2026-11-26T00:00:00Z 2026-11-27T00:00:00Z acct=" + a + " kind=breakdown_cost_usd value=0.0229 project= model= line= cat=sms key=",
		"2026-11-26T00:00:00Z 2026-11-27T00:00:00Z acct=" + a + " kind=count value=3 project= model= line=messages cat=sms key=",
		"2026-11-26T00:00:00Z 2026-11-27T00:00:00Z acct=" + a + " kind=usage value=4 project= model= line=segments cat=sms key=",
	})
	if len(p.Gauges) != 1 {
		t.Fatalf("gauges = %+v", p.Gauges)
	}
	if g := p.Gauges[0]; g.Name != "balance_usd" || g.Window != "" || g.Account != a || g.Value.String() != "12.345" {
		t.Errorf("gauge = %+v (%s)", g, g.Value)
	}
	if len(p.RateLimits) != 0 {
		t.Errorf("rate limits = %+v", p.RateLimits)
	}
	clienttest.SameLines(t, "notes", tw.Notes(), []string{`sms: record with unreadable start_date "2026-11-26x" skipped`})
	clienttest.SameLines(t, "requests", srv.Seen(), []string{
		"GET " + twilioTestDaily + "?Category=totalprice&EndDate=2026-11-26&PageSize=1000&StartDate=2026-11-24",
		"GET " + page2,
		"GET " + twilioTestToday + "?Category=totalprice&PageSize=1000",
		"GET " + twilioTestDaily + "?Category=sms&EndDate=2026-11-26&PageSize=1000&StartDate=2026-11-24",
		"GET " + twilioTestToday + "?Category=sms&PageSize=1000",
		"GET " + twilioTestBal,
	})
}

func TestTwilioNonUSDSkippedWithNote(t *testing.T) {
	srv := twilioServer(t, twilioTestSID, twilioTestToken, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case twilioTestDaily:
			fmt.Fprint(w, twilioPageJSON("", twilioRecordJSON("sms", "2026-11-25", `"2"`, "messages", `"2"`, "segments", `0.15`, "eur")))
		case twilioTestToday:
			fmt.Fprint(w, twilioPageJSON(""))
		case twilioTestBal:
			fmt.Fprintf(w, `{"account_sid":%q,"balance":"3.10","currency":"EUR"}`, twilioTestSID)
		}
	})
	tw := twilioNew(srv.URL, "sms")
	now := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	p, err := tw.Poll(context.Background(), now.Add(-24*time.Hour), now)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, u := range p.Usage {
		got = append(got, u.Kind+"="+u.Value.String()+"/"+u.LineItem)
	}
	clienttest.SameLines(t, "usage", got, []string{"count=2/messages", "usage=2/segments"})
	if len(p.Gauges) != 0 {
		t.Errorf("gauges = %+v", p.Gauges)
	}
	clienttest.SameLines(t, "notes", tw.Notes(), []string{
		`sms 2026-11-25: price in "eur" skipped (only usd is recorded)`,
		`balance in "EUR" skipped (only usd is recorded)`,
	})
}

func TestTwilioDefaultCategoriesAndAPIKeyAuth(t *testing.T) {
	var cats []string
	srv := twilioServer(t, "SK0001", "keysecret", func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case twilioTestDaily:
			cats = append(cats, r.URL.Query().Get("Category"))
			fmt.Fprint(w, twilioPageJSON(""))
		case twilioTestToday:
			fmt.Fprint(w, twilioPageJSON(""))
		case twilioTestBal:
			fmt.Fprintf(w, `{"account_sid":%q,"balance":"-0.5","currency":"USD"}`, twilioTestSID)
		case twilioTestAcct:
			fmt.Fprint(w, `{"sid":"`+twilioTestSID+`","status":"active"}`)
		}
	})
	tw := NewClient(ClientConfig{BaseURL: srv.URL, AccountSID: twilioTestSID, APIKeySID: "SK0001", APIKeySecret: "keysecret"}, srv.Client())
	now := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	p, err := tw.Poll(context.Background(), now, now)
	if err != nil {
		t.Fatal(err)
	}
	clienttest.SameLines(t, "categories", cats, []string{"totalprice", "sms", "sms-outbound", "sms-inbound", "calls", "calls-inbound", "calls-outbound"})
	if len(p.Usage) != 0 || len(p.Gauges) != 1 || p.Gauges[0].Value.String() != "-0.5" {
		t.Errorf("poll = %+v", p)
	}
	if ch := tw.Check(context.Background()); !ch.Up || ch.Class != "" || ch.HTTPStatus != 200 || ch.Message != "" {
		t.Errorf("check = %+v", ch)
	}
}

func TestTwilioPagingLoopStopped(t *testing.T) {
	loop := twilioTestDaily + "?Category=sms&Page=1&PageToken=PAloop"
	srv := twilioServer(t, twilioTestSID, twilioTestToken, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case twilioTestDaily:
			fmt.Fprint(w, twilioPageJSON(loop, twilioRecordJSON("sms", "2026-11-25", `"2"`, "messages", `"2"`, "segments", `0.0158`, "usd")))
		case twilioTestToday:
			fmt.Fprint(w, twilioPageJSON(""))
		case twilioTestBal:
			fmt.Fprintf(w, `{"account_sid":%q,"balance":"1","currency":"USD"}`, twilioTestSID)
		}
	})
	now := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	p, err := twilioNew(srv.URL, "sms").Poll(context.Background(), now.Add(-48*time.Hour), now)
	if provider.ClassOf(err) != provider.ClassBadResponse || !strings.Contains(err.Error(), "next_page_uri repeats") {
		t.Fatalf("err = %v", err)
	}
	// partial results: the record read, today and the balance still polled
	if len(p.Usage) != 3 || p.Usage[0].Kind != "breakdown_cost_usd" || p.Usage[0].Value.String() != "0.0158" || len(p.Gauges) != 1 {
		t.Errorf("poll = %+v", p)
	}
	if n := len(srv.Seen()); n != 4 { // daily, the loop page once (its repeat is not requested), today, balance
		t.Errorf("%d requests: %v", n, srv.Seen())
	}
}

func TestTwilioPageLimit(t *testing.T) {
	var n int
	srv := twilioServer(t, twilioTestSID, twilioTestToken, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case twilioTestDaily:
			n++
			fmt.Fprint(w, twilioPageJSON(fmt.Sprintf("%s?Category=sms&Page=%d", twilioTestDaily, n)))
		default:
			t.Errorf("no request expected after the page limit, got %s", r.URL)
		}
	})
	tw := twilioNew(srv.URL, "sms")
	err := tw.list(context.Background(), twilioTestDaily, nil, func(twilioRecord) {})
	if provider.ClassOf(err) != provider.ClassBadResponse || !strings.Contains(err.Error(), "more than 1000 pages") {
		t.Fatalf("err = %v", err)
	}
	if n != 1000 {
		t.Errorf("%d pages read, want 1000", n)
	}
}

func TestTwilioNextPageOtherHostNotFollowed(t *testing.T) {
	srv := twilioServer(t, twilioTestSID, twilioTestToken, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case twilioTestDaily:
			fmt.Fprint(w, twilioPageJSON("https://evil.example/steal?Page=1"))
		case twilioTestToday:
			fmt.Fprint(w, twilioPageJSON(""))
		case twilioTestBal:
			fmt.Fprintf(w, `{"account_sid":%q,"balance":"1","currency":"USD"}`, twilioTestSID)
		}
	})
	now := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	_, err := twilioNew(srv.URL, "sms").Poll(context.Background(), now, now)
	if provider.ClassOf(err) != provider.ClassBadResponse || !strings.Contains(err.Error(), "another host") {
		t.Fatalf("err = %v", err)
	}
}

func TestTwilioErrors(t *testing.T) {
	cases := []struct {
		name      string
		status    int
		header    map[string]string
		body      string
		class     string
		message   string
		retry     time.Duration
		checkUp   bool
		pollCalls int
	}{
		{"auth", 401, nil, `{"code":20003,"message":"Authenticate","more_info":"https://www.twilio.com/docs/errors/20003","status":401}`,
			provider.ClassAuthFailed, "Authenticate", 0, false, 1},
		{"concurrency", 429, map[string]string{"Retry-After": "7"},
			`{"code":20429,"message":"Too Many Requests","more_info":"https://www.twilio.com/docs/errors/20429","status":429}`,
			provider.ClassRateLimited, "Too Many Requests", 7 * time.Second, true, 1},
		{"server", 503, nil, `{"code":20500,"message":"Service Unavailable","more_info":"","status":503}`,
			provider.ClassServerError, "Service Unavailable", 0, false, 1},
		// an unreadable list is not fatal: every list is tried, then the balance
		{"malformed", 200, nil, `{"usage_records":[{"category":`, provider.ClassBadResponse, "", 0, false, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := twilioServer(t, twilioTestSID, twilioTestToken, func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			})
			tw := twilioNew(srv.URL, "sms")
			now := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
			p, err := tw.Poll(context.Background(), now.Add(-time.Hour), now)
			var pe *provider.Error
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v", err)
			}
			if pe.Class != tc.class || pe.Status != tc.status || pe.Message != tc.message || pe.RetryAfter != tc.retry || pe.Provider != Name {
				t.Errorf("error = %+v", pe)
			}
			if len(p.Usage)+len(p.Gauges) != 0 {
				t.Errorf("poll = %+v", p)
			}
			if n := len(srv.Seen()); n != tc.pollCalls {
				t.Errorf("%d requests, want %d: %v", n, tc.pollCalls, srv.Seen())
			}
			clienttest.AssertNoSecret(t, twilioTestSecrets, err.Error())
			ch := tw.Check(context.Background())
			if ch.Up != tc.checkUp || ch.Class != tc.class || ch.HTTPStatus != tc.status || ch.Message != tc.message && tc.status != 200 {
				t.Errorf("check = %+v", ch)
			}
			clienttest.AssertNoSecret(t, twilioTestSecrets, ch.Message)
		})
	}
}

func TestTwilioCheckSuspended(t *testing.T) {
	srv := twilioServer(t, twilioTestSID, twilioTestToken, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != twilioTestAcct || r.Method != http.MethodGet {
			t.Errorf("unexpected %s %s", r.Method, r.URL)
		}
		fmt.Fprintf(w, `{"sid":%q,"friendly_name":"main","status":"suspended","type":"Full"}`, twilioTestSID)
	})
	ch := twilioNew(srv.URL).Check(context.Background())
	if ch.Up || ch.Class != provider.ClassAuthFailed || ch.HTTPStatus != 200 || ch.Message != "account status suspended" {
		t.Errorf("check = %+v", ch)
	}
}

func TestTwilioTimeout(t *testing.T) {
	srv := twilioServer(t, twilioTestSID, twilioTestToken, clienttest.Slow)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	now := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	tw := twilioNew(srv.URL, "sms")
	_, err := tw.Poll(ctx, now, now)
	if provider.ClassOf(err) != provider.ClassTimeout {
		t.Fatalf("err = %v (class %q)", err, provider.ClassOf(err))
	}
	clienttest.AssertNoSecret(t, twilioTestSecrets, err.Error())
	ctx2, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	if ch := tw.Check(ctx2); ch.Up || ch.Class != provider.ClassTimeout || ch.HTTPStatus != 0 {
		t.Errorf("check = %+v", ch)
	}
}
