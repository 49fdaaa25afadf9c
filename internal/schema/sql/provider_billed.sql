-- What the providers billed from {month} to {today}, by the date label of
-- their (UTC) buckets, for {tenant} ('' for every tenant).
SELECT provider, sum(value)
FROM {db}.provider_usage FINAL
WHERE kind = 'cost_usd' AND toDate(bucket_start) >= {month:Date} AND toDate(bucket_start) <= {today:Date}
  AND ({tenant:String} = '' OR tenant = {tenant:String})
GROUP BY provider
