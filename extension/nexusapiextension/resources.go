package nexusapiextension

// resourceRoutes registers the read and budget resources; each group lives
// in its own file.
func (a *api) resourceRoutes() {}
