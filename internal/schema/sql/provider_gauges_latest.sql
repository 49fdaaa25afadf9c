-- The latest value of each gauge named in {names}, per provider, account,
-- window, scope and endpoint, of {tenant} ('' for every tenant).
SELECT provider, account, name, `window`, scope, endpoint, argMax(value, ts), max(ts)
FROM {db}.provider_gauges
WHERE name IN {names:Array(String)} AND ({tenant:String} = '' OR tenant = {tenant:String})
GROUP BY provider, account, name, `window`, scope, endpoint
ORDER BY provider, scope, endpoint, name, `window`, account
