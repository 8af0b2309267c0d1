//! Evidence intake: store the original untouched, describe it, open its
//! custody chain; derive working copies that point back to the original and
//! are logged in the original's chain.
//!
//! ```
//! use canary_registry::evidence::{acquire, derive_working_copy, Acquisition};
//! use canary_registry::*;
//!
//! let dir = tempfile::tempdir()?;
//! let store = ObjectStore::new(dir.path());
//! let analyst = Principal::user("u_dara", "org_ngo", Role::Analyst);
//! let t = time::macros::datetime!(2024-05-01 09:00 UTC);
//! let (original, first) = acquire(&store, b"<html>blocked</html>", Acquisition {
//!     id: "ev_blockpage".into(),
//!     by: &analyst,
//!     at: t,
//!     media_type: "text/html".into(),
//!     acquired_from: Some("http://example.invalid/".into()),
//!     method: "canary probe fetch".into(),
//! })?;
//! assert_eq!(original.sha256, sha256_hex(b"<html>blocked</html>"));
//! let (copy, copied, copy_first) = derive_working_copy(
//!     &store, &original, &first, b"blocked", "text extracted",
//!     Acquisition { id: "ev_blockpage_text".into(), by: &analyst, at: t,
//!         media_type: "text/plain".into(), acquired_from: None, method: "manual".into() },
//! )?;
//! assert!(verify_chain(&[first, copied]).is_ok());
//! assert_eq!(copy_first.item, copy.meta.id);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use time::OffsetDateTime;

use crate::chain::CustodyEvent;
use crate::entities::{EvidenceItem, EvidenceKind};
use crate::error::Error;
use crate::files::ObjectStore;
use crate::meta::RecordMeta;
use crate::policy::Principal;
use crate::vocab::{CustodyAction, EntityType};

/// What is known about a file being taken in.
#[derive(Debug, Clone)]
pub struct Acquisition<'a> {
    /// New evidence id (`ev_…`).
    pub id: String,
    /// Who takes it in (analyst or admin).
    pub by: &'a Principal,
    /// When.
    pub at: OffsetDateTime,
    /// Media type.
    pub media_type: String,
    /// Public URL it came from.
    pub acquired_from: Option<String>,
    /// Method or tool.
    pub method: String,
}

fn item(
    a: &Acquisition<'_>,
    sha256: String,
    size: u64,
    kind: EvidenceKind,
) -> Result<EvidenceItem, Error> {
    Ok(EvidenceItem {
        meta: RecordMeta::new(EntityType::Evidence, a.id.clone(), a.by, a.at)?,
        sha256,
        size,
        media_type: a.media_type.clone(),
        kind,
        acquired_at: a.at,
        acquired_from: a.acquired_from.clone(),
        acquired_by: a.by.user_id().unwrap_or_default().to_owned(),
        method: a.method.clone(),
        provenance: None,
        linked_ids: Vec::new(),
    })
}

/// Stores `bytes` as an original (never overwriting an existing object),
/// returns its record and the first custody event (`acquired`, with the
/// hash in its details).
pub fn acquire(
    store: &ObjectStore,
    bytes: &[u8],
    a: Acquisition<'_>,
) -> Result<(EvidenceItem, CustodyEvent), Error> {
    // Check the principal before touching the disk.
    RecordMeta::new(EntityType::Evidence, a.id.clone(), a.by, a.at)?;
    let stored = store.put(bytes)?;
    let ev = item(
        &a,
        stored.sha256.clone(),
        stored.size,
        EvidenceKind::Original,
    )?;
    let first = CustodyEvent::first(
        ev.meta.id.clone(),
        CustodyAction::Acquired,
        ev.acquired_by.clone(),
        a.at,
        format!(
            "sha256={} size={} method={}",
            stored.sha256, stored.size, a.method
        ),
    );
    Ok((ev, first))
}

/// Stores a working copy derived from `original` and returns: the copy's
/// record (pointing back to the original), the `copied` event appended to
/// the original's chain after `original_last`, and the copy's own first
/// custody event.
pub fn derive_working_copy(
    store: &ObjectStore,
    original: &EvidenceItem,
    original_last: &CustodyEvent,
    bytes: &[u8],
    derivation: &str,
    a: Acquisition<'_>,
) -> Result<(EvidenceItem, CustodyEvent, CustodyEvent), Error> {
    if original_last.item != original.meta.id {
        return Err(Error::invalid(
            "custody event",
            format!(
                "last event belongs to {}, not {}",
                original_last.item, original.meta.id
            ),
        ));
    }
    RecordMeta::new(EntityType::Evidence, a.id.clone(), a.by, a.at)?;
    let stored = store.put(bytes)?;
    let copy = item(
        &a,
        stored.sha256.clone(),
        stored.size,
        EvidenceKind::WorkingCopy {
            derived_from: original.meta.id.clone(),
            derivation: derivation.to_owned(),
        },
    )?;
    let copied = original_last.next(
        CustodyAction::Copied,
        copy.acquired_by.clone(),
        a.at,
        format!(
            "working copy {} sha256={}: {derivation}",
            copy.meta.id, stored.sha256
        ),
    );
    let first = CustodyEvent::first(
        copy.meta.id.clone(),
        CustodyAction::Acquired,
        copy.acquired_by.clone(),
        a.at,
        format!(
            "sha256={} size={} derived from {} ({derivation})",
            stored.sha256, stored.size, original.meta.id
        ),
    );
    Ok((copy, copied, first))
}
