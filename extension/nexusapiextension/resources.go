package nexusapiextension

// resourceRoutes registers the read and write resources; each lives in its
// own file with its handlers.
func (a *api) resourceRoutes() {
	a.costRoutes()
	a.callRoutes()
	a.budgetRoutes()
	a.providerRoutes()
	a.streamRoutes()
	a.alertRoutes()
	a.insightRoutes()
	a.metricRoutes()
	a.privacyRoutes()
}
