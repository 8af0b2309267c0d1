//! The documentation registry's persistence: incidents, laws, evidence,
//! custody chains and the audit log (types from `canary-registry`).
