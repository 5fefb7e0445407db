//! Model → the values templates see (docs/templates.md) and `reports.json` is made of.

use std::borrow::Cow;
use std::hash::{Hash, Hasher};
use std::sync::OnceLock;

use jiff::Timestamp;
use jiff::civil::Date;
use rustc_hash::FxHasher;
use serde::Serialize;
use tera::Value;

use crate::model::{
    Action, Lesson, ROOT_LINK, Report, Response, Site, Status, TaxonomyKind, Timeline,
};
use crate::slug::slugify;

#[derive(Debug, Clone, Serialize)]
pub struct TermRef {
    pub name: String,
    pub slug: String,
    pub url: String,
}

impl TermRef {
    pub fn new(kind: TaxonomyKind, name: &str) -> TermRef {
        let slug = slugify(name);
        TermRef {
            url: term_path(kind, &slug),
            name: name.to_string(),
            slug,
        }
    }
}

/// A term's page, relative to the site root.
pub fn term_path(kind: TaxonomyKind, slug: &str) -> String {
    format!("{}/{slug}/index.html", kind.slug())
}

/// What a lesson or action hit says about its report. The renderer makes each report's once
/// (a template value), and every lesson and action of the report shares it.
#[derive(Debug, Clone, Serialize)]
pub struct ReportRef<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub url: String,
    pub date: String,
    pub severity: &'a str,
    pub severity_rank: usize,
}

impl<'a> ReportRef<'a> {
    pub fn new(report: &'a Report) -> Self {
        ReportRef {
            id: &report.id,
            title: &report.meta.title,
            url: report.url(),
            date: report.meta.date.to_string(),
            severity: &report.meta.severity,
            severity_rank: report.severity_rank,
        }
    }
}

/// A report in a list.
#[derive(Debug, Clone, Serialize)]
pub struct Card {
    pub id: String,
    pub title: String,
    pub url: String,
    pub permalink: String,
    pub date: String,
    pub year: String,
    pub year_url: String,
    pub severity: String,
    pub severity_rank: usize,
    pub severity_url: String,
    pub status: Status,
    pub response: Option<Response>,
    pub summary: String,
    pub services: Vec<TermRef>,
    pub tags: Vec<TermRef>,
    pub teams: Vec<TermRef>,
    pub outcome: Option<crate::model::Outcome>,
    pub duration_minutes: Option<i64>,
    pub duration: Option<String>,
    pub lessons_count: usize,
    pub actions_count: usize,
    pub open_actions_count: usize,
    pub overdue_actions_count: usize,
    /// The report's [`Report::revision`], to reuse the card while the report is unchanged.
    #[serde(skip)]
    pub revision: u64,
    /// Worked out when `serve` first fingerprints a page (`build` never needs them), and
    /// kept with the card while its report is unchanged.
    #[serde(skip)]
    hashes: OnceLock<CardHashes>,
}

/// Hashes of what lists show of a report, for the fingerprints of the pages they are on.
#[derive(Debug, Clone)]
pub struct CardHashes {
    /// What the card shows: lists of reports change when it does.
    pub card: u64,
    /// What each lesson's and each action's entry in a list shows.
    pub lessons: Vec<u64>,
    pub actions: Vec<u64>,
}

impl Card {
    /// The hashes of this card's report, which must be the report it was made from.
    pub fn hashes(&self, report: &Report) -> &CardHashes {
        self.hashes.get_or_init(|| {
            let hashed = |f: &dyn Fn(&mut FxHasher)| {
                let mut h = FxHasher::default();
                f(&mut h);
                h.finish()
            };
            CardHashes {
                card: serde_json::to_vec(self).map_or(0, |json| crate::render::hash_of(&json)),
                lessons: report
                    .lessons
                    .iter()
                    .map(|l| hashed(&|h| hash_lesson(report, l, h)))
                    .collect(),
                actions: report
                    .actions
                    .iter()
                    .map(|a| hashed(&|h| hash_action(report, a, h)))
                    .collect(),
            }
        })
    }

