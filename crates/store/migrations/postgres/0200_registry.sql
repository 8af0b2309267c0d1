-- The documentation registry (types in canary-registry, API in
-- src/registry.rs). Keep in step with ../sqlite/0200_registry.sql.
-- Instants of chain entries and versions are RFC 3339 text (nanoseconds
-- kept: they are hashed); updated_at is BIGINT Unix seconds (UTC).

-- The current state of every registry row: top-level records (with their
-- RecordMeta) and rows without metadata (organisations, relationships).
-- `row_id` keeps insertion order, so a dataset loads back in its order.
CREATE TABLE registry_records (
    row_id      BIGSERIAL PRIMARY KEY,
    collection  TEXT NOT NULL,
    id          TEXT NOT NULL,
    org         TEXT,
    visibility  TEXT,
    status      TEXT,
    version     BIGINT NOT NULL,
    body        TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (collection, id)
);
CREATE INDEX registry_records_by_org ON registry_records (collection, org);
CREATE INDEX registry_records_by_status ON registry_records (collection, status, visibility);

-- Every version of every row, attributed (append-only). `body` is the row
-- as written at that version (NULL for versions imported from a history
-- whose content was not given, and for deletions).
CREATE TABLE registry_versions (
    row_id      BIGSERIAL PRIMARY KEY,
    collection  TEXT NOT NULL,
    id          TEXT NOT NULL,
    version     BIGINT NOT NULL,
    by_user     TEXT NOT NULL,
    at          TEXT NOT NULL,
    summary     TEXT NOT NULL,
    body        TEXT,
    UNIQUE (collection, id, version)
);

-- Custody chains of evidence items (append-only, hash-chained).
CREATE TABLE registry_custody (
    row_id      BIGSERIAL PRIMARY KEY,
    item        TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    action      TEXT NOT NULL,
    actor       TEXT NOT NULL,
    at          TEXT NOT NULL,
    details     TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    entry_hash  TEXT NOT NULL,
    UNIQUE (item, seq)
);

-- The registry-wide audit log (append-only, hash-chained).
CREATE TABLE registry_audit (
    seq         BIGINT PRIMARY KEY NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    object      TEXT NOT NULL,
    at          TEXT NOT NULL,
    details     TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    entry_hash  TEXT NOT NULL
);

-- The head of every chain (an evidence item id, or 'audit'): how many
-- entries it has and the last entry's hash. Written in the same
-- transaction as each append; checked by verification, so deleting the
-- last entries of a chain is detected. Also the lock row of appends
-- (SELECT … FOR UPDATE), so concurrent appends never fork a chain.
CREATE TABLE registry_chain_heads (
    chain       TEXT PRIMARY KEY NOT NULL,
    length      BIGINT NOT NULL,
    last_hash   TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);

-- Append-only tables refuse UPDATE, DELETE and TRUNCATE (someone with
-- full write access can drop these triggers: verification is what
-- catches them).
CREATE FUNCTION registry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER registry_versions_append_only BEFORE UPDATE OR DELETE ON registry_versions
    FOR EACH ROW EXECUTE FUNCTION registry_append_only();
CREATE TRIGGER registry_versions_no_truncate BEFORE TRUNCATE ON registry_versions
    FOR EACH STATEMENT EXECUTE FUNCTION registry_append_only();
CREATE TRIGGER registry_custody_append_only BEFORE UPDATE OR DELETE ON registry_custody
    FOR EACH ROW EXECUTE FUNCTION registry_append_only();
CREATE TRIGGER registry_custody_no_truncate BEFORE TRUNCATE ON registry_custody
    FOR EACH STATEMENT EXECUTE FUNCTION registry_append_only();
CREATE TRIGGER registry_audit_append_only BEFORE UPDATE OR DELETE ON registry_audit
    FOR EACH ROW EXECUTE FUNCTION registry_append_only();
CREATE TRIGGER registry_audit_no_truncate BEFORE TRUNCATE ON registry_audit
    FOR EACH STATEMENT EXECUTE FUNCTION registry_append_only();
