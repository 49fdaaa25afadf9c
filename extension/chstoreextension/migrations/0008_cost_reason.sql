-- Why a call costs what it does when no price applied: a refused call is a
-- known $0 (the provider did not bill it) and says so here, e.g.
-- "refused: HTTP 429 rate_limited". pricing_version keeps meaning the
-- catalog version a computed cost came from.
ALTER TABLE {{.DB}}.api_calls {{.OnCluster}}
    ADD COLUMN IF NOT EXISTS cost_reason LowCardinality(String) AFTER pricing_version;
