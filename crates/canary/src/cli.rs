//! The command line: every subcommand and flag, with the help a newcomer reads.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Canary measures internet censorship from volunteers' machines, documents
/// what is done to people online, and reports it — in English and Khmer.
///
/// Measurements use OONI's data format, so Canary reads OONI's published data
/// and OONI's tools can read Canary's.
#[derive(Debug, Parser)]
#[command(
    name = "canary",
    version,
    about,
    long_about,
    after_help = "Start here:\n  canary inspect examples/measurements.jsonl   read and check measurements\n  canary probe --helper URL https://example.org/   measure a website\n\nRun `canary help <command>` for the details of one command."
)]
pub struct Cli {
    /// Say more about what is happening (repeat for more detail). Logs go to
    /// standard error; RUST_LOG overrides this.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read OONI measurement files and print a short summary of each
    /// measurement (test, URL, country and network, time, verdict).
    ///
    /// Accepts JSON Lines (one measurement per line, as OONI publishes them),
    /// single JSON documents and arrays, OONI explorer API responses and JSONC,
    /// plain or gzip-compressed (.gz); directories are read recursively. Every
    /// measurement is parsed and checked against OONI's data format. A bad
    /// entry (truncated line, wrong type, garbage) is reported with its file
    /// and line and does not stop the others.
    ///
    /// Exit status: 0 when every entry was readable, 1 when at least one entry
    /// was invalid, 2 when a file could not be opened.
    #[command(
        after_help = "Examples:\n  canary inspect examples/measurements.jsonl\n  canary inspect --json 2024-02-14.jsonl.gz | jq .blocking\n  canary inspect ~/ooni-data/"
    )]
    Inspect(InspectArgs),

    /// Run the explorer, the JSON API and the collector probes upload to.
    ///
    /// With no arguments it listens on 127.0.0.1:8080 and keeps its data in
    /// canary.db in the working directory. `--demo` first loads a demo
    /// dataset (measurements, and the Cambodia registry as `canary seed kh`
    /// does) so there is something to see at once. With --key-file (or
    /// CANARY_FIELD_KEY) the registry's sensitive fields open for the users
    /// allowed to read them.
    #[command(
        after_help = "Examples:\n  canary serve --demo                      then open http://127.0.0.1:8080/country/KH\n  canary serve --listen 0.0.0.0:8080 --database postgres://canary@db/canary --cookie-secure --key-file /etc/canary/field.key"
    )]
    Serve(ServeArgs),

    /// Administration: users of the web interface.
    #[command(subcommand)]
    Admin(AdminCommand),

    /// Write a report from the data: a country monitoring report or a UPR
    /// stakeholder-submission draft, in English or Khmer, as HTML or PDF.
    ///
    /// Website figures come from the database (see `canary import` and
    /// `canary serve`), incidents, laws and UN recommendations from the
    /// registry kept in the same database (`canary seed kh` loads the
    /// Cambodia dataset; --registry seed|FILE.json reads another). Every figure links to the query that produced it; only
    /// published records enter a public report.
    #[command(
        after_help = "Examples:\n  canary report --country KH --from 2023-01-01 --to 2023-12-31 --output kh-2023.html\n  canary report --country KH --from 2023-01-01 --to 2023-12-31 --lang km --format pdf --output kh-2023-km.pdf\n  canary report --country KH --from 2019-01-01 --to 2024-12-31 --template upr --word-limit 5630 --output upr.html"
    )]
    Report(ReportArgs),

    /// Recompute verdicts for measurements (OONI's or Canary's) from their
    /// raw records, and summarise them.
    ///
    /// For each web_connectivity measurement prints the URL, OONI's
    /// `blocking` recomputed (and the value the probe recorded), Canary's
    /// finer label — outcome, layer, kind, a confirming blockpage
    /// fingerprint — and one sentence explaining it; then a table of
    /// verdicts and how often the recomputed `blocking` agrees with the
    /// recorded one. Reads the same files as `inspect`; uses every core.
    #[command(
        after_help = "Examples:\n  canary analyse examples/measurements.jsonl\n  canary analyse --json ~/ooni-data/2024-02-14/ > verdicts.jsonl\n  canary analyse --fingerprints extra.csv --threads 1 big.jsonl.gz"
    )]
    Analyse(AnalyseArgs),

    /// Store measurements (OONI's or Canary's) in the database with their
    /// verdicts. Importing the same file twice changes nothing.
    #[command(
        after_help = "Examples:\n  canary import examples/measurements.jsonl\n  canary import --database postgres://canary@db/canary ~/ooni-data/KH/"
    )]
    Import(ImportArgs),

    /// Recompute every stored verdict with this version's rules (after an
    /// upgrade or new fingerprints) and report how many changed.
    Reanalyse(ReanalyseArgs),

    /// Measure whether websites are reachable from this network (run by a
    /// volunteer inside the country), writing one OONI web_connectivity
    /// measurement per URL.
    ///
    /// For each URL the probe resolves the name (the system resolver, a UDP
    /// resolver, DNS-over-HTTPS if asked), connects to every address, shakes
    /// hands over TLS, fetches the page following redirects, and asks a test
    /// helper outside the country to do the same; then it records everything
    /// with a verdict (blocked or not, and how). Your own IP address is never
    /// written anywhere: it is replaced by `[scrubbed]`.
    #[command(
        after_help = "Examples:\n  canary probe --helper https://helper.example.org/ https://www.cambodiadaily.com/\n  canary probe --list kh.csv --helper https://helper.example.org/ --output today.jsonl\n  canary lists update --country KH && canary probe --country KH --helper https://helper.example.org/ --output kh.jsonl\n  canary probe --country KH --output kh.jsonl --resume      # continue an interrupted run"
    )]
    Probe(Box<ProbeArgs>),

    /// Upload the measurements waiting in the queue (and any files given) to
    /// a collector.
    #[command(
        after_help = "Examples:\n  canary submit --to https://canary.example.org/\n  canary submit --to https://canary.example.org/ old-run.jsonl"
    )]
    Submit(SubmitArgs),

    /// Run a test helper: the control vantage outside the censored network
    /// that probes ask to measure the same URLs (OONI's test-helper protocol).
    ///
    /// Prints the address it listens on, then serves until stopped (Ctrl-C).
    /// It refuses to connect to private, loopback and reserved addresses
    /// unless they are declared with --routable, so it cannot be abused as a
    /// proxy into anyone's network, and it never logs who asked.
    #[command(
        after_help = "Examples:\n  canary helper --listen 0.0.0.0:8443 --tls-cert cert.pem --tls-key key.pem\n  canary helper --listen 127.0.0.1:8090 --resolver 9.9.9.9:53"
    )]
    Helper(HelperArgs),

    /// Manage the Citizen Lab test lists (the URLs probes measure).
    #[command(subcommand)]
    Lists(ListsCommand),

    /// Load a built-in registry dataset into the database (idempotent).
    ///
    /// The registry holds incidents, laws, sources, evidence and UN
    /// recommendations. Sensitive fields (a victim's real name, an exact
    /// place) are sealed with the field key before they reach the database;
    /// the key itself is never stored there.
    #[command(subcommand)]
    Seed(SeedCommand),

    /// Check the registry for tampering and damage; exit 0 when all is well,
    /// 1 when anything is broken (each problem is named), 2 on error.
    ///
    /// Checks every evidence item's custody chain and the audit log (edited,
    /// inserted, deleted or reordered entries, including deleted last
    /// entries), every record against its recorded version, that no
    /// sensitive field is stored in clear, that every reference between
    /// records resolves and, with --evidence-dir, that every evidence file
    /// still has its SHA-256. With --key-file, also that every sealed field
    /// opens with that key.
    #[command(
        after_help = "Examples:\n  canary verify\n  canary verify --evidence-dir canary-evidence --json > heads-2026-11-29.json\n  canary verify --anchors heads-2026-11-29.json"
    )]
    Verify(VerifyArgs),

    /// Export or import the registry (JSON or CSV).
    #[command(subcommand)]
    Registry(RegistryCommand),
}

