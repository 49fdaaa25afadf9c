package nexusapiextension

func (a *api) providerRoutes() {}
