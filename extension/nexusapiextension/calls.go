package nexusapiextension

func (a *api) callRoutes() {}
