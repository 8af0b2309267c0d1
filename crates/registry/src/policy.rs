//! Access control as pure functions of a [`Principal`] and a record's
//! [`RecordMeta`]. No I/O, no state: the web layer calls these for every
//! request and every field.
//!
//! | who                         | private | coalition | published (status published) | sensitive fields |
//! |-----------------------------|---------|-----------|------------------------------|------------------|
//! | anonymous                   | –       | –         | read                         | never            |
//! | viewer, other organisation  | –       | read      | read                         | never            |
//! | viewer, own organisation    | read    | read      | read                         | never            |
//! | analyst, own organisation   | write¹  | write¹    | write¹                       | read             |
//! | admin, own organisation     | manage  | manage    | manage                       | read             |
//!
//! ¹ analysts edit drafts and records in review; verified and published
//! records are edited by admins. Nobody outside an organisation ever reads
//! its private records or any of its sensitive fields, published or not.
//!
//! ## Custody is the owning organisation's
//!
//! Who collected a piece of evidence, where from, and who handled it since
//! says who is documenting what: for the documenters that is itself
//! sensitive (see the threat model). So an evidence item's custody chain
//! (every event's actor and details) and its acquisition details
//! (`acquired_by`, `acquired_from`) are read only inside the owning
//! organisation, whatever the role ([`can_read_custody`]). Everyone else
//! who may read the item gets it through [`redact_acquisition`] and, in
//! place of the events, the chain's [`crate::chain::ChainHead`] (its last
//! sequence number, so its length, and its last hash) in
//! `Dataset::custody_heads`: with the item's SHA-256 that is what they need
//! to check integrity (the file is the one described; the chain the owner
//! shows later is the one anchored now) without learning who handled it.
//!
//! [`crate::Dataset::view_for`] applies this, so pages, the API and exports
//! all follow. The owner's own view and export keep every event: that is
//! what `Dataset::validate` and the export → import round trip need to
//! re-verify each chain from its first event (a head alone cannot be
//! re-verified, only compared). An outsider's view still validates (each
//! head must name a visible evidence item) but carries no chain to import.

use serde::{Deserialize, Serialize};

use crate::meta::RecordMeta;
use crate::vocab::{Role, Status, Visibility};

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Principal {
    /// A logged-in member of a coalition organisation.
    User {
        /// User id.
        user_id: String,
        /// Their organisation (`org_…`).
        org_id: String,
        /// Their role in it.
        role: Role,
    },
    /// The public.
    Anonymous,
}

impl Principal {
    /// A user principal.
    pub fn user(user_id: impl Into<String>, org_id: impl Into<String>, role: Role) -> Self {
        Principal::User {
            user_id: user_id.into(),
            org_id: org_id.into(),
            role,
        }
    }

    /// The user id, if logged in.
    pub fn user_id(&self) -> Option<&str> {
        match self {
            Principal::User { user_id, .. } => Some(user_id),
            Principal::Anonymous => None,
        }
    }

    /// Short description for error messages and audit entries.
    pub fn describe(&self) -> String {
        match self {
            Principal::User {
                user_id,
                org_id,
                role,
            } => format!("{role} {user_id} of {org_id}"),
            Principal::Anonymous => "anonymous".into(),
        }
    }

    /// The role in `org`, if the principal belongs to it.
    pub fn role_in(&self, org: &str) -> Option<Role> {
        match self {
            Principal::User { org_id, role, .. } if org_id == org => Some(*role),
            _ => None,
        }
    }
}

/// May `p` read the record (its non-sensitive fields)?
pub fn can_read(p: &Principal, meta: &RecordMeta) -> bool {
    match p {
        Principal::Anonymous => meta.is_public(),
        Principal::User { org_id, .. } if *org_id == meta.org => true,
        Principal::User { .. } => meta.visibility != Visibility::Private,
    }
}

/// May `p` edit the record's content?
pub fn can_write(p: &Principal, meta: &RecordMeta) -> bool {
    match p.role_in(&meta.org) {
        Some(Role::Admin) => true,
        Some(Role::Analyst) => matches!(meta.status, Status::Draft | Status::InReview),
        _ => false,
    }
}

/// May `p` manage the record (visibility, verification, publication, deletion)?
pub fn can_manage(p: &Principal, meta: &RecordMeta) -> bool {
    p.role_in(&meta.org) == Some(Role::Admin)
}

/// May `p` read the record's sensitive fields (identities, contacts, exact places)?
pub fn can_read_sensitive(p: &Principal, meta: &RecordMeta) -> bool {
    matches!(p.role_in(&meta.org), Some(Role::Analyst | Role::Admin))
}

/// May `p` read an evidence item's custody chain and acquisition details
/// (who collected it, where from, who handled it)? Only members of the
/// owning organisation, any role (see the module docs).
pub fn can_read_custody(p: &Principal, meta: &RecordMeta) -> bool {
    p.role_in(&meta.org).is_some()
}

/// Blanks what an evidence item says about its collection for readers
/// who may not see its custody ([`can_read_custody`]): `acquired_by`
/// becomes [`REDACTED_USER`] and `acquired_from` `None`. The SHA-256,
/// size, media type, kind, time and method stay (integrity and context).
pub fn redact_acquisition(item: &mut crate::entities::EvidenceItem) {
    item.acquired_by = REDACTED_USER.into();
    item.acquired_from = None;
}

/// May `p` create records owned by `org`?
pub fn can_create(p: &Principal, org: &str) -> bool {
    matches!(p.role_in(org), Some(Role::Analyst | Role::Admin))
}

/// May `p` move the record to `to`? Analysts submit for review and take
/// back to draft; only admins verify, publish, withdraw and reopen.
/// (The move must also be in the workflow graph, see [`Status::can_move_to`].)
pub fn can_transition(p: &Principal, meta: &RecordMeta, to: Status) -> bool {
    match (meta.status, to) {
        (Status::Draft, Status::InReview) | (Status::InReview, Status::Draft) => {
            matches!(p.role_in(&meta.org), Some(Role::Analyst | Role::Admin))
        }
        _ => can_manage(p, meta),
    }
}

/// Placeholder that replaces user ids in histories shown outside the owning
/// organisation (documenters are at risk too).
pub const REDACTED_USER: &str = "redacted";

/// A copy of `record` fit for `p`: sensitive fields become
/// [`crate::SensitiveField::Redacted`] unless `p` may read them, and
/// outside the owning organisation the user ids in the version and status
/// histories are replaced by [`REDACTED_USER`].
///
/// Whether `p` may see the record at all is [`can_read`]'s question; this
/// function answers "which parts".
pub fn redact<R: crate::Record + Clone>(record: &R, p: &Principal) -> R {
    let mut out = record.clone();
    if !can_read_sensitive(p, record.meta()) {
        out.redact_sensitive();
    }
    if p.role_in(&record.meta().org).is_none() {
        let meta = out.meta_mut();
        for v in &mut meta.versions {
            v.by = REDACTED_USER.into();
        }
        for s in &mut meta.status_history {
            s.by = REDACTED_USER.into();
        }
    }
    out
}
