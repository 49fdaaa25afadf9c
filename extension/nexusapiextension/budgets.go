package nexusapiextension

func (a *api) budgetRoutes() {}
