//! The model → one tantivy index of reports, their sections, lessons and actions. `rollbook
//! build` writes it into the output (`search/index/`), where `rollbook search`, related
//! reports and the browser search read it.
//! Its schema is in `rollbook_search::schema`.

use std::path::Path;

use tantivy::{Index, IndexWriter, TantivyDocument, Term};

use crate::model::Report;

pub use rollbook_search::schema::{EXACT_FIELDS, Fields, Kind, date_of, day};

/// Where the index lives, relative to the output directory.
pub const DIR: &str = "search/index";

/// Memory the writer may use before it flushes a segment, shared by its threads. The build's
/// peak memory is while rendering, after the writer is gone; this keeps indexing below it.
const WRITER_BUDGET: usize = 40 * 1024 * 1024;

/// Creates a fresh index in `dir` (which must be empty or missing) with every report.
pub fn create(dir: &Path, reports: &[Report]) -> tantivy::Result<()> {
    std::fs::create_dir_all(dir)?;
    let (schema, fields) = Fields::schema();
    let index = Index::create_in_dir(dir, schema)?;
    crate::analyzer::register(&index);
    let mut writer = writer(&index)?;
    // Merging while indexing raised the build's peak memory by 60-90 MB; one merge at the end
    // costs less.
    writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
    for report in reports {
        add_report(&writer, &fields, report)?;
    }
    writer.commit()?;
    // One segment: the browser fetches each segment's dictionaries, norms and postings
    // separately, so a query over several costs a request and a block per segment per word.
    let segments = index.searchable_segment_ids()?;
    if segments.len() > 1 {
        writer.merge(&segments).wait()?;
    }
    writer.wait_merging_threads()?;
    Ok(())
}

pub fn writer(index: &Index) -> tantivy::Result<IndexWriter> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 4));
    index.writer_with_num_threads(threads, WRITER_BUDGET.max(threads * 16 * 1024 * 1024))
}

/// Removes every document of a report (before re-adding it, or when its file is gone).
pub fn delete_report(writer: &IndexWriter, fields: &Fields, id: &str) {
    writer.delete_term(Term::from_field_text(fields.report, id));
}

/// Adds a report's documents: the report, each recognised section, each lesson and action.
/// The writer's threads tokenize the text.
pub fn add_report(writer: &IndexWriter, fields: &Fields, report: &Report) -> tantivy::Result<()> {
    let url = report.url();
    let (title, body) = report_text(report);
    // A lesson or action has no title but its text, which is its body: indexed twice, it
    // would count twice and cost every query its postings and norms in both fields.
    let common = |kind: Kind, key: String, title: Option<&str>, text: &str, url: String| {
        let mut doc = TantivyDocument::new();
        let searched = match kind {
            Kind::Section => fields.section_body,
            _ => fields.body,
        };
        doc.add_text(fields.kind, kind.name());
        doc.add_text(fields.key, key);
        doc.add_text(fields.report, &report.id);
        doc.add_text(fields.report_title, &report.meta.title);
        if let Some(title) = title {
            doc.add_text(fields.title, title);
        }
        doc.add_text(searched, text);
        doc.add_text(fields.text, text);
        doc.add_text(fields.url, url);
        doc.add_date(fields.date, day(report.meta.date));
        doc.add_text(fields.severity, &report.meta.severity);
        for s in &report.meta.services {
            doc.add_text(fields.service, s);
        }
        for t in &report.meta.tags {
            doc.add_text(fields.tag, t);
        }
        for t in &report.meta.teams {
            doc.add_text(fields.team, t);
        }
        doc.add_text(fields.status, report.meta.status.name());
        if let Some(response) = report.meta.response {
            doc.add_text(fields.response, response.name());
        }
        doc
    };

    for (section, text) in section_texts(report) {
        let mut doc = common(
            Kind::Section,
            format!("{}#{}", report.id, section.anchor),
            Some(&section.title),
            &text,
            format!("{url}#{}", section.anchor),
        );
        doc.add_text(fields.section, section.kind.name());
        writer.add_document(doc)?;
    }
    writer.add_document(common(
        Kind::Report,
        report.id.clone(),
        Some(title),
        &body,
        url.clone(),
    ))?;
    for lesson in &report.lessons {
        let mut doc = common(
            Kind::Lesson,
            format!("{}#{}", report.id, lesson.anchor),
            None,
            &lesson.text,
            format!("{url}#{}", lesson.anchor),
        );
        if let Some(category) = &lesson.category {
            doc.add_text(fields.category, category);
        }
        writer.add_document(doc)?;
    }
    for action in &report.actions {
        let mut doc = common(
            Kind::Action,
            format!("{}#{}", report.id, action.anchor),
            None,
            &action.text,
            format!("{url}#{}", action.anchor),
        );
        if let Some(owner) = &action.owner {
            doc.add_text(fields.owner, owner);
        }
        if let Some(due) = action.due {
            doc.add_date(fields.due, day(due));
        }
        doc.add_text(fields.state, if action.done { "done" } else { "open" });
        if let Some(ticket) = &action.ticket {
            doc.add_text(fields.ticket, ticket);
        }
        if let Some(kind) = &action.kind {
            doc.add_text(fields.action_type, kind);
        }
        writer.add_document(doc)?;
    }
    Ok(())
}

