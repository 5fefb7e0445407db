//! Parsed reports → the `Site`: drafts left out, duplicate ids and links between reports
//! checked, reports ordered and filed under their terms.

use std::collections::{HashMap, HashSet};

use jiff::civil::Date;

use crate::config::Config;
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{Report, Site, Status};

/// Assembles the site. Errors here (duplicate ids, links to missing reports) are content
/// errors like any other; the site is still returned so that every problem is reported.
/// `unparsed` holds the content paths of files that exist but had errors of their own: links
/// to them are not reported again as links to missing reports.
pub fn assemble(
    reports: Vec<Report>,
    unparsed: &HashSet<String>,
    config: &Config,
    drafts: bool,
    today: Date,
) -> (Site, Vec<Diagnostic>) {
    let all: Vec<&Report> = reports.iter().collect();
    let diagnostics = check(&all, unparsed, drafts);
    let published: Vec<Report> = reports
        .into_iter()
        .filter(|r| drafts || r.meta.status != Status::Draft)
        .collect();
    (Site::new(published, &config.severities, today), diagnostics)
}

/// The problems between reports: reserved and duplicate ids, links to missing reports or
/// anchors, links from published reports to unpublished drafts. `reports` are all the
/// parsed reports, drafts included.
pub fn check(reports: &[&Report], unparsed: &HashSet<String>, drafts: bool) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();

    let mut by_id: HashMap<&str, &Report> = HashMap::new();
    for &report in reports {
        if crate::model::is_reserved_id(&report.id) {
            diagnostics.push(
                Diagnostic::file_error(
                    &report.source,
                    "reserved-id",
                    format!("the report id `{}` is the name of a list page in reports/", report.id),
                )
                .with_help("a report's id is its file name without `.md`; rename the file, e.g. to start with the incident's date"),
            );
        }
        if let Some(first) = by_id.insert(report.id.as_str(), report) {
            diagnostics.push(
                Diagnostic::file_error(
                    &report.source,
                    "duplicate-id",
                    format!(
                        "two reports have the id `{}`: this file and {}",
                        report.id,
                        first.source.display()
                    ),
                )
                .with_help("a report's id is its file name without `.md`; rename one of the files"),
            );
        }
    }

    let paths: HashMap<&str, &Report> = reports
        .iter()
        .map(|r| (r.content_path.as_str(), *r))
        .collect();
    let stems: HashSet<&str> = reports.iter().map(|r| r.id.as_str()).collect();
    for &report in reports {
        // Drafts are checked too: they are published later, and `check` and `build` must
        // agree on what is an error.
        let published = drafts || report.meta.status != Status::Draft;
        for link in &report.links {
            let diagnostic = |rule: &'static str,
                              message: String,
                              help: String,
                              severity: Severity| Diagnostic {
                file: report.source.clone(),
                line: link.line,
                column: link.column,
                end_line: link.line,
                end_column: link.end_column,
                severity,
                rule,
                message,
                help: Some(help),
                source_line: Some(link.source_line.clone()),
            };
            match paths.get(link.target.as_str()) {
                None if unparsed.contains(&link.target) => {}
                None => {
                    let stem = crate::markdown::report_id_of(&link.target);
                    let help = if stems.contains(stem.as_str()) {
                        let actual = reports
                            .iter()
                            .find(|r| r.id == stem)
                            .map(|r| r.content_path.as_str())
                            .unwrap_or_default();
                        format!(
                            "a report with that name is at content/{actual}; link to it relative to this file, or as @/{actual}"
                        )
                    } else {
                        "check the file name; links are relative to this file, or to content/ when they start with @/".to_string()
                    };
                    diagnostics.push(diagnostic(
                        "broken-link",
                        format!("link to a missing report: content/{}", link.target),
                        help,
                        Severity::Error,
                    ));
                }
                Some(target) => {
                    if !link.fragment.is_empty() && !target.has_anchor(&link.fragment) {
                        diagnostics.push(diagnostic(
                            "broken-anchor",
                            missing_anchor_message(report, target, &link.fragment),
                            anchor_help(target, &link.fragment),
                            Severity::Error,
                        ));
                    }
                    if published && target.meta.status == Status::Draft && !drafts {
                        diagnostics.push(diagnostic(
                            "link-to-draft",
                            format!("link to a draft report ({}), which is not published", target.source.display()),
                            "publish the linked report (status = \"review\" or \"final\") or build with --drafts".to_string(),
                            Severity::Warning,
                        ));
                    }
                }
            }
        }
    }

    diagnostics
}

fn missing_anchor_message(from: &Report, target: &Report, fragment: &str) -> String {
    if std::ptr::eq(from, target) {
        format!("link to `#{fragment}`, which is not an anchor on this report's page")
    } else {
        format!(
            "link to `#{fragment}`, which is not an anchor on the page of {}",
            target.source.display()
        )
    }
}

/// The nearest heading, lesson or action id, or where ids come from.
fn anchor_help(target: &Report, fragment: &str) -> String {
    let ids = target
        .heading_ids
        .iter()
        .chain(target.lessons.iter().map(|l| &l.anchor))
        .chain(target.actions.iter().map(|a| &a.anchor))
        .map(String::as_str);
    let ids: Vec<&str> = ids.collect();
    // Numbered headings get numbered ids: `#root-cause` is most likely `#4-2-root-cause-analysis`.
    let containing = ids.iter().find(|id| id.contains(fragment)).copied();
    match containing.or_else(|| crate::diagnostic::nearest(fragment, ids.iter().copied())) {
        Some(id) => format!("did you mean `#{id}`?"),
        None => "a heading's anchor is its text in lower case with dashes, e.g. `## Root cause` is `#root-cause`; lessons and actions have the anchors shown on the report page".to_string(),
    }
}
