//! Hash-chained, append-only logs: the per-item evidence **custody chain**
//! and the registry-wide **audit log**.
//!
//! Each entry stores `prev_hash` (the previous entry's `entry_hash`, or 64
//! zeros for the first) and `entry_hash = SHA-256(canonical encoding of
//! every other field ‖ prev_hash)`. The canonical encoding is a domain tag
//! followed by each field as an 8-byte big-endian length and its bytes
//! (times as i128 Unix nanoseconds), so no two different entries encode the
//! same way.
//!
//! [`verify_chain`] walks a chain and reports the first bad entry:
//! altered (its hash no longer matches), missing (a sequence number was
//! skipped: deletion), out of order (a number repeats or goes back:
//! insertion or reordering) or unlinked (a row rewritten with a fresh hash,
//! or inserted). A deletion of the *last* entries leaves a valid shorter
//! chain; keep a [`ChainHead`] elsewhere (or publish it) and use
//! [`verify_chain_with_head`] to catch that. Likewise someone able to
//! rewrite a whole chain and recompute every hash is only caught by an
//! anchored head.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::vocab::{AuditAction, CustodyAction};

/// `prev_hash` of the first entry of a chain.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A hash-chained entry.
pub trait Chained {
    /// The chain this entry belongs to (evidence item id, or "audit").
    fn chain(&self) -> &str;
    /// Position in the chain, from 0.
    fn seq(&self) -> u64;
    /// Stored hash of the previous entry.
    fn prev_hash(&self) -> &str;
    /// Stored hash of this entry.
    fn entry_hash(&self) -> &str;
    /// The hash recomputed from the fields.
    fn compute_hash(&self) -> String;
}

struct Canon(Sha256);

impl Canon {
    fn new(tag: &[u8]) -> Self {
        let mut c = Canon(Sha256::new());
        c.bytes(tag);
        c
    }
    fn bytes(&mut self, b: &[u8]) {
        self.0.update((b.len() as u64).to_be_bytes());
        self.0.update(b);
    }
    fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }
    fn u64(&mut self, n: u64) {
        self.bytes(&n.to_be_bytes());
    }
    fn time(&mut self, t: OffsetDateTime) {
        self.bytes(&t.unix_timestamp_nanos().to_be_bytes());
    }
    fn finish(self) -> String {
        hex::encode(self.0.finalize())
    }
}

/// One action on an evidence item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustodyEvent {
    /// Evidence item id.
    pub item: String,
    /// Position in the item's chain, from 0.
    pub seq: u64,
    /// What was done.
    pub action: CustodyAction,
    /// Who (user id).
    pub actor: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Details (tool, destination of an export, hash checked…). Never put
    /// sensitive identities here: custody logs travel with exports.
    pub details: String,
    /// Previous entry's hash.
    pub prev_hash: String,
    /// This entry's hash.
    pub entry_hash: String,
}

impl CustodyEvent {
    /// The first event of an item's chain (normally `acquired`).
    pub fn first(
        item: impl Into<String>,
        action: CustodyAction,
        actor: impl Into<String>,
        at: OffsetDateTime,
        details: impl Into<String>,
    ) -> Self {
        Self::sealed(
            item.into(),
            0,
            action,
            actor.into(),
            at,
            details.into(),
            GENESIS.into(),
        )
    }

    /// The event that follows `self` in the same chain.
    pub fn next(
        &self,
        action: CustodyAction,
        actor: impl Into<String>,
        at: OffsetDateTime,
        details: impl Into<String>,
    ) -> Self {
        Self::sealed(
            self.item.clone(),
            self.seq + 1,
            action,
            actor.into(),
            at,
            details.into(),
            self.entry_hash.clone(),
        )
    }

    fn sealed(
        item: String,
        seq: u64,
        action: CustodyAction,
        actor: String,
        at: OffsetDateTime,
        details: String,
        prev_hash: String,
    ) -> Self {
        let mut e = CustodyEvent {
            item,
            seq,
            action,
            actor,
            at,
            details,
            prev_hash,
            entry_hash: String::new(),
        };
        e.entry_hash = e.compute_hash();
        e
    }
}

impl Chained for CustodyEvent {
    fn chain(&self) -> &str {
        &self.item
    }
    fn seq(&self) -> u64 {
        self.seq
    }
    fn prev_hash(&self) -> &str {
        &self.prev_hash
    }
    fn entry_hash(&self) -> &str {
        &self.entry_hash
    }
    fn compute_hash(&self) -> String {
        let mut c = Canon::new(b"canary-custody-v1");
        c.str(&self.item);
        c.u64(self.seq);
        c.str(self.action.as_str());
        c.str(&self.actor);
        c.time(self.at);
        c.str(&self.details);
        c.str(&self.prev_hash);
        c.finish()
    }
}

