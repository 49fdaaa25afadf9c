-- Each provider's latest key check, of {tenant} ('' for every tenant). LIMIT 1 BY rather than argMax per
-- column: every field then comes from the same row even when two checks
-- share a timestamp.
SELECT provider, ts, up, class, http_status, latency_ms, message
FROM {db}.provider_health
WHERE {tenant:String} = '' OR tenant = {tenant:String}
ORDER BY provider, ts DESC
LIMIT 1 BY provider
