package nexusapiextension

func (a *api) costRoutes() {}
