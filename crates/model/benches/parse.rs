//! Placeholder so the workspace manifest parses; the model engineer replaces it.
fn main() {}
