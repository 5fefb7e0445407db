//! The domain: reports with their lessons and corrective actions, and the site that holds
//! them all with its taxonomies. Immutable once built.

use std::path::PathBuf;

use jiff::Timestamp;
use jiff::civil::Date;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Draft,
    Review,
    Final,
}

impl Status {
    pub const NAMES: [&'static str; 3] = ["draft", "review", "final"];

    pub fn from_name(name: &str) -> Option<Status> {
        match name {
            "draft" => Some(Status::Draft),
            "review" => Some(Status::Review),
            "final" => Some(Status::Final),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        Status::NAMES[self as usize]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Response {
    Rollback,
    RollForward,
}

impl Response {
    pub const NAMES: [&'static str; 2] = ["rollback", "roll-forward"];

    pub fn from_name(name: &str) -> Option<Response> {
        match name {
            "rollback" => Some(Response::Rollback),
            "roll-forward" => Some(Response::RollForward),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        Response::NAMES[self as usize]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Success,
    Partial,
    Failed,
}

impl Outcome {
    pub const NAMES: [&'static str; 3] = ["success", "partial", "failed"];

    pub fn from_name(name: &str) -> Option<Outcome> {
        match name {
            "success" => Some(Outcome::Success),
            "partial" => Some(Outcome::Partial),
            "failed" => Some(Outcome::Failed),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Release {
    pub from: Option<String>,
    pub to: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timeline {
    pub detected: Option<Timestamp>,
    pub started: Option<Timestamp>,
    pub ended: Option<Timestamp>,
    pub outcome: Option<Outcome>,
}

impl Timeline {
    /// Minutes from the start of the rollback (or roll-forward) to its end.
    pub fn duration_minutes(&self) -> Option<i64> {
        let (start, end) = (self.started?, self.ended?);
        let seconds = end.as_second() - start.as_second();
        (seconds >= 0).then_some(seconds / 60)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Person {
    pub name: String,
    pub role: Option<String>,
}

/// The typed front matter of one report.
#[derive(Debug, Clone, PartialEq)]
pub struct FrontMatter {
    pub title: String,
    pub date: Date,
    pub severity: String,
    pub status: Status,
    pub response: Option<Response>,
    pub summary: Option<String>,
    pub services: Vec<String>,
    pub tags: Vec<String>,
    pub teams: Vec<String>,
    pub authors: Vec<String>,
    pub release: Option<Release>,
    pub timeline: Option<Timeline>,
    pub people: Vec<Person>,
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// What a section of the report body is about, recognised from its heading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SectionKind {
    Summary,
    Trigger,
    Impact,
    RootCause,
    Resolution,
    Detection,
    Verification,
    Actions,
    Lessons,
    Timeline,
    People,
}

impl SectionKind {
    pub const ALL: [SectionKind; 11] = [
        SectionKind::Summary,
        SectionKind::Trigger,
        SectionKind::Impact,
        SectionKind::RootCause,
        SectionKind::Resolution,
        SectionKind::Detection,
        SectionKind::Verification,
        SectionKind::Actions,
        SectionKind::Lessons,
        SectionKind::Timeline,
        SectionKind::People,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SectionKind::Summary => "summary",
            SectionKind::Trigger => "trigger",
            SectionKind::Impact => "impact",
            SectionKind::RootCause => "root_cause",
            SectionKind::Resolution => "resolution",
            SectionKind::Detection => "detection",
            SectionKind::Verification => "verification",
            SectionKind::Actions => "actions",
            SectionKind::Lessons => "lessons",
            SectionKind::Timeline => "timeline",
            SectionKind::People => "people",
        }
    }

    pub fn from_name(name: &str) -> Option<SectionKind> {
        SectionKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The headings DESIGN.md §3 recognises for each kind, before configuration adds more.
    pub fn default_headings(self) -> &'static [&'static str] {
        match self {
            SectionKind::Summary => &["Executive Summary", "Summary", "Overview", "TL;DR"],
            SectionKind::Trigger => &["Rollback Trigger", "Reason for Rollback", "Trigger"],
            SectionKind::Impact => &[
                "Impact",
                "Impact Assessment",
                "Customer Impact",
                "Summary of Impact",
                "Affected Users",
            ],
            SectionKind::RootCause => &[
                "Root Cause",
                "Root Causes",
                "Root Cause(s)",
                "Root Cause Analysis",
                "Contributing Factors",
                "Contributing Conditions",
                "Fault",
                "Five Whys",
            ],
            SectionKind::Resolution => &[
                "Rollback Procedure",
                "Rollback Plan",
                "Rollback Execution",
                "Resolution",
                "Mitigation",
                "Recovery",
            ],
            SectionKind::Detection => &["Detection"],
            SectionKind::Verification => &["Verification", "Verification of Rollback Success"],
            SectionKind::Actions => &[
                "Corrective Actions",
                "Action Items",
                "Action Items & Follow-ups",
                "Follow-ups",
                "Follow-up Actions",
                "Remediation",
                "Remediations",
                "Countermeasures",
                "Corrective and Preventative Measures",
                "Next Steps",
                "Recommendations",
            ],
            SectionKind::Lessons => &[
                "Lessons Learned",
                "Lessons Learnt",
                "Lessons",
                "What We Learned",
                "Learnings",
                "Takeaways",
                "Key Takeaways",
            ],
            SectionKind::Timeline => &[
                "Timeline",
                "Incident Timeline",
                "Chain of Events",
                "Rollback Time",
            ],
            SectionKind::People => &["Personnel Involved", "People", "Participants"],
        }
    }
}

/// A heading of the body, for the table of contents.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Heading {
    pub level: u8,
    pub id: String,
    pub title: String,
}

/// A recognised section of the body: what it is about and where it starts on the page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Section {
    pub kind: SectionKind,
    pub title: String,
    pub anchor: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lesson {
    /// The anchor of the lesson on its report page.
    pub anchor: String,
    pub text: String,
    /// Inline HTML of the lesson, sanitised; links to other reports start with [`ROOT_LINK`].
    pub html: String,
    pub category: Option<String>,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    pub anchor: String,
    pub text: String,
    pub html: String,
    pub owner: Option<String>,
    pub due: Option<Date>,
    pub done: bool,
    pub ticket: Option<String>,
    pub kind: Option<String>,
    pub priority: Option<String>,
    pub line: usize,
}

impl Action {
    /// Days past the due date for an open action, as of `today`.
    pub fn days_overdue(&self, today: Date) -> Option<i64> {
        let due = self.due?;
        if self.done || due >= today {
            return None;
        }
        let days = (today - due).get_days();
        Some(i64::from(days).max(1))
    }
}

/// A link in a report body to another report's Markdown file, or to an anchor on the
/// report's own page (`#…`, with `target` the report's own path).
#[derive(Debug, Clone, PartialEq)]
pub struct ReportLink {
    /// The target, relative to `content/`, with `/` separators.
    pub target: String,
    /// The anchor linked to, without `#`, percent-decoded; empty for the top of the page.
    pub fragment: String,
    pub line: usize,
    pub column: usize,
    pub end_column: usize,
    pub source_line: String,
}

/// Prefix of links between pages inside rendered report HTML; the renderer replaces it with
/// the way back to the site root, which depends on the page the HTML lands on.
pub const ROOT_LINK: &str = "rollbook-root:";

/// The page of the report with this id, relative to the site root. Report pages are files,
/// not directories with an `index.html`: half the inodes for a large site, which is what a
/// rebuild spends its time on when the filesystem has just freed the previous output's.
pub fn report_url(id: &str) -> String {
    format!("reports/{}.html", crate::slug::escape_path_segment(id))
}

/// Report ids that would collide with the list pages in `reports/`.
pub fn is_reserved_id(id: &str) -> bool {
    id == "index"
        || id
            .strip_prefix("page-")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// One report, parsed and complete.
#[derive(Debug, Clone)]
pub struct Report {
    /// The file stem: unique across the site.
    pub id: String,
    /// The Markdown file, relative to the site root (for messages and the report page).
    pub source: PathBuf,
    /// The Markdown file relative to `content/`, with `/` separators.
    pub content_path: String,
    pub meta: FrontMatter,
    /// 1-based position of the severity in the configured severities (1 = most severe).
    pub severity_rank: usize,
    pub html: String,
    pub toc: Vec<Heading>,
    pub sections: Vec<Section>,
    pub summary: String,
    pub lessons: Vec<Lesson>,
    pub actions: Vec<Action>,
    pub links: Vec<ReportLink>,
    /// The ids of the body's headings, which links may point at; lessons and actions have
    /// their own anchors.
    pub heading_ids: Vec<String>,
    /// A hash of the file it was parsed from (path and bytes): pages showing the same
    /// revisions of the same reports are the same pages, which is how `serve` knows what to
    /// render again after an edit.
    pub revision: u64,
}

impl Report {
    /// Whether the report page has an element with this id: a heading, a lesson, an action,
    /// or one of the sections every report page has.
    pub fn has_anchor(&self, id: &str) -> bool {
        PAGE_ANCHORS.contains(&id)
            || self.heading_ids.iter().any(|h| h == id)
            || self.lessons.iter().any(|l| l.anchor == id)
            || self.actions.iter().any(|a| a.anchor == id)
    }
}

/// Ids that the report page itself gives to its lessons and actions sections.
pub const PAGE_ANCHORS: [&str; 2] = ["rollbook-lessons", "rollbook-actions"];

impl Report {
    /// The report page's link target, relative to the site root.
    pub fn url(&self) -> String {
        report_url(&self.id)
    }

    /// Where the report page is written, relative to the output directory.
    pub fn output_path(&self) -> String {
        format!("reports/{}.html", self.id)
    }

    pub fn year(&self) -> String {
        self.meta.date.year().to_string()
    }

    pub fn section(&self, kind: SectionKind) -> Option<&Section> {
        self.sections.iter().find(|s| s.kind == kind)
    }
}

/// The kinds of term a report is filed under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TaxonomyKind {
    Services,
    Tags,
    Teams,
    Severity,
    Years,
}

impl TaxonomyKind {
    pub const ALL: [TaxonomyKind; 5] = [
        TaxonomyKind::Services,
        TaxonomyKind::Tags,
        TaxonomyKind::Teams,
        TaxonomyKind::Severity,
        TaxonomyKind::Years,
    ];

    /// The URL segment and key of the taxonomy.
    pub fn slug(self) -> &'static str {
        match self {
            TaxonomyKind::Services => "services",
            TaxonomyKind::Tags => "tags",
            TaxonomyKind::Teams => "teams",
            TaxonomyKind::Severity => "severity",
            TaxonomyKind::Years => "years",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            TaxonomyKind::Services => "Services",
            TaxonomyKind::Tags => "Tags",
            TaxonomyKind::Teams => "Teams",
            TaxonomyKind::Severity => "Severity",
            TaxonomyKind::Years => "Years",
        }
    }

    pub fn singular(self) -> &'static str {
        match self {
            TaxonomyKind::Services => "service",
            TaxonomyKind::Tags => "tag",
            TaxonomyKind::Teams => "team",
            TaxonomyKind::Severity => "severity",
            TaxonomyKind::Years => "year",
        }
    }

    /// The names a report is filed under, for every kind but years (a date, not a name).
    fn names(self, report: &Report) -> &[String] {
        match self {
            TaxonomyKind::Services => &report.meta.services,
            TaxonomyKind::Tags => &report.meta.tags,
            TaxonomyKind::Teams => &report.meta.teams,
            TaxonomyKind::Severity => std::slice::from_ref(&report.meta.severity),
            TaxonomyKind::Years => &[],
        }
    }
}

/// One term of a taxonomy and the reports filed under it (indices into `Site::reports`).
#[derive(Debug, Clone)]
pub struct Term {
    pub name: String,
    pub slug: String,
    pub reports: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct Taxonomy {
    pub kind: TaxonomyKind,
    /// In display order: by number of reports then name; severities in configured order,
    /// years newest first.
    pub terms: Vec<Term>,
}

/// Every published report and the knowledge across them.
#[derive(Debug)]
pub struct Site {
    /// Newest first (date, then id).
    pub reports: Vec<Report>,
    pub taxonomies: Vec<Taxonomy>,
    /// The build date: today, or `SOURCE_DATE_EPOCH`.
    pub today: Date,
    /// For each report (same order), its related reports, found by the search index.
    pub related: Vec<Vec<crate::related::Related>>,
}

impl Site {
    /// Orders reports and files them under their terms.
    pub fn new(reports: Vec<Report>, severities: &[String], today: Date) -> Site {
        let reports = newest_first(reports);
        let taxonomies = TaxonomyKind::ALL
            .into_par_iter()
            .map(|kind| build_taxonomy(kind, &reports, severities))
            .collect();
        let related = vec![Vec::new(); reports.len()];
        Site {
            reports,
            taxonomies,
            today,
            related,
        }
    }

    pub fn taxonomy(&self, kind: TaxonomyKind) -> &Taxonomy {
        self.taxonomies
            .iter()
            .find(|t| t.kind == kind)
            .expect("Site::new builds every taxonomy kind")
    }

    pub fn lesson_count(&self) -> usize {
        self.reports.iter().map(|r| r.lessons.len()).sum()
    }

    pub fn action_count(&self) -> usize {
        self.reports.iter().map(|r| r.actions.len()).sum()
    }
}

/// The terms of one taxonomy as they are found, one per slug.
#[derive(Default)]
struct Filing {
    terms: Vec<Term>,
    by_slug: FxHashMap<String, usize>,
}

impl Filing {
    /// The term with this name's slug, new if there is none yet.
    fn term(&mut self, name: &str) -> usize {
        let slug = crate::slug::slugify(name);
        if let Some(&t) = self.by_slug.get(&slug) {
            return t;
        }
        self.terms.push(Term {
            name: name.to_string(),
            slug: slug.clone(),
            reports: Vec::new(),
        });
        self.by_slug.insert(slug, self.terms.len() - 1);
        self.terms.len() - 1
    }

    /// Files report `r` under term `t` (once, however often the report names it).
    fn file(&mut self, t: usize, r: usize) {
        if self.terms[t].reports.last() != Some(&r) {
            self.terms[t].reports.push(r);
        }
    }
}

/// Newest first, then by id. Positions are sorted rather than the reports themselves, which
/// are large: each is then moved once rather than at every step of the sort.
fn newest_first(reports: Vec<Report>) -> Vec<Report> {
    let mut order: Vec<usize> = (0..reports.len()).collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (&reports[a], &reports[b]);
        b.meta.date.cmp(&a.meta.date).then_with(|| a.id.cmp(&b.id))
    });
    let mut slots: Vec<Option<Report>> = reports.into_iter().map(Some).collect();
    order.iter().filter_map(|&i| slots[i].take()).collect()
}

fn build_taxonomy(kind: TaxonomyKind, reports: &[Report], severities: &[String]) -> Taxonomy {
    let mut filing = Filing::default();
    // Each name is slugified once: a site has thousands of reports and dozens of terms.
    let mut by_name: FxHashMap<&str, usize> = FxHashMap::default();
    let mut by_year: FxHashMap<i16, usize> = FxHashMap::default();
    for (i, report) in reports.iter().enumerate() {
        if kind == TaxonomyKind::Years {
            let year = report.meta.date.year();
            let t = *by_year
                .entry(year)
                .or_insert_with(|| filing.term(&year.to_string()));
            filing.file(t, i);
            continue;
        }
        for name in kind.names(report) {
            let t = match by_name.get(name.as_str()) {
                Some(&t) => t,
                None => {
                    let t = filing.term(name);
                    by_name.insert(name, t);
                    t
                }
            };
            filing.file(t, i);
        }
    }
    let mut terms = filing.terms;
    // By slug first: terms that the order below ties stay in a stable order.
    terms.sort_by(|a, b| a.slug.cmp(&b.slug));
    match kind {
        TaxonomyKind::Severity => terms.sort_by_key(|t| {
            severities
                .iter()
                .position(|s| *s == t.name)
                .unwrap_or(usize::MAX)
        }),
        TaxonomyKind::Years => terms.sort_by(|a, b| b.name.cmp(&a.name)),
        _ => terms.sort_by(|a, b| {
            b.reports
                .len()
                .cmp(&a.reports.len())
                .then(a.name.cmp(&b.name))
        }),
    }
    Taxonomy { kind, terms }
}
