//! canary-ingest (being built)
