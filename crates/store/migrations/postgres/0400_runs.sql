-- Each pair's current blocked run, kept by ingest and reanalysis so that the
-- country page reads it instead of walking the run in the index (at 10 M
-- measurements a long run is thousands of index entries per blocked site).
--
-- The run of a pair is its blocked measurements after the latest ok one
-- (all of them when it has none): run_len of them, the first at run_since,
-- run_confirmed = 1 when any matched a blockpage fingerprint. run_len = 0
-- (and run_since NULL) exactly when the pair is not blocked now
-- (last_blocked <= last_ok, or never blocked). Same text for both backends.

ALTER TABLE pairs ADD COLUMN run_since BIGINT;
ALTER TABLE pairs ADD COLUMN run_len BIGINT NOT NULL DEFAULT 0;
ALTER TABLE pairs ADD COLUMN run_confirmed SMALLINT NOT NULL DEFAULT 0;

UPDATE pairs SET
    run_since = (SELECT MIN(m.measurement_start_time) FROM measurements m
        WHERE m.probe_cc = pairs.probe_cc AND m.domain = pairs.domain
        AND m.probe_asn = pairs.probe_asn AND m.outcome = 'blocked'
        AND (pairs.last_ok IS NULL OR m.measurement_start_time > pairs.last_ok)),
    run_len = (SELECT COUNT(*) FROM measurements m
        WHERE m.probe_cc = pairs.probe_cc AND m.domain = pairs.domain
        AND m.probe_asn = pairs.probe_asn AND m.outcome = 'blocked'
        AND (pairs.last_ok IS NULL OR m.measurement_start_time > pairs.last_ok)),
    run_confirmed = (SELECT COALESCE(MAX(m.confirmed), 0) FROM measurements m
        WHERE m.probe_cc = pairs.probe_cc AND m.domain = pairs.domain
        AND m.probe_asn = pairs.probe_asn AND m.outcome = 'blocked'
        AND (pairs.last_ok IS NULL OR m.measurement_start_time > pairs.last_ok))
WHERE last_blocked IS NOT NULL AND (last_ok IS NULL OR last_blocked > last_ok);

-- the blocked-now list: only the pairs blocked now, in the page's order
CREATE INDEX pairs_blocked_now ON pairs (probe_cc, domain, probe_asn) WHERE run_len > 0;
