//! One source file → one complete `Report`: front matter, body HTML, table of contents,
//! sections, lessons and actions.

use jiff::civil::Date;

use crate::config::Config;
use crate::diagnostic::{Diagnostic, LineIndex};
use crate::extract::extract;
use crate::frontmatter;
use crate::lint::{Subject, lint};
use crate::load::SourceFile;
use crate::markdown::{self, BodyPlace};
use crate::model::{Report, Section};

/// A parsed file: the report when it is valid, and every problem found on the way
/// (errors, or warnings alongside a report).
pub struct Parsed {
    pub report: Option<Report>,
    pub diagnostics: Vec<Diagnostic>,
}

/// What a parse is for: a build renders each body to HTML, a check only needs the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Build,
    Check,
}

/// Parses one file and lints the result. `today` decides which actions are overdue.
pub fn parse_report(file: &SourceFile, config: &Config, today: Date, purpose: Purpose) -> Parsed {
    let index = LineIndex::new(&file.text);
    let split = match frontmatter::split(&file.text, &index, &file.path) {
        Ok(split) => split,
        Err(d) => {
            return Parsed {
                report: None,
                diagnostics: vec![*d],
            };
        }
    };
    let meta = match frontmatter::parse(&split, &index, &file.path, &config.severities) {
        Ok(meta) => meta,
        Err(diagnostics) => {
            return Parsed {
                report: None,
                diagnostics,
            };
        }
    };
    let mut doc = markdown::parse(split.body, &config.synonyms);
    let place = BodyPlace {
        file: &file.path,
        index: &index,
        body_start: split.body_start,
        content_path: &file.content_path,
    };
    let sanitized = markdown::sanitize(&doc, &place, config.unsafe_html);
    let extracted = extract(&mut doc, &sanitized, &place);
    let mut diagnostics = extracted.diagnostics;
    diagnostics.extend(lint(
        &Subject {
            doc: &doc,
            place: &place,
            body: split.body,
            meta: &meta,
            lessons: &extracted.lessons,
            actions: &extracted.actions,
        },
        config,
        today,
    ));
    let html = match purpose {
        Purpose::Build => {
            let mut html = markdown::render_body(&sanitized, &extracted.anchors);
            // Every report's HTML stays in memory until rendering; drop the growth slack.
            html.shrink_to_fit();
            html
        }
        Purpose::Check => String::new(),
    };
    let sections: Vec<Section> = doc
        .sections
        .iter()
        .map(|s| {
            let heading = &doc.headings[s.heading];
            Section {
                kind: s.kind,
                title: heading.title.clone(),
                anchor: heading.id.clone(),
            }
        })
        .collect();
    let summary = match &meta.summary {
        Some(summary) => summary.trim().to_string(),
        None => markdown::summary(&doc).unwrap_or_default(),
    };
    let severity_rank = config
        .severities
        .iter()
        .position(|s| *s == meta.severity)
        .map_or(0, |i| i + 1);
    let report = Report {
        severity_rank,
        id: markdown::report_id_of(&file.content_path),
        source: file.path.clone(),
        content_path: file.content_path.clone(),
        toc: markdown::toc(&doc),
        html,
        sections,
        summary,
        lessons: extracted.lessons,
        actions: extracted.actions,
        links: sanitized.links,
        heading_ids: doc.headings.iter().map(|h| h.id.clone()).collect(),
        revision: crate::freshness::hash_more(file.stamp.hash, file.content_path.as_bytes()),
        meta,
    };
    Parsed {
        report: Some(report),
        diagnostics,
    }
}