/// Name of the audit log's single chain.
pub const AUDIT_CHAIN: &str = "audit";

/// One audited action (a read of a sensitive field, an export, an edit…).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Position in the log, from 0.
    pub seq: u64,
    /// Who (user id, or "anonymous").
    pub actor: String,
    /// What.
    pub action: AuditAction,
    /// On what (record id, field, export name).
    pub object: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Details (format, record counts, hash of an export…).
    pub details: String,
    /// Previous entry's hash.
    pub prev_hash: String,
    /// This entry's hash.
    pub entry_hash: String,
}

impl Chained for AuditEntry {
    fn chain(&self) -> &str {
        AUDIT_CHAIN
    }
    fn seq(&self) -> u64 {
        self.seq
    }
    fn prev_hash(&self) -> &str {
        &self.prev_hash
    }
    fn entry_hash(&self) -> &str {
        &self.entry_hash
    }
    fn compute_hash(&self) -> String {
        let mut c = Canon::new(b"canary-audit-v1");
        c.u64(self.seq);
        c.str(&self.actor);
        c.str(self.action.as_str());
        c.str(&self.object);
        c.time(self.at);
        c.str(&self.details);
        c.str(&self.prev_hash);
        c.finish()
    }
}

impl AuditEntry {
    /// The entry following `prev` (or the first one when `prev` is `None`).
    pub fn after(
        prev: Option<&AuditEntry>,
        actor: impl Into<String>,
        action: AuditAction,
        object: impl Into<String>,
        at: OffsetDateTime,
        details: impl Into<String>,
    ) -> Self {
        let mut e = AuditEntry {
            seq: prev.map_or(0, |p| p.seq + 1),
            actor: actor.into(),
            action,
            object: object.into(),
            at,
            details: details.into(),
            prev_hash: prev.map_or_else(|| GENESIS.to_owned(), |p| p.entry_hash.clone()),
            entry_hash: String::new(),
        };
        e.entry_hash = e.compute_hash();
        e
    }
}

/// An in-memory audit log (the store persists the same entries).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditLog {
    entries: Vec<AuditEntry>,
}

impl AuditLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// A log continuing from stored entries (verify them first with [`AuditLog::verify`]).
    pub fn from_entries(entries: Vec<AuditEntry>) -> Self {
        AuditLog { entries }
    }

    /// Appends an entry and returns it.
    pub fn append(
        &mut self,
        actor: impl Into<String>,
        action: AuditAction,
        object: impl Into<String>,
        at: OffsetDateTime,
        details: impl Into<String>,
    ) -> &AuditEntry {
        let e = AuditEntry::after(self.entries.last(), actor, action, object, at, details);
        tracing::debug!(seq = e.seq, action = %e.action, object = %e.object, "audit");
        self.entries.push(e);
        &self.entries[self.entries.len() - 1]
    }

    /// The entries, oldest first.
    pub fn entries(&self) -> &[AuditEntry] {
        &self.entries
    }

    /// Verifies the chain.
    pub fn verify(&self) -> Result<(), ChainError> {
        verify_chain(&self.entries)
    }
}

/// The last entry of a chain, to be kept apart from it (another table, a
/// published digest) so that truncation is detected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainHead {
    /// Chain name (item id or "audit").
    pub chain: String,
    /// Sequence number of the last entry.
    pub seq: u64,
    /// Its hash.
    pub entry_hash: String,
}

/// The head of a non-empty chain.
pub fn head_of<T: Chained>(entries: &[T]) -> Option<ChainHead> {
    entries.last().map(|e| ChainHead {
        chain: e.chain().to_owned(),
        seq: e.seq(),
        entry_hash: e.entry_hash().to_owned(),
    })
}

/// What is wrong at the reported entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BreakKind {
    /// The stored hash does not match the fields: the entry was edited.
    Altered,
    /// A sequence number was skipped: entries were deleted.
    Missing {
        /// The number expected here.
        expected_seq: u64,
    },
    /// A number repeats or goes back: an entry was inserted or rows reordered.
    OutOfOrder {
        /// The number expected here.
        expected_seq: u64,
    },
    /// `prev_hash` is not the previous entry's hash: the previous entry was
    /// rewritten with a fresh hash, or this one was inserted.
    Unlinked,
    /// The entry belongs to another chain.
    ForeignEntry {
        /// Its chain.
        found: String,
    },
    /// The chain ends before its recorded head: trailing entries were deleted.
    Truncated {
        /// The head's sequence number.
        head_seq: u64,
    },
    /// The last entry differs from the recorded head.
    HeadMismatch,
}