    pub fn new(report: &Report, base_url: &str, today: Date) -> Card {
        let meta = &report.meta;
        let duration_minutes = meta.timeline.as_ref().and_then(Timeline::duration_minutes);
        let terms = |kind: TaxonomyKind, names: &[String]| {
            names.iter().map(|n| TermRef::new(kind, n)).collect()
        };
        Card {
            id: report.id.clone(),
            title: meta.title.clone(),
            url: report.url(),
            permalink: format!("{base_url}{}", report.url()),
            date: meta.date.to_string(),
            year: report.year(),
            year_url: term_path(TaxonomyKind::Years, &report.year()),
            severity: meta.severity.clone(),
            severity_rank: report.severity_rank,
            severity_url: term_path(TaxonomyKind::Severity, &slugify(&meta.severity)),
            status: meta.status,
            response: meta.response,
            summary: report.summary.clone(),
            services: terms(TaxonomyKind::Services, &meta.services),
            tags: terms(TaxonomyKind::Tags, &meta.tags),
            teams: terms(TaxonomyKind::Teams, &meta.teams),
            outcome: meta.timeline.as_ref().and_then(|t| t.outcome),
            duration: duration_minutes.map(human_duration),
            duration_minutes,
            lessons_count: report.lessons.len(),
            actions_count: report.actions.len(),
            open_actions_count: report.actions.iter().filter(|a| !a.done).count(),
            overdue_actions_count: report
                .actions
                .iter()
                .filter(|a| a.days_overdue(today).is_some())
                .count(),
            revision: report.revision,
            hashes: OnceLock::new(),
        }
    }
}

/// What a lesson's entry in a list shows: the lesson and its report's title, date and
/// severity ([`LessonView`]).
fn hash_lesson(report: &Report, lesson: &Lesson, h: &mut FxHasher) {
    hash_report_ref(report, h);
    (&lesson.anchor, &lesson.text, &lesson.html, &lesson.category).hash(h);
}

/// What an action's entry in a list shows ([`ActionView`]).
fn hash_action(report: &Report, action: &Action, h: &mut FxHasher) {
    hash_report_ref(report, h);
    (&action.anchor, &action.text, &action.html, &action.owner).hash(h);
    (
        action.due,
        action.done,
        &action.ticket,
        &action.kind,
        &action.priority,
    )
        .hash(h);
}

fn hash_report_ref(report: &Report, h: &mut FxHasher) {
    let meta = &report.meta;
    (
        &report.id,
        &meta.title,
        meta.date,
        &meta.severity,
        report.severity_rank,
    )
        .hash(h);
}

/// "45 min", "2 h 5 min", "3 d 4 h".
pub fn human_duration(minutes: i64) -> String {
    let (days, hours, mins) = (minutes / 1440, (minutes % 1440) / 60, minutes % 60);
    match (days, hours, mins) {
        (0, 0, m) => format!("{m} min"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, 0, _) => format!("{d} d"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

/// Inline HTML of a lesson or action with links between reports made relative to `root`.
pub fn with_root<'a>(html: &'a str, root: &str) -> Cow<'a, str> {
    if html.contains(ROOT_LINK) {
        Cow::Owned(html.replace(ROOT_LINK, root))
    } else {
        Cow::Borrowed(html)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct LessonView<'a> {
    pub id: &'a str,
    pub url: String,
    pub text: &'a str,
    pub html: Cow<'a, str>,
    pub category: Option<&'a str>,
    /// The report's [`ReportRef`], shared.
    pub report: Value,
}

impl<'a> LessonView<'a> {
    /// `report_ref` is the report's [`ReportRef`] as a template value.
    pub fn new(report: &'a Report, report_ref: &Value, lesson: &'a Lesson, root: &str) -> Self {
        LessonView {
            id: &lesson.anchor,
            url: format!("{}#{}", report.url(), lesson.anchor),
            text: &lesson.text,
            html: with_root(&lesson.html, root),
            category: lesson.category.as_deref(),
            report: report_ref.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ActionView<'a> {
    pub id: &'a str,
    pub url: String,
    pub text: &'a str,
    pub html: Cow<'a, str>,
    pub owner: Option<&'a str>,
    pub due: Option<String>,
    pub status: &'static str,
    pub overdue: bool,
    pub days_overdue: Option<i64>,
    pub ticket: Option<&'a str>,
    #[serde(rename = "type")]
    pub kind: Option<&'a str>,
    pub priority: Option<&'a str>,
    /// The report's [`ReportRef`], shared.
    pub report: Value,
}

impl<'a> ActionView<'a> {
    /// `report_ref` is the report's [`ReportRef`] as a template value.
    pub fn new(
        report: &'a Report,
        report_ref: &Value,
        action: &'a Action,
        root: &str,
        today: Date,
    ) -> Self {
        let days_overdue = action.days_overdue(today);
        ActionView {
            id: &action.anchor,
            url: format!("{}#{}", report.url(), action.anchor),
            text: &action.text,
            html: with_root(&action.html, root),
            owner: action.owner.as_deref(),
            due: action.due.map(|d| d.to_string()),
            status: if action.done { "done" } else { "open" },
            overdue: days_overdue.is_some(),
            days_overdue,
            ticket: action.ticket.as_deref(),
            kind: action.kind.as_deref(),
            priority: action.priority.as_deref(),
            report: report_ref.clone(),
        }
    }
}

/// A datetime as the report page shows it: "2024-01-26 10:00 UTC".
pub fn display_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

fn rfc3339(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

// ---- reports.json ---------------------------------------------------------------------------

#[derive(Serialize)]
pub struct ReportsJson<'a> {
    pub reports: Vec<ReportJson<'a>>,
}

#[derive(Serialize)]
pub struct ReportJson<'a> {
    id: &'a str,
    title: &'a str,
    url: String,
    date: String,
    severity: &'a str,
    status: Status,
    response: Option<Response>,
    summary: &'a str,
    services: &'a [String],
    tags: &'a [String],
    teams: &'a [String],
    release: ReleaseJson<'a>,
    timeline: TimelineJson,
    duration_minutes: Option<i64>,
    lessons: Vec<LessonJson<'a>>,
    actions: Vec<ActionJson<'a>>,
    /// Ids of related reports, most similar first.
    related: Vec<&'a str>,
}

#[derive(Serialize)]
struct ReleaseJson<'a> {
    from: Option<&'a str>,
    to: Option<&'a str>,
}

#[derive(Serialize)]
struct TimelineJson {
    detected: Option<String>,
    started: Option<String>,
    ended: Option<String>,
    outcome: Option<crate::model::Outcome>,
}

#[derive(Serialize)]
struct LessonJson<'a> {
    id: &'a str,
    text: &'a str,
    category: Option<&'a str>,
    url: String,
}

#[derive(Serialize)]
struct ActionJson<'a> {
    id: &'a str,
    text: &'a str,
    owner: Option<&'a str>,
    due: Option<String>,
    status: &'static str,
    overdue: bool,
    ticket: Option<&'a str>,
    #[serde(rename = "type")]
    kind: Option<&'a str>,
    priority: Option<&'a str>,
    url: String,
}

