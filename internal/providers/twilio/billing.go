package twilio

import (
	"github.com/nexus-otel/nexus/internal/pricing"
	"github.com/nexus-otel/nexus/internal/providers/provider"
)

// units: Twilio bills a message per segment and a voice call per started
// minute; status fetches are free.
func units(c provider.Billed, u *pricing.Usage) string {
	switch c.Operation {
	case "sms":
		// Every message is at least one segment; spans that do not say
		// how many are priced at the minimum.
		u[pricing.SMSSegments] = max(c.SMSSegments, 1)
	case "voice":
		if c.VoiceSeconds == 0 {
			return "voice call duration unknown and no reported price"
		}
		u[pricing.VoiceMinutes] = (c.VoiceSeconds + 59) / 60 // billed per started minute
	}
	return ""
}