/// The field key that seals and opens the registry's sensitive fields:
/// `--key-file FILE`, or the environment variable `CANARY_FIELD_KEY` (the
/// key text itself). Create one with `canary admin gen-key`.
#[derive(Debug, Clone, clap::Args)]
pub struct KeyArgs {
    /// The field key file (made by `canary admin gen-key`). Default: the
    /// key in the environment variable CANARY_FIELD_KEY, if set.
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<PathBuf>,

    /// An older key, still able to open fields sealed before a key
    /// rotation (repeatable; new values are sealed with --key-file).
    #[arg(long, value_name = "FILE", requires = "key_file")]
    pub old_key_file: Vec<PathBuf>,
}

/// `canary seed …`
#[derive(Debug, Subcommand)]
pub enum SeedCommand {
    /// The Cambodia dataset: laws and provisions restricting digital rights,
    /// incidents (prosecutions over posts, outlet closures, blocking orders),
    /// their sources and the Special Rapporteur's benchmarks, from public
    /// reporting. One victim's name is a sensitive field: give a key to seal
    /// it, or --without-sensitive to store it redacted (lost).
    #[command(
        after_help = "Examples:\n  canary admin gen-key --output field.key && canary seed kh --key-file field.key\n  CANARY_FIELD_KEY=\"$(cat field.key)\" canary seed kh --database postgres://canary@db/canary"
    )]
    Kh(SeedArgs),
}

