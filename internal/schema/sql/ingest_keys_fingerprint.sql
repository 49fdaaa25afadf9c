-- A summary of the ingest_keys table: any write adds a row (a new
-- version), which changes the count and the hash sum, even when another
-- collector's clock put its version below the newest.
SELECT concat(toString(count()), '/', toString(max(version)), '/', toString(sum(cityHash64(id, version))))
FROM {db}.ingest_keys
