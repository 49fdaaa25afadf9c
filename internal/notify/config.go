package notify

import "go.opentelemetry.io/collector/component"

// ChannelConfig configures one named channel. (Skeleton: to be completed —
// one block per channel type, secrets as configopaque.String.)
type ChannelConfig struct {
	// Type is email, slack, discord, twilio, webhook or inapp.
	Type string `mapstructure:"type"`
}

// Validate checks the channel's configuration; errors name the key.
func (c *ChannelConfig) Validate() error { return nil }

// Build makes the channels of a config, by name. The inapp type needs no
// channel here (the API stores and streams every event) and is left out.
// (Skeleton: to be completed.)
func Build(channels map[string]ChannelConfig, set component.TelemetrySettings) (map[string]Channel, error) {
	return map[string]Channel{}, nil
}