/// Options of `canary seed kh`.
#[derive(Debug, clap::Args)]
pub struct SeedArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,

    #[command(flatten)]
    pub key: KeyArgs,

    /// Without a key: store the sensitive fields redacted instead of
    /// refusing (their content is then lost).
    #[arg(long)]
    pub without_sensitive: bool,

    /// Print the counts as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Options of `canary verify`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,

    /// Also re-hash every evidence file kept in this folder (the one given
    /// to `canary serve --evidence-dir`).
    #[arg(long, value_name = "DIR")]
    pub evidence_dir: Option<PathBuf>,

    /// Also check that every sealed field opens with this key (nothing is
    /// printed of what they contain).
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<PathBuf>,

    /// Print the report as JSON, with every chain's head (keep it outside
    /// the database: a later run can be compared with it with --anchors).
    #[arg(long)]
    pub json: bool,

    /// The output of an earlier `canary verify --json` (or a JSON list of
    /// heads) kept outside the database: every chain must still contain
    /// the entries it recorded, unchanged. Catches chains rewritten with
    /// fresh hashes since.
    #[arg(long, value_name = "FILE")]
    pub anchors: Option<PathBuf>,
}

/// `canary registry …`
#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// Export what one web user may see (or, without --as, what the public
    /// may see: published records, sensitive fields redacted) as one JSON
    /// file or a folder of CSV files. The export is recorded in the audit
    /// log with its SHA-256.
    #[command(
        after_help = "Examples:\n  canary registry export --format json --output public.json\n  canary registry export --format csv --output kh-csv/ --as sokha\n  canary registry export --format json --output mine.json --as sokha --reveal --key-file field.key"
    )]
    Export(RegistryExportArgs),

    /// Import a registry export (a JSON file, or a folder of CSV files):
    /// validated, sensitive fields sealed with the key, all or nothing.
    /// Importing the same export twice changes nothing; newer versions of
    /// records update them.
    #[command(
        after_help = "Examples:\n  canary registry import public.json\n  canary registry import kh-csv/ --key-file field.key --by sokha"
    )]
    Import(RegistryImportArgs),

    /// Re-seal every sensitive field with a new field key (key rotation):
    /// give the new key with --key-file and the old one(s) with
    /// --old-key-file. Each record re-sealed gets a new version; all or
    /// nothing. Afterwards the old key is no longer needed.
    #[command(
        after_help = "Example:\n  canary admin gen-key --id 2 --output field-2.key\n  canary registry rekey --key-file field-2.key --old-key-file field.key"
    )]
    Rekey(RegistryRekeyArgs),
}

