//! Rebuild when a migration changes: `sqlx::migrate!` embeds the SQL files
//! at compile time, and Cargo does not otherwise see them.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
