//! Seed
/// x
pub fn kh() -> crate::Dataset {
    crate::Dataset::new()
}