/// Options of `canary registry rekey`.
#[derive(Debug, clap::Args)]
pub struct RegistryRekeyArgs {
    #[command(flatten)]
    pub key: KeyArgs,

    /// Who is rotating the key (recorded in each new version).
    #[arg(long, value_name = "USER", default_value = "cli")]
    pub by: String,

    #[command(flatten)]
    pub database: DatabaseArgs,

    /// Print what was re-sealed (records, key id, database) as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Options of `canary registry export`.
#[derive(Debug, clap::Args)]
pub struct RegistryExportArgs {
    /// `json` (one file) or `csv` (one file per collection in a folder).
    #[arg(long, value_name = "FORMAT", default_value = "json")]
    pub format: String,

    /// The file (json) or folder (csv) to write; never overwritten.
    #[arg(long, short, value_name = "PATH")]
    pub output: PathBuf,

    /// Export what this web user (see `canary admin create-user`) may see,
    /// by their role and organisation. Default: the public view.
    #[arg(long = "as", value_name = "USER")]
    pub as_user: Option<String>,

    /// Open the sensitive fields this user may read (needs the key; each
    /// read is recorded in the audit log). Without it they stay sealed.
    #[arg(long, requires = "as_user")]
    pub reveal: bool,

    /// Print what was exported (rows, SHA-256, files) as JSON.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub key: KeyArgs,

    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// Options of `canary registry import`.
#[derive(Debug, clap::Args)]
pub struct RegistryImportArgs {
    /// A JSON export, or a folder of CSV files.
    #[arg(value_name = "FILE_OR_DIR")]
    pub path: PathBuf,

    #[command(flatten)]
    pub key: KeyArgs,

    /// Who is importing (recorded in the version history and audit log).
    #[arg(long, value_name = "USER", default_value = "cli")]
    pub by: String,

    #[command(flatten)]
    pub database: DatabaseArgs,

    /// Print the counts as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Options of `canary inspect`.
#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// Measurement files or directories to read.
    #[arg(required = true, value_name = "FILE_OR_DIR")]
    pub paths: Vec<PathBuf>,

    /// Print one JSON object per line (per measurement, invalid entry or
    /// skipped file) instead of the human summary.
    #[arg(long)]
    pub json: bool,

    /// Also list entries that are valid JSON but not measurements (API
    /// listings, analysis files, legacy YAML reports).
    #[arg(long)]
    pub show_skipped: bool,
}

/// Options shared by the commands that measure (probe and helper).
#[derive(Debug, clap::Args)]
pub struct NetArgs {
    /// Trust only the certificate authorities in this PEM file instead of the
    /// bundled Mozilla roots (for labs and private deployments).
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,

    /// Treat this private range as public, routable addresses (labs,
    /// intranets). Repeatable.
    #[arg(long, value_name = "CIDR")]
    pub routable: Vec<String>,

    /// Source address for every measurement socket (multi-homed hosts).
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<std::net::IpAddr>,

    /// An IP-to-ASN table in the iptoasn TSV format (range_start range_end
    /// AS_number country_code AS_description), to tell which network an
    /// address belongs to. Without it, networks are unknown (AS0).
    #[arg(long, value_name = "FILE")]
    pub asn_db: Option<PathBuf>,

    /// DNS timeout, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 4.0)]
    pub dns_timeout: f64,

    /// TCP connect timeout, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub tcp_timeout: f64,

    /// TLS handshake timeout, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub tls_timeout: f64,

    /// HTTP timeout (request to end of body), in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub http_timeout: f64,
}

/// Options of `canary probe`.
#[derive(Debug, clap::Args)]
pub struct ProbeArgs {
    /// URLs to measure.
    #[arg(value_name = "URL")]
    pub urls: Vec<String>,

    /// Measure the URLs of a Citizen Lab test-list CSV
    /// (url,category_code,category_description,date_added,source,notes).
    #[arg(long, value_name = "FILE")]
    pub list: Vec<PathBuf>,