/// The `title` and `body` of a report's own document. Related reports tokenize the same text
/// to follow an edit before the index has it (`related::Similarity::update`).
pub fn report_text(report: &Report) -> (&str, String) {
    (&report.meta.title, html_text(&report.html))
}

/// A recognised section and its plain text, cut from the report's HTML between its heading
/// and the next heading of the same or a higher level.
fn section_texts(report: &Report) -> Vec<(&crate::model::Section, String)> {
    let html = &report.html;
    let mut out = Vec::new();
    for section in &report.sections {
        let needle = format!(" id=\"{}\">", section.anchor);
        let Some(at) = html.find(&needle) else {
            continue;
        };
        // `<hN id="…">`: the level is the digit before the id.
        let level = html[..at].bytes().last().filter(u8::is_ascii_digit);
        let Some(level) = level else {
            continue;
        };
        // The section's text starts after the heading's closing tag.
        let after = at + needle.len();
        let start = html[after..]
            .find("</h")
            .and_then(|close| {
                html[after + close..]
                    .find('>')
                    .map(|gt| after + close + gt + 1)
            })
            .unwrap_or(after);
        let end = (start..html.len())
            .filter(|&i| html.as_bytes()[i] == b'<')
            .find(|&i| {
                let rest = &html.as_bytes()[i..];
                rest.len() > 2 && rest[1] == b'h' && rest[2].is_ascii_digit() && rest[2] <= level
            })
            .unwrap_or(html.len());
        let text = html_text(&html[start..end]);
        if !text.is_empty() {
            out.push((section, text));
        }
    }
    out
}

/// The text of an HTML fragment: tags dropped (block ends become line breaks), the entities
/// the renderer writes decoded.
pub fn html_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(lt) = rest.find(['<', '&']) {
        out.push_str(&rest[..lt]);
        rest = &rest[lt..];
        if rest.starts_with('<') {
            let end = rest.find('>').map_or(rest.len(), |i| i + 1);
            let tag = &rest[..end];
            if tag.starts_with("</p")
                || tag.starts_with("</li")
                || tag.starts_with("</h")
                || tag.starts_with("</td")
                || tag.starts_with("</th")
                || tag.starts_with("<br")
                || tag.starts_with("</pre")
                || tag.starts_with("</blockquote")
            {
                out.push('\n');
            }
            rest = &rest[end..];
        } else {
            let (entity, len) = [
                ("&amp;", '&'),
                ("&lt;", '<'),
                ("&gt;", '>'),
                ("&quot;", '"'),
                ("&#39;", '\''),
                ("&#x27;", '\''),
            ]
            .iter()
            .find(|(name, _)| rest.starts_with(name))
            .map_or(('&', 1), |(name, c)| (*c, name.len()));
            out.push(entity);
            rest = &rest[len..];
        }
    }
    out.push_str(rest);
    let trimmed: Vec<&str> = out
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    trimmed.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_text_drops_tags_and_decodes_entities() {
        let html = "<h2 id=\"a\">Root &amp; cause</h2>\n<p>The <code>pool</code> &lt;max&gt; was 10.</p><ul><li>one</li><li>two</li></ul>";
        assert_eq!(
            html_text(html),
            "Root & cause\nThe pool <max> was 10.\none\ntwo"
        );
    }

    #[test]
    fn days_round_trip() {
        let date = jiff::civil::date(2024, 1, 26);
        assert_eq!(date_of(day(date)), Some(date));
    }
}
