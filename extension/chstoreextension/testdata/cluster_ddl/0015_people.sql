-- Generated from the migrations for database `nexus` ON CLUSTER `nexus_cluster`.
-- Do not edit: go test -run TestClusterDDLGolden ./extension/chstoreextension -update

-- A user, one row per version. roles maps a tenant to the user's role in
-- it (viewer, editor, admin); installation admins manage tenants and
-- users. password_hash is an argon2id PHC string ('' when the user signs
-- in only through single sign-on); sso_subject links an identity
-- provider's subject (issuer and sub). failed_sign_ins and locked_until
-- carry the lock-out across restarts and collectors.
CREATE TABLE IF NOT EXISTS `nexus`.users ON CLUSTER `nexus_cluster`
(
    id                 String,
    email              String,
    name               String,
    password_hash      String,
    sso_subject        String,
    installation_admin Bool,
    roles              Map(String, LowCardinality(String)),
    preferences        String,
    active             Bool,
    failed_sign_ins    UInt32,
    locked_until       Nullable(DateTime64(3, 'UTC')),
    created_at         DateTime64(3, 'UTC'),
    updated_at         DateTime64(3, 'UTC'),
    version            DateTime64(6, 'UTC')
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', version)
ORDER BY id;

-- Browser sessions, held server-side: the cookie carries a random id, the
-- table only its SHA-256. A session ends at expires_at, after idle_timeout
-- without use (last_seen_at), or when revoked.
CREATE TABLE IF NOT EXISTS `nexus`.sessions ON CLUSTER `nexus_cluster`
(
    id_hash       String,
    user_id       String,
    via           LowCardinality(String),
    client_addr   String,
    user_agent    String,
    created_at    DateTime64(3, 'UTC'),
    expires_at    DateTime64(3, 'UTC'),
    last_seen_at  DateTime64(3, 'UTC'),
    revoked_at    Nullable(DateTime64(3, 'UTC')),
    version       DateTime64(6, 'UTC')
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', version)
ORDER BY id_hash;

-- A tenant's provider credentials, sealed with AES-256-GCM under the
-- key-encryption key kek_id names (a fingerprint, never the key). The
-- plaintext is never stored; fingerprint identifies the secret to people.
CREATE TABLE IF NOT EXISTS `nexus`.provider_credentials ON CLUSTER `nexus_cluster`
(
    tenant        LowCardinality(String),
    provider      LowCardinality(String),
    ciphertext    String,
    kek_id        String,
    fingerprint   String,
    set_by        String,
    updated_at    DateTime64(3, 'UTC'),
    deleted       Bool,
    version       DateTime64(6, 'UTC')
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', version)
ORDER BY (tenant, provider);

-- The audit trail: appended, never updated. Each entry's hash covers its
-- content and the previous entry's hash of the same tenant ('' for
-- installation events), so an edited or removed entry breaks the chain.
CREATE TABLE IF NOT EXISTS `nexus`.audit_log ON CLUSTER `nexus_cluster`
(
    tenant        LowCardinality(String),
    seq           UInt64,
    at            DateTime64(6, 'UTC'),
    actor_type    LowCardinality(String),
    actor_id      String,
    via           LowCardinality(String),
    action        LowCardinality(String),
    resource_type LowCardinality(String),
    resource_id   String,
    before        String CODEC(ZSTD(1)),
    after         String CODEC(ZSTD(1)),
    request_id    String,
    client_addr   String,
    outcome       LowCardinality(String),
    detail        String,
    prev_hash     String,
    hash          String
)
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(at)
ORDER BY (tenant, seq);

-- API keys belong to a user (owner_user) or, with '', are a service
-- account's; a key may expire.
ALTER TABLE `nexus`.api_keys ON CLUSTER `nexus_cluster`
    ADD COLUMN IF NOT EXISTS owner_user String DEFAULT '',
    ADD COLUMN IF NOT EXISTS expires_at Nullable(DateTime64(3, 'UTC'));