impl<'a> ReportsJson<'a> {
    /// Every published report; URLs are `base_url` + the pretty path (site-relative without one).
    pub fn new(site: &'a Site, base_url: &str) -> Self {
        let reports = site
            .reports
            .iter()
            .zip(&site.related)
            .map(|(r, related)| {
                let url = format!("{base_url}{}", r.url());
                let timeline = r.meta.timeline.clone().unwrap_or_default();
                ReportJson {
                    id: &r.id,
                    title: &r.meta.title,
                    date: r.meta.date.to_string(),
                    severity: &r.meta.severity,
                    status: r.meta.status,
                    response: r.meta.response,
                    summary: &r.summary,
                    services: &r.meta.services,
                    tags: &r.meta.tags,
                    teams: &r.meta.teams,
                    release: ReleaseJson {
                        from: r.meta.release.as_ref().and_then(|x| x.from.as_deref()),
                        to: r.meta.release.as_ref().and_then(|x| x.to.as_deref()),
                    },
                    duration_minutes: timeline.duration_minutes(),
                    timeline: TimelineJson {
                        detected: timeline.detected.map(rfc3339),
                        started: timeline.started.map(rfc3339),
                        ended: timeline.ended.map(rfc3339),
                        outcome: timeline.outcome,
                    },
                    lessons: r
                        .lessons
                        .iter()
                        .map(|l| LessonJson {
                            id: &l.anchor,
                            text: &l.text,
                            category: l.category.as_deref(),
                            url: format!("{url}#{}", l.anchor),
                        })
                        .collect(),
                    actions: r
                        .actions
                        .iter()
                        .map(|a| ActionJson {
                            id: &a.anchor,
                            text: &a.text,
                            owner: a.owner.as_deref(),
                            due: a.due.map(|d| d.to_string()),
                            status: if a.done { "done" } else { "open" },
                            overdue: a.days_overdue(site.today).is_some(),
                            ticket: a.ticket.as_deref(),
                            kind: a.kind.as_deref(),
                            priority: a.priority.as_deref(),
                            url: format!("{url}#{}", a.anchor),
                        })
                        .collect(),
                    related: related
                        .iter()
                        .map(|rel| site.reports[rel.report].id.as_str())
                        .collect(),
                    url,
                }
            })
            .collect();
        ReportsJson { reports }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_a_person_wrote_them() {
        assert_eq!(human_duration(45), "45 min");
        assert_eq!(human_duration(120), "2 h");
        assert_eq!(human_duration(125), "2 h 5 min");
        assert_eq!(human_duration(1440 * 3 + 250), "3 d 4 h");
    }

    #[test]
    fn root_links_are_made_relative_to_the_page() {
        let html = format!("see <a href=\"{ROOT_LINK}reports/b/index.html\">b</a>");
        assert_eq!(
            with_root(&html, "../../"),
            "see <a href=\"../../reports/b/index.html\">b</a>"
        );
    }
}
