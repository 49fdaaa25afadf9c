-- The latest version of every budget of {tenant} ('' for every tenant), or
-- of the one with {id} ('' for all), deleted ones included. Deleted rows
-- are filtered by the reader: a WHERE on a non-key column is not
-- guaranteed to apply after FINAL's replacement. The tenant never changes
-- for an id, so filtering on it keeps whole histories.
SELECT id, name, provider, model, service, environment, period, timezone, amount_usd,
       CAST(thresholds AS Array(UInt64)), created_at, updated_at, deleted, version,
       tenant, customer, user, team, feature, tag_key, tag_value, action
FROM {db}.budgets FINAL
WHERE ({id:String} = '' OR id = {id:String})
  AND ({tenant:String} = '' OR tenant = {tenant:String})