    /// Measure the stored test lists of this country plus the global list
    /// (see `canary lists update`).
    #[arg(long, value_name = "CC")]
    pub country: Option<String>,

    /// Where `canary lists update` keeps the lists.
    #[arg(long, value_name = "DIR")]
    pub lists_dir: Option<PathBuf>,

    /// Write measurements (JSON Lines) to this file instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Continue an interrupted run: skip URLs already measured in --output
    /// and append to it.
    #[arg(long, requires = "output")]
    pub resume: bool,

    /// The test helper to ask for the control measurement (its URL).
    #[arg(long, value_name = "URL")]
    pub helper: Option<String>,

    /// Seconds to wait for the test helper.
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    pub helper_timeout: f64,

    /// A DNS resolver to ask over UDP (repeatable); the first one is the
    /// primary resolver when --no-system-resolver is given.
    #[arg(long, value_name = "IP:PORT", default_value = "8.8.8.8:53")]
    pub resolver: Vec<std::net::SocketAddr>,

    /// Do not ask the operating system's resolver.
    #[arg(long)]
    pub no_system_resolver: bool,

    /// Also resolve with DNS-over-HTTPS at this URL.
    #[arg(long, value_name = "URL")]
    pub doh: Option<String>,

    /// This network's country code, e.g. KH (default: ZZ, unknown).
    #[arg(long, value_name = "CC")]
    pub probe_cc: Option<String>,

    /// This network's AS number, e.g. AS38623 (default: AS0, unknown).
    #[arg(long, value_name = "ASN")]
    pub probe_asn: Option<String>,

    /// Extra blockpage fingerprints (OONI's CSV format) for the verdicts.
    #[arg(long, value_name = "FILE")]
    pub fingerprints: Vec<PathBuf>,

    /// What to measure: `websites` (the URLs given), `social` (the
    /// social-media URLs among them plus the facebook_messenger, whatsapp,
    /// telegram and signal experiments) or `all` (both).
    #[arg(long, value_name = "SUITE", default_value = "websites")]
    pub suite: String,

    /// Run only these messaging experiments (facebook_messenger, whatsapp,
    /// telegram, signal); repeatable. Without --suite, only them and the
    /// URLs given.
    #[arg(long, value_name = "TEST")]
    pub experiment: Vec<String>,

    /// The endpoints the messaging experiments measure, as a JSON file
    /// (default: the real services' endpoints).
    #[arg(long, value_name = "FILE")]
    pub social_endpoints: Option<PathBuf>,

    /// Check public pages, channels and accounts listed in this CSV
    /// (platform,url,owner,category): reachable, blocked by the network, or
    /// restricted by the platform in this country.
    #[arg(long, value_name = "FILE")]
    pub accounts: Option<PathBuf>,

    /// Extra platform-restriction fingerprints (JSON) for --accounts.
    #[arg(long, value_name = "FILE")]
    pub restriction_fingerprints: Vec<PathBuf>,

    /// Upload every measurement to this collector (`canary serve`) as it is
    /// made; while it is unreachable, measurements wait in the queue on disk.
    #[arg(long, value_name = "URL")]
    pub submit: Option<String>,

    /// The queue folder for --submit (default: ~/.local/share/canary/queue).
    #[arg(long, value_name = "DIR")]
    pub queue: Option<PathBuf>,

    /// URLs measured at the same time.
    #[arg(long, value_name = "N", default_value_t = 32)]
    pub concurrency: usize,

    /// Largest response body kept per request, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 512 * 1024)]
    pub body_cap: usize,

    #[command(flatten)]
    pub net: NetArgs,
}

/// Options of `canary helper`.
#[derive(Debug, clap::Args)]
pub struct HelperArgs {
    /// Address and port to listen on (port 0 picks a free one).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8090")]
    pub listen: std::net::SocketAddr,

    /// The DNS resolver the helper asks, over UDP (default 8.8.8.8:53).
    #[arg(long, value_name = "IP:PORT", conflicts_with = "doh")]
    pub resolver: Option<std::net::SocketAddr>,

