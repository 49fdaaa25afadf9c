package apiusagereceiver

import (
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
)

func receiverSettings() receiver.Settings { return receivertest.NewNopSettings(componentType) }
