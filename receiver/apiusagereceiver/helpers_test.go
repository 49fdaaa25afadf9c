package apiusagereceiver

import (
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
)

func receiverSettings() receiver.Settings { return receivertest.NewNopSettings(componentType) }

func nopConsumer() consumer.Metrics { return consumertest.NewNop() }

func nopHost() component.Host { return componenttest.NewNopHost() }
