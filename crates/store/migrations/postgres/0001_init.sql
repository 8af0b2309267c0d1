-- Canary store schema, PostgreSQL flavour. Keep in step with ../sqlite/0001_init.sql:
-- same tables, same columns, same indexes; only the type names differ.
-- Instants are BIGINT Unix seconds (UTC) and days are BIGINT Unix days, so that
-- every query is the same text on both backends.

CREATE TABLE networks (
    asn        BIGINT PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE measurements (
    -- internal key: rows and verdicts are appended in arrival order
    seq                    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                     TEXT NOT NULL UNIQUE,
    report_id              TEXT,
    test_name              TEXT NOT NULL,
    test_version           TEXT,
    input                  TEXT,
    domain                 TEXT,
    probe_cc               TEXT NOT NULL,
    probe_asn              BIGINT NOT NULL,
    probe_network_name     TEXT,
    resolver_asn           BIGINT,
    measurement_start_time BIGINT NOT NULL,
    software_name          TEXT,
    software_version       TEXT,
    category_code          TEXT,
    -- copies of verdicts.outcome and verdicts.confirmed, kept in the same
    -- transaction, so that the blocked-now look-ups are index-only
    outcome                TEXT NOT NULL,
    confirmed              SMALLINT NOT NULL,
    raw_zstd               BYTEA NOT NULL,
    raw_len                BIGINT NOT NULL,
    received_at            BIGINT NOT NULL
);
CREATE INDEX measurements_pair_time ON measurements (probe_cc, domain, probe_asn, measurement_start_time, outcome, confirmed);
CREATE INDEX measurements_cc_time ON measurements (probe_cc, measurement_start_time);
CREATE INDEX measurements_domain_time ON measurements (domain, measurement_start_time);

CREATE TABLE verdicts (
    measurement_seq BIGINT PRIMARY KEY REFERENCES measurements (seq) ON DELETE CASCADE,
    rules_version  TEXT NOT NULL,
    blocking       TEXT,
    accessible     SMALLINT,
    outcome        TEXT NOT NULL,
    layer          TEXT,
    kind           TEXT,
    confirmed      SMALLINT NOT NULL,
    fingerprint    TEXT,
    explanation    TEXT NOT NULL,
    rules_fired    TEXT NOT NULL,
    analysed_at    BIGINT NOT NULL
);

CREATE TABLE verdict_history (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    measurement_id TEXT NOT NULL REFERENCES measurements (id) ON DELETE CASCADE,
    rules_version  TEXT NOT NULL,
    blocking       TEXT,
    outcome        TEXT NOT NULL,
    layer          TEXT,
    kind           TEXT,
    confirmed      SMALLINT NOT NULL,
    replaced_at    BIGINT NOT NULL
);
CREATE INDEX verdict_history_measurement ON verdict_history (measurement_id);

-- every (country, ASN, domain) ever measured, with the domain's test-list category
-- and the times of its latest measurement, latest ok and latest blocked one
CREATE TABLE pairs (
    probe_cc      TEXT NOT NULL,
    probe_asn     BIGINT NOT NULL,
    domain        TEXT NOT NULL,
    category_code TEXT,
    last_seen     BIGINT NOT NULL,
    last_ok       BIGINT,
    last_blocked  BIGINT,
    PRIMARY KEY (probe_cc, probe_asn, domain)
);

-- measurement counts per UTC day, kept up to date by ingest and reanalyse
CREATE TABLE daily_stats (
    probe_cc      TEXT NOT NULL,
    day           BIGINT NOT NULL,
    probe_asn     BIGINT NOT NULL,
    category_code TEXT NOT NULL,
    outcome       TEXT NOT NULL,
    layer         TEXT NOT NULL,
    measurements  BIGINT NOT NULL,
    confirmed     BIGINT NOT NULL,
    PRIMARY KEY (probe_cc, day, probe_asn, category_code, outcome, layer)
);
CREATE INDEX daily_stats_asn_day ON daily_stats (probe_asn, day);

CREATE TABLE blocking_events (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    probe_cc        TEXT NOT NULL,
    probe_asn       BIGINT NOT NULL,
    domain          TEXT NOT NULL,
    layer           TEXT NOT NULL,
    start_time      BIGINT NOT NULL,
    end_time        BIGINT,
    confidence      DOUBLE PRECISION NOT NULL,
    measurement_ids TEXT NOT NULL,
    detected_at     BIGINT NOT NULL,
    UNIQUE (probe_cc, probe_asn, domain, layer, start_time)
);
CREATE INDEX blocking_events_cc_start ON blocking_events (probe_cc, start_time);
CREATE INDEX blocking_events_domain_start ON blocking_events (domain, start_time);
CREATE INDEX blocking_events_asn_start ON blocking_events (probe_asn, start_time);
