-- The latest version of every API key.
SELECT id, name, role, prefix, key_hash, created_at, revoked_at
FROM {db}.api_keys FINAL