    /// Resolve with DNS-over-HTTPS at this URL instead.
    #[arg(long, value_name = "URL")]
    pub doh: Option<String>,

    /// Serve HTTPS with this certificate chain (PEM); needs --tls-key.
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// The private key (PEM) of --tls-cert.
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Requests measured at once; more get "503 busy" (probes retry).
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub max_in_flight: usize,

    #[command(flatten)]
    pub net: NetArgs,
}

/// `canary lists …`
#[derive(Debug, Subcommand)]
pub enum ListsCommand {
    /// Download the Citizen Lab test lists (the global list plus the given
    /// countries') and keep them for `canary probe --country`.
    #[command(after_help = "Example:\n  canary lists update --country KH --country TH")]
    Update(ListsUpdateArgs),
    /// Show the stored lists: URLs per category.
    Show(ListsShowArgs),
}

/// Options of `canary lists update`.
#[derive(Debug, clap::Args)]
pub struct ListsUpdateArgs {
    /// Country lists to fetch (the global list is always fetched).
    #[arg(long, value_name = "CC")]
    pub country: Vec<String>,

    /// Where to keep the lists.
    #[arg(long, value_name = "DIR")]
    pub lists_dir: Option<PathBuf>,

    /// Where the lists are published (a folder URL holding <cc>.csv).
    #[arg(long, value_name = "URL", default_value = canary_lists::FetchConfig::DEFAULT_BASE_URL)]
    pub base_url: String,

    /// Trust only these certificate authorities (PEM) for the download.
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,

    /// Print a JSON summary instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Options of `canary lists show`.
#[derive(Debug, clap::Args)]
pub struct ListsShowArgs {
    /// The country whose list (plus the global list) to show.
    #[arg(long, value_name = "CC")]
    pub country: String,

    /// Where the lists are kept.
    #[arg(long, value_name = "DIR")]
    pub lists_dir: Option<PathBuf>,

    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Options of `canary analyse`.
#[derive(Debug, clap::Args)]
pub struct AnalyseArgs {
    /// Measurement files or directories to read.
    #[arg(required = true, value_name = "FILE_OR_DIR")]
    pub paths: Vec<PathBuf>,

    /// Print one JSON object per line (the full verdict) instead of text;
    /// the summary table goes to standard error.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub verdict: VerdictArgs,

    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

/// Where the data lives: a SQLite file (created if missing) or a PostgreSQL
/// URL. The same default for every command that uses the store.
pub const DEFAULT_DATABASE: &str = "canary.db";

/// `--database`: the store a command reads and writes, the same flag with
/// the same default for every command that uses it. Open it with
/// [`DatabaseArgs::open`] or [`DatabaseArgs::with_store`] (in `cmd/database.rs`).
#[derive(Debug, Clone, clap::Args)]
pub struct DatabaseArgs {
    /// The database: a SQLite file or a postgres:// URL.
    #[arg(id = "database", long = "database", value_name = "URL", default_value = DEFAULT_DATABASE)]
    pub url: String,
}

/// Options of `canary import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// Measurement files or directories (JSON Lines, JSON, plain or .gz).
    #[arg(required = true, value_name = "FILE_OR_DIR")]
    pub paths: Vec<PathBuf>,

    #[command(flatten)]
    pub database: DatabaseArgs,

    #[command(flatten)]
    pub verdict: VerdictArgs,

    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Options of `canary reanalyse`.
#[derive(Debug, clap::Args)]
pub struct ReanalyseArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,

    #[command(flatten)]
    pub verdict: VerdictArgs,

