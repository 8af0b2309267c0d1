//! # canary-registry: the documentation registry's domain layer
//!
//! Packets are half the story. This crate models what is done to people
//! and outlets — arrests and prosecutions over posts, takedowns, outlet
//! closures, blocking orders, surveillance — and which law and article was
//! used each time, following HURIDOCS' Events Standard Formats ("who did
//! what to whom"), extended with laws, evidence custody and UN
//! recommendations. It holds no database: the store crate persists these
//! types.
//!
//! | module | what |
//! |---|---|
//! | [`entities`] | [`Incident`] → [`Act`] (one act, one victim; typed [`ActExtension`]s: court case, blocking order, removal request) → [`Involvement`] of [`Actor`]s; [`Law`] → [`Provision`] ← [`ProvisionInvocation`]; [`Source`] + [`Citation`]; [`EvidenceItem`]; [`Recommendation`], [`Benchmark`], [`Assessment`] |
//! | [`vocab`] | controlled vocabularies with English and Khmer labels |
//! | [`meta`] | [`RecordMeta`]: ids, owner organisation, [`Visibility`], [`Status`] workflow state machine, [`Version`]s |
//! | [`policy`] | [`Principal`], [`can_read`], [`can_write`], [`can_read_sensitive`], [`redact`] |
//! | [`crypto`] | [`FieldKey`], [`KeyRing`], [`SensitiveField`]: XChaCha20-Poly1305 bound to entity/record/field; [`reveal`]: open for an allowed reader and audit the read |
//! | [`chain`] | hash-chained [`CustodyEvent`]s and [`AuditEntry`]s, [`verify_chain`] |
//! | [`files`] | content-addressed evidence [`ObjectStore`] (`objects/ab/cdef…`), key files |
//! | [`dataset`] | [`Dataset`]: validation, per-principal views |
//! | [`io`] | JSON and CSV import/export, audited [`export`] |
//! | [`seed`] | [`seed::kh`]: the Cambodia dataset |
//!
//! ## Example: who sees what
//!
//! ```
//! use canary_registry::*;
//!
//! // The seed dataset: laws, incidents and sources from public reporting.
//! let ds = seed::kh();
//! ds.validate()?;
//!
//! // An actor with a sensitive identity, owned by an NGO.
//! let now = time::macros::datetime!(2024-05-01 09:00 UTC);
//! let analyst = Principal::user("u_dara", "org_ngo", Role::Analyst);
//! let mut actor = Actor {
//!     meta: RecordMeta::new(EntityType::Actor, "actr_witness_1", &analyst, now)?,
//!     kind: ActorKind::Person,
//!     name: "a witness in Siem Reap".into(),
//!     name_km: None,
//!     description: None,
//!     characteristics: vec![],
//!     asn: None,
//!     identity: Some(SensitiveField::clear("full name")),
//!     contact: None,
//! };
//! actor.meta.visibility = Visibility::Coalition;
//!
//! // Encrypted at rest under a key kept outside the database.
//! let ring = KeyRing::new(FieldKey::generate(1)?);
//! seal_record(&mut actor, &ring)?;
//! assert_eq!(actor.identity.as_ref().map(|f| f.state()), Some("sealed"));
//!
//! // Another organisation's viewer sees the record, but not the identity.
//! let other = Principal::user("u_x", "org_other", Role::Admin);
//! assert!(can_read(&other, &actor.meta));
//! assert!(!can_read_sensitive(&other, &actor.meta));
//! assert_eq!(redact(&actor, &other).identity, Some(SensitiveField::Redacted));
//!
//! // The owning analyst opens it.
//! open_record(&mut actor, &ring)?;
//! assert_eq!(actor.identity.as_ref().and_then(|f| f.as_clear()), Some("full name"));
//! # Ok::<(), canary_registry::Error>(())
//! ```
//!
//! ## Example: custody chain
//!
//! ```
//! use canary_registry::*;
//! let t = time::macros::datetime!(2024-05-01 09:00 UTC);
//! let e0 = CustodyEvent::first("ev_1", CustodyAction::Acquired, "u_dara", t, "screenshot");
//! let e1 = e0.next(CustodyAction::Viewed, "u_sok", t, "");
//! let mut chain = vec![e0, e1];
//! assert!(verify_chain(&chain).is_ok());
//! chain[0].actor = "someone else".into(); // edited straight in the database
//! let err = verify_chain(&chain).unwrap_err();
//! assert_eq!((err.chain.as_str(), err.position), ("ev_1", 0));
//! ```

#![deny(missing_docs)]

pub mod chain;
pub mod crypto;
pub mod dataset;
pub mod dates;
pub mod entities;
mod error;
pub mod evidence;
pub mod files;
pub mod io;
pub mod meta;
pub mod policy;
pub mod seed;
pub mod vocab;

pub use chain::{
    head_of, verify_chain, verify_chain_with_head, verify_custody, AuditEntry, AuditLog, BreakKind,
    ChainError, ChainHead, Chained, CustodyEvent,
};
pub use crypto::{
    open_record, reveal, seal_record, FieldContext, FieldKey, KeyRing, SealedText, SensitiveField,
};
pub use dataset::Dataset;
pub use dates::FuzzyDate;
pub use entities::*;
pub use error::{Error, Result};
pub use files::{sha256_hex, ObjectStore};
pub use io::{export, Export, ExportFormat};
pub use meta::{new_id, RecordMeta, StatusChange, Version};
pub use policy::{
    can_manage, can_read, can_read_custody, can_read_sensitive, can_transition, can_write, redact,
    redact_acquisition, Principal,
};
pub use vocab::*;
