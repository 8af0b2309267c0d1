//! Record metadata shared by every top-level record: stable id, owning
//! organisation, visibility, workflow status (a state machine), versions.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::Error;
use crate::policy::{self, Principal};
use crate::vocab::{EntityType, Status, Visibility};

/// Longest id accepted (prefix included).
pub const MAX_ID_LEN: usize = 80;

/// A fresh random id for an entity type: its prefix and 32 hex digits
/// (128 random bits), e.g. `inc_3f9c…`.
pub fn new_id(entity: EntityType) -> Result<String, Error> {
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes).map_err(|e| Error::Random(e.to_string()))?;
    Ok(format!("{}{}", entity.id_prefix(), hex::encode(bytes)))
}

/// Checks that `id` has `prefix` and then 1.. characters of `[a-z0-9_-]`,
/// at most [`MAX_ID_LEN`] in all.
pub fn check_id(prefix: &str, id: &str) -> Result<(), Error> {
    let ok = id.len() <= MAX_ID_LEN
        && id.len() > prefix.len()
        && id.starts_with(prefix)
        && id[prefix.len()..]
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "id",
            format!("{id:?} is not {prefix}<a-z0-9_-> (at most {MAX_ID_LEN} characters)"),
        ))
    }
}

/// One saved version of a record: who changed it, when and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    /// 1 for the creation, then +1 per change.
    pub n: u32,
    /// User id of the author of the change.
    pub by: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// What changed, in a sentence.
    pub change_summary: String,
}

/// One workflow move, attributed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    /// Status before.
    pub from: Status,
    /// Status after.
    pub to: Status,
    /// User id of who moved it.
    pub by: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

impl Status {
    /// The workflow graph:
    ///
    /// ```text
    /// draft ⇄ in_review → verified ⇄ published
    ///              ↑__________|
    /// ```
    ///
    /// (`verified → in_review` reopens a record; `published → verified`
    /// withdraws it from public view.) Staying in place is not a move.
    pub fn can_move_to(self, to: Status) -> bool {
        use Status::*;
        matches!(
            (self, to),
            (Draft, InReview)
                | (InReview, Draft)
                | (InReview, Verified)
                | (Verified, InReview)
                | (Verified, Published)
                | (Published, Verified)
        )
    }
}

/// Metadata carried by every top-level record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordMeta {
    /// Stable id with the entity's prefix (`inc_…`, `actr_…`).
    pub id: String,
    /// Owning organisation id (`org_…`).
    pub org: String,
    /// Who besides the owner may read it.
    pub visibility: Visibility,
    /// Workflow status.
    pub status: Status,
    /// A confidential record can never be made public.
    pub confidential: bool,
    /// Version history, oldest first; never empty for a record made by [`RecordMeta::new`].
    pub versions: Vec<Version>,
    /// Workflow history, oldest first.
    pub status_history: Vec<StatusChange>,
}

impl RecordMeta {
    /// Metadata of a new record: private, draft, version 1, owned by the
    /// creator's organisation. The creator must be an analyst or admin.
    pub fn new(
        entity: EntityType,
        id: impl Into<String>,
        by: &Principal,
        at: OffsetDateTime,
    ) -> Result<Self, Error> {
        let id = id.into();
        check_id(entity.id_prefix(), &id)?;
        let (user, org) = match by {
            Principal::User {
                user_id, org_id, ..
            } if policy::can_create(by, org_id) => (user_id.clone(), org_id.clone()),
            _ => {
                return Err(Error::Forbidden(format!(
                    "{} may not create records",
                    by.describe()
                )))
            }
        };
        Ok(RecordMeta {
            id,
            org,
            visibility: Visibility::Private,
            status: Status::Draft,
            confidential: false,
            versions: vec![Version {
                n: 1,
                by: user,
                at,
                change_summary: "created".into(),
            }],
            status_history: Vec::new(),
        })
    }

    /// The latest version number (0 if there is no history).
    pub fn version(&self) -> u32 {
        self.versions.last().map_or(0, |v| v.n)
    }

    fn push_version(&mut self, by: &str, at: OffsetDateTime, summary: String) {
        let n = self.version() + 1;
        self.versions.push(Version {
            n,
            by: by.to_owned(),
            at,
            change_summary: summary,
        });
    }

    /// Records an edit of the record's content by `by` (who must be allowed
    /// to write it, see [`policy::can_write`]).
    pub fn record_edit(
        &mut self,
        by: &Principal,
        at: OffsetDateTime,
        change_summary: impl Into<String>,
    ) -> Result<(), Error> {
        if !policy::can_write(by, self) {
            return Err(Error::Forbidden(format!(
                "{} may not edit {}",
                by.describe(),
                self.id
            )));
        }
        self.push_version(by.user_id().unwrap_or_default(), at, change_summary.into());
        Ok(())
    }

    /// Moves the record along the workflow. Rejects moves not in the graph
    /// of [`Status::can_move_to`], moves the principal may not make
    /// ([`policy::can_transition`]) and publishing a confidential record.
    /// Records the move in `status_history` and as a new version.
    pub fn transition(
        &mut self,
        to: Status,
        by: &Principal,
        at: OffsetDateTime,
    ) -> Result<(), Error> {
        if !self.status.can_move_to(to) {
            return Err(Error::IllegalTransition {
                record: self.id.clone(),
                from: self.status.as_str(),
                to: to.as_str(),
            });
        }
        if !policy::can_transition(by, self, to) {
            return Err(Error::Forbidden(format!(
                "{} may not move {} from {} to {}",
                by.describe(),
                self.id,
                self.status,
                to
            )));
        }
        if to == Status::Published && self.confidential {
            return Err(Error::Forbidden(format!(
                "{} is confidential and cannot be published",
                self.id
            )));
        }
        let user = by.user_id().unwrap_or_default().to_owned();
        self.status_history.push(StatusChange {
            from: self.status,
            to,
            by: user.clone(),
            at,
        });
        self.push_version(&user, at, format!("status {} -> {}", self.status, to));
        self.status = to;
        Ok(())
    }

    /// Changes who may read the record. Only an admin of the owning
    /// organisation may; a confidential record cannot become published.
    pub fn set_visibility(
        &mut self,
        visibility: Visibility,
        by: &Principal,
        at: OffsetDateTime,
    ) -> Result<(), Error> {
        if !policy::can_manage(by, self) {
            return Err(Error::Forbidden(format!(
                "{} may not change the visibility of {}",
                by.describe(),
                self.id
            )));
        }
        if visibility == Visibility::Published && self.confidential {
            return Err(Error::Forbidden(format!(
                "{} is confidential and cannot be published",
                self.id
            )));
        }
        if visibility != self.visibility {
            let summary = format!("visibility {} -> {}", self.visibility, visibility);
            self.visibility = visibility;
            self.push_version(by.user_id().unwrap_or_default(), at, summary);
        }
        Ok(())
    }

    /// Whether an anonymous visitor may see the record: published
    /// visibility *and* published status.
    pub fn is_public(&self) -> bool {
        self.visibility == Visibility::Published && self.status == Status::Published
    }
}