impl fmt::Display for BreakKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BreakKind::Altered => f.write_str("entry altered (hash does not match its fields)"),
            BreakKind::Missing { expected_seq } => {
                write!(f, "entry {expected_seq} missing (deleted)")
            }
            BreakKind::OutOfOrder { expected_seq } => write!(
                f,
                "expected entry {expected_seq}: sequence repeats or goes back (inserted or reordered)"
            ),
            BreakKind::Unlinked => f.write_str(
                "does not follow the previous entry (previous rewritten, or this one inserted)",
            ),
            BreakKind::ForeignEntry { found } => write!(f, "entry belongs to chain {found}"),
            BreakKind::Truncated { head_seq } => {
                write!(f, "chain ends before its recorded head (entry {head_seq}): entries deleted")
            }
            BreakKind::HeadMismatch => f.write_str("last entry differs from the recorded head"),
        }
    }
}

/// A broken chain: which chain, where, and how.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("chain {chain} broken at position {position} (seq {seq:?}): {kind}")]
pub struct ChainError {
    /// The chain (evidence item id, or "audit").
    pub chain: String,
    /// Index of the first bad entry in the slice given.
    pub position: usize,
    /// Its stored sequence number, if there is an entry there.
    pub seq: Option<u64>,
    /// What is wrong.
    pub kind: BreakKind,
}

/// Verifies one chain, given in order; reports the first bad entry.
/// An empty slice is a valid (empty) chain.
pub fn verify_chain<T: Chained>(entries: &[T]) -> Result<(), ChainError> {
    let Some(first) = entries.first() else {
        return Ok(());
    };
    let chain = first.chain().to_owned();
    let seqs: HashSet<u64> = entries.iter().map(|e| e.seq()).collect();
    let mut prev = GENESIS;
    for (i, e) in entries.iter().enumerate() {
        let err = |kind| ChainError {
            chain: chain.clone(),
            position: i,
            seq: Some(e.seq()),
            kind,
        };
        if e.chain() != chain {
            return Err(err(BreakKind::ForeignEntry {
                found: e.chain().to_owned(),
            }));
        }
        if e.compute_hash() != e.entry_hash() {
            return Err(err(BreakKind::Altered));
        }
        let expected = i as u64;
        if e.seq() != expected {
            return Err(err(if e.seq() > expected && !seqs.contains(&expected) {
                BreakKind::Missing {
                    expected_seq: expected,
                }
            } else {
                BreakKind::OutOfOrder {
                    expected_seq: expected,
                }
            }));
        }
        if e.prev_hash() != prev {
            return Err(err(BreakKind::Unlinked));
        }
        prev = e.entry_hash();
    }
    Ok(())
}

/// [`verify_chain`], then checks that the chain ends exactly at `head`.
pub fn verify_chain_with_head<T: Chained>(
    entries: &[T],
    head: &ChainHead,
) -> Result<(), ChainError> {
    verify_chain(entries)?;
    let last = entries.last();
    match last {
        Some(e)
            if e.seq() == head.seq
                && e.entry_hash() == head.entry_hash
                && e.chain() == head.chain =>
        {
            Ok(())
        }
        Some(e) if e.seq() < head.seq => Err(ChainError {
            chain: head.chain.clone(),
            position: entries.len(),
            seq: None,
            kind: BreakKind::Truncated { head_seq: head.seq },
        }),
        None => Err(ChainError {
            chain: head.chain.clone(),
            position: 0,
            seq: None,
            kind: BreakKind::Truncated { head_seq: head.seq },
        }),
        Some(e) => Err(ChainError {
            chain: head.chain.clone(),
            position: entries.len() - 1,
            seq: Some(e.seq()),
            kind: BreakKind::HeadMismatch,
        }),
    }
}

/// Verifies the custody chains of many items at once. Events are grouped by
/// item (keeping their order); returns every broken chain, each naming its
/// item. `heads`, if given, are checked too (an item with a head but no
/// events is reported as truncated).
pub fn verify_custody(events: &[CustodyEvent], heads: &[ChainHead]) -> Result<(), Vec<ChainError>> {
    let mut by_item: BTreeMap<&str, Vec<CustodyEvent>> = BTreeMap::new();
    for e in events {
        by_item.entry(e.item.as_str()).or_default().push(e.clone());
    }
    let heads: BTreeMap<&str, &ChainHead> = heads.iter().map(|h| (h.chain.as_str(), h)).collect();
    let mut errors = Vec::new();
    for (item, chain) in &by_item {
        let result = match heads.get(item) {
            Some(h) => verify_chain_with_head(chain, h),
            None => verify_chain(chain),
        };
        if let Err(e) = result {
            errors.push(e);
        }
    }
    for (item, head) in &heads {
        if !by_item.contains_key(item) {
            if let Err(e) = verify_chain_with_head::<CustodyEvent>(&[], head) {
                errors.push(e);
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}
