//! The Cambodia seed dataset: consistent, sourced, honest about what is unverified.

use canary_registry::*;

#[test]
fn seed_dataset_is_consistent() {
    let ds = seed::kh();
    ds.validate().unwrap();
    println!("{:?}", ds.counts());
}
