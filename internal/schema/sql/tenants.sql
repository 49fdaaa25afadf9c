-- The latest version of every tenant, or of the one with {id} ('' for
-- all), deleted ones included (the reader filters them, as for budgets).
SELECT id, name, created_at, updated_at, deleted, version
FROM {db}.tenants FINAL
WHERE {id:String} = '' OR id = {id:String}
