package nexusapiextension

func (a *api) streamRoutes() {}
