package nexusapiextension

import (
	"context"
	"os"

	"go.uber.org/zap"
)

// bootstrapKey makes sure a fresh install can be administered
// (apikeys.Store.Bootstrap): the key in $NEXUS_ADMIN_KEY, or a generated
// admin key written to admin_key_file.
// The generated key never goes to the log: logs are shipped to places
// with other readers; the log says only where the file is.
func (a *api) bootstrapKey(ctx context.Context) error {
	path, err := a.keys.Bootstrap(ctx, os.Getenv(AdminKeyEnv), AdminKeyEnv, a.cfg.adminKeyPath())
	if err != nil || path == "" {
		return err
	}
	a.logger.Warn("no API keys existed: created an admin key and wrote it to a file only this user can read; "+
		"copy it somewhere safe and delete the file", zap.String("admin_key_file", path))
	return nil
}
