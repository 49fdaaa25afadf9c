-- Per provider and UTC day (the view's days): what the provider billed
-- against what Nexus computed, for the days from {first} to {last}, of
-- {tenant} ('' for every tenant).
SELECT toString(day), provider, billed_usd, computed_usd, difference_usd, calls, unpriced_calls
FROM {db}.cost_reconciliation
WHERE day >= {first:Date} AND day <= {last:Date}
  AND ({provider:String} = '' OR provider = {provider:String})
  AND ({tenant:String} = '' OR tenant = {tenant:String})
ORDER BY day, provider
