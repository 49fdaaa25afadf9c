-- The latest version of every API key, of every tenant: keys are looked up
-- by their secret before anyone knows whose they are.
SELECT id, name, role, prefix, key_hash, created_at, revoked_at, tenant, installation_admin, owner_user, expires_at
FROM {db}.api_keys FINAL
