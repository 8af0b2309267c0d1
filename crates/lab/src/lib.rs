//! # canary-lab: a censorship lab on loopback
//!
//! Canary's verdicts end up in court files, so every way a censor interferes
//! must be reproduced with real sockets inside `cargo test`, without root and
//! without any network but loopback. This crate starts such a world in-process:
//!
//! * **sites**: HTTP/1.1 and HTTPS (h2 and http/1.1) servers with certificates
//!   from a lab CA generated at start; pages that differ in title, length and
//!   headers; redirect chains; large bodies; a slow site;
//! * **resolvers**: an honest control resolver and an "ISP resolver" (UDP and
//!   TCP) that tampers per name: NXDOMAIN, REFUSED, SERVFAIL, silence, a
//!   blockpage address, a bogon, and on-path injection (forged answer first,
//!   true answer shortly after);
//! * **a censor** acting only on the censored vantage: SYN blackhole, reset on
//!   connect, reset or silence after a ClientHello with a given SNI, reset after
//!   a request with a given Host, a 200 blockpage or a 302 to one, TLS
//!   interception (untrusted CA, or trusted CA with another key), throttling;
//!   and a site whose own server answers 403 to the censored vantage only.
//!
//! ## Two vantages on one loopback
//!
//! Clients choose their vantage by the source address they bind:
//! [`CENSORED_SOURCE`] (127.0.0.2) for the probe, [`CONTROL_SOURCE`]
//! (127.0.0.3, or any other address) for the test helper. Every lab server
//! looks at the peer address it sees in `accept()`/`recv_from()` and lets the
//! censor act only on the censored one. Sites live on 127.1.1.N, one address
//! per scenario, with an OS-chosen port carried in the scenario URL
//! (`http://dns-nxdomain.canary-lab.test:41234/`). Names resolve through the
//! lab's resolvers only.
//!
//! ## The scenario table
//!
//! [`SCENARIOS`] lists every row with the verdict an analysis must reach
//! (OONI's `blocking`/`accessible` and Canary's outcome/layer/kind).
//! [`Lab::scenarios`] gives the same rows with the URLs of a running lab.
//!
//! ## Example
//!
//! ```
//! use canary_lab::{Lab, ExpectedBlocking};
//!
//! let lab = Lab::start().expect("lab starts");
//! let row = lab.scenario("dns_nxdomain").unwrap();
//! assert!(row.url.starts_with("http://dns-nxdomain.canary-lab.test:"));
//! assert_eq!(row.expect.blocking, ExpectedBlocking::Dns);
//! // Give these to the probe (censored vantage) and the helper (control):
//! let _resolver = lab.isp_resolver_addr();     // probe --resolver
//! let _control = lab.control_resolver_addr();  // helper --resolver
//! let _ca = lab.ca_pem_path();                 // --ca-file
//! let _bind = lab.censored_source();           // probe --bind 127.0.0.2
//! let _routable = lab.routable_cidr();         // --routable 127.1.0.0/16
//! drop(lab); // every server stops, every socket closes
//! ```
//!
//! ## Social media and messaging rows
//!
//! [`SOCIAL_SCENARIOS`] adds rows for the `facebook_messenger`, `whatsapp`,
//! `telegram` and `signal` experiments (service reachable, DNS tampered,
//! TCP blocked, TLS reset on SNI, one endpoint of several blocked) and for
//! the restricted-page check (the platform serves its legal-restriction
//! notice to the censored vantage only; or the ISP resets the page). Each
//! row's stand-in hosts come with an endpoint override file
//! ([`SocialScenario::endpoints_path`], `canary_social::Endpoints` JSON);
//! [`Lab::asn_db_path`] maps Facebook's stand-ins to AS32934 and
//! [`Lab::accounts_csv_path`] lists the account rows. See [`social`].
//!
//! ## Kernel-level variants
//!
//! With root, [`netns`] runs some scenarios with netfilter as the censor
//! inside a private network namespace, including a reset in answer to the
//! SYN (connection refused for the censored vantage only).
//!
//! ## Testing a CLI as a child process
//!
//! Every lab server is a real socket, so a child process can use the lab:
//! start it in the test, pass `lab.isp_resolver_addr()`,
//! `lab.ca_pem_path()`, `lab.censored_source()` and `lab.routable_cidr()`
//! to the probe's command line (the control resolver and
//! `lab.control_source()` to the helper; `lab.fingerprints_path()` to the
//! analysis, so that the lab's blockpage address is a known one), measure `lab.scenario(..).url`,
//! and compare the result with the row's `expect`. [`Lab::summary_json`]
//! gives the same facts as JSON, and the `canary-lab` binary runs a lab
//! standalone (`cargo run -p canary-lab`) until its standard input closes.
#![deny(missing_docs)]

mod dns;
mod error;
mod lab;
mod net;
pub mod netns;
mod pki;
pub mod scenario;
mod site;
pub mod social;
mod vantage;

pub use error::LabError;
pub use lab::{Lab, LabConfig};
pub use scenario::{
    CensorAction, Expected, ExpectedBlocking, Kind, Layer, Outcome, Scenario, ScenarioSpec, Scheme,
    ServerBehaviour, SCENARIOS,
};
pub use social::{
    SocialCensor, SocialExpected, SocialExperiment, SocialHost, SocialScenario, SocialSpec,
    SOCIAL_SCENARIOS,
};
pub use vantage::{
    Vantage, BLOCKPAGE_HOST, BLOCKPAGE_IP, BLOCKPAGE_MARKER, BOGON_ANSWER, CENSORED_SOURCE,
    CONTROL_RESOLVER_IP, CONTROL_SOURCE, INJECTED_ANSWER, ISP_RESOLVER_IP, LAB_DOMAIN,
    ROUTABLE_CIDR,
};