    /// Extra platform-restriction fingerprints (JSON, as for `canary serve`)
    /// for re-judging account checks; give the same files as the server.
    #[arg(long, value_name = "FILE")]
    pub restriction_fingerprints: Vec<PathBuf>,

    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Options of `canary serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,

    #[command(flatten)]
    pub database: DatabaseArgs,

    /// Load the demo dataset first: measurements and the Cambodia registry
    /// (idempotent; without a key the registry's one sensitive field is
    /// stored redacted).
    #[arg(long)]
    pub demo: bool,

    /// Extra blockpage fingerprints (OONI's CSV format) for submissions' verdicts.
    #[arg(long, value_name = "FILE")]
    pub fingerprints: Vec<PathBuf>,

    /// Extra platform-restriction fingerprints (JSON, the probe's format),
    /// on top of Canary's, for judging submitted account checks: how a
    /// platform's "not available in your country" page looks. Repeatable.
    #[arg(long, value_name = "FILE")]
    pub restriction_fingerprints: Vec<PathBuf>,

    /// Mark cookies Secure (set this when users reach the server over HTTPS,
    /// e.g. behind a TLS proxy).
    #[arg(long)]
    pub cookie_secure: bool,

    /// The address of your reverse proxy (nginx, Caddy), e.g. 127.0.0.1/32;
    /// repeat for several. Only requests from it have their
    /// X-Forwarded-For/Forwarded headers believed (so each visitor gets its
    /// own rate limit) and its X-Forwarded-Proto: https marks cookies
    /// Secure. Without it those headers are ignored.
    #[arg(long = "trusted-proxy", value_name = "CIDR")]
    pub trusted_proxies: Vec<canary_web::proxy::Cidr>,

    // The field key opens the registry's sensitive fields for the users
    // allowed to read them; without it they stay sealed and every page
    // shows them redacted. (clap shows KeyArgs' own help, not this.)
    #[command(flatten)]
    pub key: KeyArgs,

    /// Where evidence files are kept (default: canary-evidence beside the
    /// SQLite database, or in the working directory for PostgreSQL).
    #[arg(long, value_name = "DIR")]
    pub evidence_dir: Option<PathBuf>,
}

/// `canary admin …`
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a user of the web interface (the first admin, for instance).
    #[command(
        after_help = "Example:\n  printf '%s\\n' 'a long passphrase' | canary admin create-user --name sokha --role admin --org LICADHO --password-stdin"
    )]
    CreateUser(CreateUserArgs),

    /// Create a new field key: the key that seals the registry's sensitive
    /// fields. Keep it outside the database and back it up: without it,
    /// sealed fields can never be read again.
    #[command(
        after_help = "Example:\n  canary admin gen-key --output /etc/canary/field.key\n  canary serve --key-file /etc/canary/field.key"
    )]
    GenKey(GenKeyArgs),
}

/// Options of `canary admin gen-key`.
#[derive(Debug, clap::Args)]
pub struct GenKeyArgs {
    /// The key file to create (readable by its owner only; an existing file
    /// is never overwritten).
    #[arg(long, short, value_name = "FILE")]
    pub output: PathBuf,

    /// The key's id (0-255), written into every value it seals; give a new
    /// id when rotating keys.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub id: u8,
}

/// Options of `canary admin create-user`.
#[derive(Debug, clap::Args)]
pub struct CreateUserArgs {
    /// Login name.
    #[arg(long)]
    pub name: String,

    /// viewer, analyst or admin.
    #[arg(long, default_value = "viewer")]
    pub role: String,

    /// The user's organisation.
    #[arg(long)]
    pub org: Option<String>,

    /// Read the password from standard input (one line).
    #[arg(long)]
    pub password_stdin: bool,

    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// Options of `canary report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// The country, a two-letter code (e.g. KH).
    #[arg(long, value_name = "CC")]
    pub country: String,

    /// First day of the period (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub from: String,

    /// Last day of the period (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub to: String,

    /// Language: en or km.
    #[arg(long, default_value = "en")]
    pub lang: String,

    /// Format: html or pdf (pdf needs a canary built with `--features pdf`).
    #[arg(long, default_value = "html")]
    pub format: String,

    /// country (a monitoring report) or upr (a stakeholder-submission draft
    /// in numbered paragraphs, with a word count).
    #[arg(long, default_value = "country")]
    pub template: String,

