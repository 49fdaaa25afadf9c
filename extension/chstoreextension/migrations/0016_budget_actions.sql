-- What a budget does about spend in its scope: notify (alerts only, as
-- every budget did before), warn (the proxy's calls pass, told what is
-- left) or block (the proxy refuses calls that would take spend past the
-- amount). Existing budgets keep notifying.
ALTER TABLE {{.DB}}.budgets {{.OnCluster}}
    ADD COLUMN IF NOT EXISTS action LowCardinality(String) DEFAULT 'notify';
