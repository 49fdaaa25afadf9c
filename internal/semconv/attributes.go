package semconv

// Span attribute names a call is read from, current first, deprecated
// after. The apiproxy receiver writes the same names, so that a proxied
// call and an instrumented one read alike.
const (
	AttrProviderName   = "gen_ai.provider.name"
	AttrSystem         = "gen_ai.system" // deprecated by gen_ai.provider.name
	AttrOperationName  = "gen_ai.operation.name"
	AttrRequestModel   = "gen_ai.request.model"
	AttrResponseModel  = "gen_ai.response.model"
	AttrResponseID     = "gen_ai.response.id"             // written by the proxy, read by none
	AttrFinishReasons  = "gen_ai.response.finish_reasons" // written by the proxy, read by none
	AttrInputTokens    = "gen_ai.usage.input_tokens"
	AttrPromptTokens   = "gen_ai.usage.prompt_tokens" // deprecated
	AttrOutputTokens   = "gen_ai.usage.output_tokens"
	AttrCompletionTok  = "gen_ai.usage.completion_tokens" // deprecated
	AttrCacheReadToken = "gen_ai.usage.cache_read.input_tokens"
	AttrCacheWriteTok  = "gen_ai.usage.cache_creation.input_tokens"
	AttrReasoningTok   = "gen_ai.usage.reasoning.output_tokens"
	AttrReasoningTok1  = "gen_ai.usage.reasoning_tokens" // OpenLIT and others
	AttrUsageCost      = "gen_ai.usage.cost"             // OpenLIT; USD, as reported by the provider

	// Audio and image tokens: parts of the input and output tokens that
	// are priced on their own (OpenAI audio models, gpt-image-1). No
	// semantic convention names them yet; the apiproxy receiver writes
	// these and instrumentations can set them the same way.
	AttrInputAudioTokens  = "gen_ai.usage.input_audio_tokens"
	AttrOutputAudioTokens = "gen_ai.usage.output_audio_tokens"
	AttrInputImageTokens  = "gen_ai.usage.input_image_tokens"
	AttrOutputImageTokens = "gen_ai.usage.output_image_tokens"
	// The service tier asked for and the one served (OpenAI's
	// service_tier: default, flex, priority; "batch" for Batch API calls),
	// as the OpenTelemetry GenAI conventions name them. The served tier
	// wins.
	AttrOpenAIRequestServiceTier  = "openai.request.service_tier"
	AttrOpenAIResponseServiceTier = "openai.response.service_tier"

	// Usage and reported cost of the non-GenAI providers. No semantic
	// convention covers them; the apiproxy receiver emits these names and
	// instrumentations can set them the same way.
	AttrExaCost        = "exa.cost_dollars.total" // costDollars.total
	AttrExaResults     = "exa.num_results"
	AttrExaPages       = "exa.num_pages"
	AttrTwilioPrice    = "twilio.price" // the message's price (often negative: billed amounts)
	AttrTwilioSegments = "twilio.num_segments"
	AttrTwilioCountry  = "twilio.to_country" // ISO 3166 code of the destination
	AttrTwilioSeconds  = "twilio.duration_seconds"
	AttrApolloCredits  = "apollo.credits"
	AttrReportedCost   = "nexus.reported_cost.usd" // any provider-reported cost

	AttrServerAddress  = "server.address"
	AttrServerPort     = "server.port"   // written by the proxy, read by none
	AttrNetPeerName    = "net.peer.name" // deprecated
	AttrURLFull        = "url.full"
	AttrHTTPURL        = "http.url" // deprecated
	AttrHTTPRoute      = "http.route"
	AttrURLPath        = "url.path"
	AttrMethod         = "http.request.method"
	AttrMethodOld      = "http.method" // deprecated
	AttrStatusCode     = "http.response.status_code"
	AttrStatusCodeOld  = "http.status_code" // deprecated
	AttrErrorType      = "error.type"
	AttrServiceName    = "service.name"
	AttrDeploymentEnv  = "deployment.environment.name"
	AttrDeploymentEnv0 = "deployment.environment" // deprecated

	// Attributes Nexus components write on spans; when present they win, so
	// that what the cost processor decided is what the exporter stores.
	AttrNexusProvider  = "nexus.provider"
	AttrNexusOperation = "nexus.operation"
	AttrNexusModel     = "nexus.model"

	// What the cost processor decided. The cost is an integer in pico-USD
	// (1e-12 USD) so that it travels exactly; it is absent when unpriced.
	AttrCostPicoUSD    = "nexus.cost.picousd"
	AttrCostStatus     = "nexus.cost.status" // reported | computed | unpriced
	AttrUnpricedReason = "nexus.cost.unpriced_reason"
	AttrPricingVersion = "nexus.pricing.version"
	// AttrCostReason says how a cost that is not a price was decided: a
	// refused call's $0 ("refused: HTTP 429 rate_limited").
	AttrCostReason   = "nexus.cost.reason"
	AttrAnomalyScore = "nexus.anomaly.score"
	AttrAnomaly      = "nexus.anomaly"
)

// Attribution: who a call was made for. Senders (and the apiproxy receiver,
// from its request headers) set the source names; the cost processor reads
// them (from its configured keys, these by default), cleans and bounds the
// values and writes the canonical names, which are the only ones the nexus
// exporter stores. Two sets of names so that what is stored is always what
// the processor decided, never a raw value a sender chose.
const (
	AttrCustomer  = "nexus.customer"
	AttrUser      = "nexus.user"
	AttrTeam      = "nexus.team"
	AttrFeature   = "nexus.feature"
	AttrTagPrefix = "nexus.tag." // nexus.tag.<name>: one free-form tag

	// Written by the cost processor. AttrAttributionTags is a map-valued
	// attribute (tag name → value), so the exporter reads one key rather
	// than scanning every attribute for a prefix.
	AttrAttributionPrefix   = "nexus.attribution."
	AttrAttributionCustomer = "nexus.attribution.customer"
	AttrAttributionUser     = "nexus.attribution.user"
	AttrAttributionTeam     = "nexus.attribution.team"
	AttrAttributionFeature  = "nexus.attribution.feature"
	AttrAttributionTags     = "nexus.attribution.tags"
)

// Tenancy: whose data a call is. The nexusingestauth authenticator puts
// the tenant of the ingest key a sender showed on the request's client
// info (AuthTenant, AuthIngestKeyID); the cost processor writes it on every
// resource (Tenant), overwriting whatever the sender set, and the nexus
// exporter stores it. A sender never chooses its tenant.
const (
	// AuthTenant and AuthIngestKeyID are client.Info auth attributes.
	AuthTenant      = "nexus.tenant"
	AuthIngestKeyID = "nexus.ingest_key_id"
	// Tenant is the resource attribute (and the span attribute the cost
	// processor deletes, so that none survives with a sender's value).
	Tenant = "nexus.tenant"
)