    /// Word limit shown (and warned about) in the UPR draft (2815 for an
    /// individual submission, 5630 for a joint one).
    #[arg(long, value_name = "WORDS")]
    pub word_limit: Option<u32>,

    /// The author named on the report.
    #[arg(long)]
    pub author: Option<String>,

    /// Write an organisation-internal edition for this organisation: its
    /// unpublished records included, every page watermarked.
    #[arg(long, value_name = "ORG")]
    pub internal_edition_for: Option<String>,

    /// Date printed as the report's date (default: none, so the same data
    /// gives the same bytes).
    #[arg(long, value_name = "DATE")]
    pub generated_on: Option<String>,

    /// Base URL of the explorer, so the figures link to their queries.
    #[arg(long, value_name = "URL")]
    pub api_base: Option<String>,

    /// The registry: `store` (the one kept in --database, see `canary seed`),
    /// `seed` (the built-in Cambodia dataset) or a JSON export file.
    #[arg(long, value_name = "SOURCE", default_value = "store")]
    pub registry: String,

    #[command(flatten)]
    pub database: DatabaseArgs,

    /// Write the report here instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Options of `canary submit`.
#[derive(Debug, clap::Args)]
pub struct SubmitArgs {
    /// The collector (`canary serve`) to upload to.
    #[arg(long, value_name = "URL")]
    pub to: String,

    /// Measurement files to queue and upload too.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// The queue folder (default: ~/.local/share/canary/queue).
    #[arg(long, value_name = "DIR")]
    pub queue: Option<PathBuf>,

    /// Trust only these certificate authorities (PEM) for the upload.
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,

    /// Print the counts (uploaded, refused, still queued) as JSON.
    #[arg(long)]
    pub json: bool,
}

/// How verdicts are reached: the fingerprints and routable ranges used by
/// `analyse`, `import` and `reanalyse`.
#[derive(Debug, clap::Args)]
pub struct VerdictArgs {
    /// Extra blockpage fingerprints (OONI's CSV format), on top of Canary's.
    #[arg(long, value_name = "FILE")]
    pub fingerprints: Vec<PathBuf>,

    /// Treat this private range as routable (labs, intranets). Repeatable.
    #[arg(long, value_name = "CIDR")]
    pub routable: Vec<String>,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        // Duplicate flags, `requires` naming a missing argument, bad
        // defaults: clap checks them all here rather than at a user's run.
        Cli::command().debug_assert();
    }

    /// Every subcommand path, e.g. `["registry", "export"]`, with its command.
    fn leaves(cmd: &clap::Command, path: Vec<String>, out: &mut Vec<(Vec<String>, clap::Command)>) {
        if cmd.get_subcommands().next().is_none() {
            out.push((path, cmd.clone()));
            return;
        }
        for sub in cmd.get_subcommands() {
            let mut p = path.clone();
            p.push(sub.get_name().to_owned());
            leaves(sub, p, out);
        }
    }

    #[test]
    fn every_command_that_uses_the_store_takes_the_same_database_flag() {
        let mut cmd = Cli::command();
        cmd.build();
        let mut all = Vec::new();
        leaves(&cmd, Vec::new(), &mut all);
        let mut with_database: Vec<String> = Vec::new();
        for (path, sub) in &all {
            let Some(arg) = sub.get_arguments().find(|a| a.get_id() == "database") else {
                continue;
            };
            let name = path.join(" ");
            assert_eq!(arg.get_long(), Some("database"), "{name}");
            assert_eq!(
                arg.get_default_values(),
                [DEFAULT_DATABASE],
                "{name}: the default"
            );
            assert_eq!(
                arg.get_help().map(ToString::to_string).as_deref(),
                Some("The database: a SQLite file or a postgres:// URL"),
                "{name}: the help"
            );
            with_database.push(name);
        }
        with_database.sort();
        assert_eq!(
            with_database,
            [
                "admin create-user",
                "import",
                "reanalyse",
                "registry export",
                "registry import",
                "registry rekey",
                "report",
                "seed kh",
                "serve",
                "verify",
            ]
        );
    }
}
