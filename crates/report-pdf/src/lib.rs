//! # canary-report-pdf: Canary's reports as PDF, in process
//!
//! [`render_pdf`] typesets the same [`canary_report::Document`] that
//! `canary_report::render_html` does, with [typst] used as a library: no
//! external program, no system fonts, no network.
//!
//! * **Fonts** are embedded in the binary: Noto Sans Khmer Regular and
//!   Bold (SIL OFL 1.1, shared with `canary-report`, licence in
//!   `crates/report/assets/fonts/OFL.txt`) for Khmer, and typst's bundled
//!   Libertinus Serif and DejaVu Sans Mono for Latin text and ids. Typst
//!   shapes Khmer with HarfBuzz (coeng subscripts, vowel signs) and breaks
//!   Khmer lines with its ICU segmenter; Latin runs in a Khmer report fall
//!   back to Libertinus glyph by glyph.
//! * **Charts** are drawn natively (rectangles, curves, text placed by
//!   typst) from the same geometry as the HTML's SVG
//!   ([`canary_report::Chart::draw`]), so their labels are shaped like the
//!   rest of the text and stay vector graphics.
//! * **Reproducible**: the PDF's document id is derived from the report's
//!   content hash and its creation date is
//!   [`canary_report::ReportOptions::generated_on`] (none when `None`); no
//!   clock is read, so the same data and options give the same bytes.
//! * **Organisation-internal** editions carry a diagonal watermark and a
//!   header line on every page.
//!
//! ## Cost
//!
//! typst is a large dependency (a clean debug build of this crate takes
//! minutes and its rustc peaks around 1.5 GB): it lives in this crate only,
//! so the rest of the workspace neither builds nor links it.
//!
//! ## Example
//!
//! ```no_run
//! use canary_report::{gather, ReportOptions, Lang};
//! use time::macros::date;
//!
//! # async fn run(store: &canary_store::Store) -> Result<(), Box<dyn std::error::Error>> {
//! let registry = canary_registry::seed::kh();
//! let mut opts = ReportOptions::new("KH", date!(2023 - 01 - 01), date!(2023 - 12 - 31));
//! opts.lang = Lang::Km;
//! let data = gather(store, &registry, &opts).await?;
//! let pdf: Vec<u8> = canary_report_pdf::render_pdf(&data, &opts)?;
//! std::fs::write("report-km.pdf", pdf)?;
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

mod markup;

use std::sync::OnceLock;

use canary_report::{layout, Document, ReportData, ReportOptions};
use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime, Duration, Smart};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use typst_layout::PagedDocument;

pub use canary_report::ReportError;
pub use markup::typst_source;

/// Renders the report as PDF (A4), in the language and template of
/// `options`.
///
/// Fails with [`ReportError::Render`] only if typst rejects the generated
/// markup (a bug: every text reaches typst as an escaped string).
pub fn render_pdf(data: &ReportData, options: &ReportOptions) -> Result<Vec<u8>, ReportError> {
    let doc = layout(data, options);
    render_document_pdf(&doc, options.generated_on)
}

/// Renders a laid-out [`Document`] as PDF; `date` becomes the PDF's
/// creation date (none when `None`).
pub fn render_document_pdf(
    doc: &Document,
    date: Option<time::Date>,
) -> Result<Vec<u8>, ReportError> {
    let source = typst_source(doc, date);
    let world = ReportWorld::new(source)?;
    let started = std::time::Instant::now();
    let compiled = typst::compile::<PagedDocument>(&world);
    let document = compiled.output.map_err(|errors| {
        ReportError::Render(
            errors
                .iter()
                .map(|e| e.message.to_string())
                .collect::<Vec<_>>()
                .join("; "),
        )
    })?;
    let timestamp = date
        .and_then(|d| Datetime::from_ymd(d.year(), u8::from(d.month()), d.day()))
        .map(typst_pdf::Timestamp::new_utc);
    let options = typst_pdf::PdfOptions {
        ident: Smart::Custom(doc.content_hash.clone()),
        creator: Smart::Custom(Some("Canary".to_owned())),
        timestamp,
        ..typst_pdf::PdfOptions::default()
    };
    let pdf = typst_pdf::pdf(&document, &options).map_err(|errors| {
        ReportError::Render(
            errors
                .iter()
                .map(|e| e.message.to_string())
                .collect::<Vec<_>>()
                .join("; "),
        )
    })?;
    // typst memoises layout across compilations; in a long-running
    // server that cache would only grow: drop entries unused for a while
    typst::comemo::evict(10);
    tracing::debug!(
        pages = document.pages().len(),
        bytes = pdf.len(),
        ms = started.elapsed().as_millis() as u64,
        "report PDF rendered"
    );
    Ok(pdf)
}

/// The fonts: typst's bundled Latin and mono fonts and Noto Sans Khmer,
/// parsed once.
fn fonts() -> &'static (LazyHash<FontBook>, Vec<Font>) {
    static FONTS: OnceLock<(LazyHash<FontBook>, Vec<Font>)> = OnceLock::new();
    FONTS.get_or_init(|| {
        let mut fonts: Vec<Font> = Vec::new();
        for data in typst_assets::fonts() {
            fonts.extend(Font::iter(Bytes::new(data)));
        }
        for data in [
            canary_report::KHMER_FONT_REGULAR,
            canary_report::KHMER_FONT_BOLD,
        ] {
            fonts.extend(Font::iter(Bytes::new(data)));
        }
        (LazyHash::new(FontBook::from_fonts(&fonts)), fonts)
    })
}

fn library() -> &'static LazyHash<Library> {
    static LIBRARY: OnceLock<LazyHash<Library>> = OnceLock::new();
    LIBRARY.get_or_init(|| LazyHash::new(Library::default()))
}

/// One in-memory source file; no file system, no packages, no clock.
struct ReportWorld {
    main: FileId,
    source: Source,
}

impl ReportWorld {
    fn new(text: String) -> Result<Self, ReportError> {
        let path = VirtualPath::new("/report.typ")
            .map_err(|e| ReportError::Render(format!("virtual path: {e:?}")))?;
        let main = FileId::new(RootedPath::new(VirtualRoot::Project, path));
        Ok(ReportWorld {
            main,
            source: Source::new(main, text),
        })
    }
}

impl World for ReportWorld {
    fn library(&self) -> &LazyHash<Library> {
        library()
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &fonts().0
    }

    fn main(&self) -> FileId {
        self.main
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main {
            Ok(self.source.clone())
        } else {
            Err(FileError::AccessDenied)
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.main {
            Ok(Bytes::from_string(self.source.clone()))
        } else {
            Err(FileError::AccessDenied)
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        fonts().1.get(index).cloned()
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        None
    }
}
