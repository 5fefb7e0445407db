//! What `build` and `check` share: every file below `content/` loaded, parsed, linted and
//! assembled into the site, with the site's `[rules]` levels applied. Because both commands
//! run this, `build` fails on exactly the errors `check` reports, with the same messages.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use jiff::civil::Date;
use rayon::prelude::*;

use crate::config::Config;
use crate::diagnostic::Diagnostic;
use crate::freshness::Stamp;
use crate::load::load_content;
use crate::model::Site;
use crate::parse::{Purpose, parse_report};
use crate::site::assemble;

pub struct Options {
    /// The date overdue actions are measured against.
    pub today: Date,
    /// Whether drafts are published (they are checked either way).
    pub drafts: bool,
    pub purpose: Purpose,
}

/// Callbacks for progress bars and stage timings.
pub struct Hooks<'a> {
    /// Called once the files are known, with how many there are.
    pub loaded: &'a dyn Fn(usize),
    /// Called after each file is parsed, from any thread.
    pub parsed: &'a (dyn Fn() + Sync),
}

impl Hooks<'_> {
    pub const NONE: Hooks<'static> = Hooks {
        loaded: &|_| {},
        parsed: &|| {},
    };
}

pub struct Analysis {
    pub site: Site,
    /// Every problem found, sorted by file, line and column.
    pub diagnostics: Vec<Diagnostic>,
    /// How many report files were checked, drafts included.
    pub files: usize,
    /// Each readable report file (relative to `content/`) as it was read, for the search
    /// index's manifest.
    pub stamps: BTreeMap<String, Stamp>,
}

impl Analysis {
    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    pub fn warnings(&self) -> usize {
        self.diagnostics.len() - self.errors()
    }
}

/// Every report file below `content/`, each parsed and linted on its own.
pub struct ParsedContent {
    /// By path relative to `content/`, in that order.
    pub files: Vec<(String, crate::parse::Parsed)>,
    /// The files that could not be read (not UTF-8, unreadable).
    pub unreadable: Vec<Diagnostic>,
    /// Each readable file as it was read.
    pub stamps: BTreeMap<String, Stamp>,
}

/// Reads and parses every report file, in parallel. No checks between reports yet and no
/// `[rules]` levels: `analyze` adds both, and `serve` keeps each file's results apart.
pub fn parse_content(
    root: &Path,
    config: &Config,
    options: &Options,
    hooks: &Hooks<'_>,
) -> anyhow::Result<ParsedContent> {
    let (sources, unreadable) = load_content(root)?;
    (hooks.loaded)(sources.len());
    let stamps = sources
        .iter()
        .map(|f| (f.content_path.clone(), f.stamp))
        .collect();
    // Each file's text is dropped as soon as it is parsed.
    let files = sources
        .into_par_iter()
        .map(|file| {
            let parsed = parse_report(&file, config, options.today, options.purpose);
            (hooks.parsed)();
            (file.content_path, parsed)
        })
        .collect();
    Ok(ParsedContent {
        files,
        unreadable,
        stamps,
    })
}

/// Loads and checks every report. An `Err` is an environment failure (e.g. no `content/`);
/// problems with the content are in the returned diagnostics.
pub fn analyze(
    root: &Path,
    config: &Config,
    options: &Options,
    hooks: &Hooks<'_>,
) -> anyhow::Result<Analysis> {
    let ParsedContent {
        files: parsed,
        unreadable: mut diagnostics,
        stamps,
    } = parse_content(root, config, options, hooks)?;
    let files = parsed.len() + diagnostics.len();
    let mut reports = Vec::with_capacity(parsed.len());
    let mut unparsed = HashSet::new();
    for (content_path, p) in parsed {
        diagnostics.extend(p.diagnostics);
        match p.report {
            Some(report) => reports.push(report),
            None => {
                unparsed.insert(content_path);
            }
        }
    }
    let (site, site_diagnostics) =
        assemble(reports, &unparsed, config, options.drafts, options.today);
    diagnostics.extend(site_diagnostics);
    config.rules.apply(&mut diagnostics);
    sort(&mut diagnostics);
    Ok(Analysis {
        site,
        diagnostics,
        files,
        stamps,
    })
}

/// By file, then position, then rule, so output is stable run to run.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
}
