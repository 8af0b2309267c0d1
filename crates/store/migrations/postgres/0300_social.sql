-- Social media and messaging results (owned by crates/store/src/social.rs).
-- Keep in step with ../sqlite/0300_social.sql: same tables, same columns,
-- same indexes; only the type names differ. Instants are BIGINT Unix seconds
-- (UTC), days BIGINT Unix days. No column holds an IP address.

-- One row per facebook_messenger / whatsapp / telegram / signal /
-- canary_account_check measurement: the indexed fields, the raw JSON (zstd)
-- and the verdict the server recomputed (never the submitter's).
CREATE TABLE social_measurements (
    seq                    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                     TEXT NOT NULL UNIQUE,
    report_id              TEXT,
    test_name              TEXT NOT NULL,
    test_version           TEXT,
    input                  TEXT,
    probe_cc               TEXT NOT NULL,
    probe_asn              BIGINT NOT NULL,
    probe_network_name     TEXT,
    measurement_start_time BIGINT NOT NULL,
    day                    BIGINT NOT NULL,
    software_name          TEXT,
    software_version       TEXT,
    -- the service measured: the test_name of the four messaging tests, the
    -- platform of an account check
    service                TEXT NOT NULL,
    rules_version          TEXT NOT NULL,
    -- Canary's summary label: ok | blocked | down | unknown, layer, kind
    outcome                TEXT NOT NULL,
    layer                  TEXT,
    kind                   TEXT,
    -- OONI's headline for the test (any *_blocking true / *_status blocked);
    -- NULL when OONI's keys say nothing
    ooni_blocked           SMALLINT,
    -- OONI's verdict keys as recomputed (JSON object)
    ooni_keys              TEXT NOT NULL,
    explanation            TEXT NOT NULL,
    raw_zstd               BYTEA NOT NULL,
    raw_len                BIGINT NOT NULL,
    received_at            BIGINT NOT NULL
);
CREATE INDEX social_measurements_cc_service ON social_measurements (probe_cc, test_name, service, probe_asn, measurement_start_time);

-- Canary's label of every endpoint of a messaging measurement.
CREATE TABLE social_endpoints (
    measurement_seq BIGINT NOT NULL REFERENCES social_measurements (seq) ON DELETE CASCADE,
    position        BIGINT NOT NULL,
    endpoint        TEXT NOT NULL,
    outcome         TEXT NOT NULL,
    layer           TEXT,
    kind            TEXT,
    failure         TEXT,
    PRIMARY KEY (measurement_seq, position)
);

-- One row per account/page check: what the probe (inside) and the control
-- (outside) saw, and the verdict: reachable | network_blocked |
-- platform_restricted | down | unknown.
CREATE TABLE social_accounts (
    measurement_seq        BIGINT PRIMARY KEY REFERENCES social_measurements (seq) ON DELETE CASCADE,
    probe_cc               TEXT NOT NULL,
    probe_asn              BIGINT NOT NULL,
    measurement_start_time BIGINT NOT NULL,
    platform               TEXT NOT NULL,
    url                    TEXT NOT NULL,
    owner                  TEXT,
    category               TEXT,
    status                 TEXT NOT NULL,
    fingerprint            TEXT,
    layer                  TEXT,
    kind                   TEXT,
    reason                 TEXT NOT NULL,
    probe_failure          TEXT,
    probe_status           BIGINT,
    probe_final_url        TEXT,
    probe_title            TEXT,
    control_failure        TEXT,
    control_status         BIGINT,
    control_final_url      TEXT,
    control_title          TEXT
);
CREATE INDEX social_accounts_cc_status ON social_accounts (probe_cc, status, url, probe_asn, measurement_start_time);
CREATE INDEX social_accounts_cc_url ON social_accounts (probe_cc, url, probe_asn, measurement_start_time);
