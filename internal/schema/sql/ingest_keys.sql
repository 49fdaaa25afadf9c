-- The latest version of every ingest key, of every tenant: the
-- authenticator checks keys from memory and must know them all.
SELECT id, tenant, name, prefix, key_hash, created_at, revoked_at
FROM {db}.ingest_keys FINAL
