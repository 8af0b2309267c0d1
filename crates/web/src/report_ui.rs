//! Reports from the web UI, for analysts.

use axum::Router;

use crate::server::Shared;

/// This area's templates, by name.
pub(crate) const TEMPLATES: &[(&str, &str)] = &[];

/// This area's routes (each sets its own body limit).
pub(crate) fn routes() -> Router<Shared> {
    Router::new()
}
