-- Who a call was made for: the attribution dimensions the cost processor
-- resolves (customer, user, team, feature, free-form tags). Calls stored
-- before this, and calls without attribution, hold empty values.
--
-- Types follow the number of distinct values. customer and user can have
-- millions (one per end customer or end user): a LowCardinality dictionary
-- that large costs more than it saves, so they are plain String, with ZSTD
-- because ids repeat within a part. team and feature have a few dozen
-- values: LowCardinality(String). tags is a Map whose keys are few
-- (the tag names) and whose values are anything.
--
-- A bloom_filter skip index on customer and on user lets a per-customer (or
-- per-user) lookup skip the granules without that value instead of reading
-- the column for the whole range; the table is sorted by provider, service
-- and time, so without it such a lookup reads everything. 1% false
-- positives keeps the index small (about 10 bits per distinct value in a
-- granule). Parts written before this migration are not re-indexed
-- (MATERIALIZE INDEX would rewrite them all): their values are empty
-- anyway, and a part without the index is simply read.
ALTER TABLE {{.DB}}.api_calls {{.OnCluster}}
    ADD COLUMN IF NOT EXISTS customer String CODEC(ZSTD(1)),
    ADD COLUMN IF NOT EXISTS user String CODEC(ZSTD(1)),
    ADD COLUMN IF NOT EXISTS team LowCardinality(String),
    ADD COLUMN IF NOT EXISTS feature LowCardinality(String),
    ADD COLUMN IF NOT EXISTS tags Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ADD INDEX IF NOT EXISTS idx_customer customer TYPE bloom_filter(0.01) GRANULARITY 1,
    ADD INDEX IF NOT EXISTS idx_user user TYPE bloom_filter(0.01) GRANULARITY 1;
