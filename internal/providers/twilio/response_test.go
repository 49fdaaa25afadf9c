package twilio

import "testing"

func TestDestinationCountry(t *testing.T) {
	for to, want := range map[string]string{
		"+447700900123":  "GB", // Ofcom drama range: valid UK mobile
		"+4915112345678": "DE",
		"+15558675310":   "US", // a 555 test number: the calling code's main country
		"+16135550123":   "CA", // Ottawa: +1 but Canada
		"client:alice":   "",
		"sip:a@b.c":      "",
		"+":              "",
	} {
		if got := destinationCountry(to); got != want {
			t.Errorf("destinationCountry(%q) = %q, want %q", to, got, want)
		}
	}
}
