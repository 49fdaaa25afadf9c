-- The rollups' bucket (ts) is a DateTime, whose range ends in 2106: a call
-- timed outside 1970–2106 would wrap into another year (2200 becomes 2063)
-- and be counted there. The views now skip such calls (the WHERE of
-- rollup); the exporter refuses them first, this is the second line. MODIFY
-- QUERY swaps each view's SELECT in place: no insert runs without a view,
-- and the rollup tables keep their rows.
ALTER TABLE {{.DB}}.api_calls_1m_mv {{.OnCluster}} MODIFY QUERY
{{rollup "toStartOfMinute"}};

ALTER TABLE {{.DB}}.api_calls_1h_mv {{.OnCluster}} MODIFY QUERY
{{rollup "toStartOfHour"}};

ALTER TABLE {{.DB}}.api_calls_1d_mv {{.OnCluster}} MODIFY QUERY
{{rollup "toStartOfDay"}};
