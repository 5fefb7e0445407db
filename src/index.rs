//! The model → one tantivy index of reports (with where their sections are), lessons and
//! actions. `rollbook build` writes it into the output (`search/index/`), where `rollbook
//! search`, related reports and the browser search read it.
//! Its schema is in `rollbook_search::schema`.

use std::ops::Range;
use std::path::Path;

use tantivy::{Index, IndexWriter, Searcher, TantivyDocument, Term};

use crate::model::{Report, Section};

pub use rollbook_search::schema::{EXACT_FIELDS, Fields, Kind, SectionSpan, date_of, day};
use rollbook_search::schema::{SECTIONS, section_value};

/// Where the index lives, relative to the output directory.
pub const DIR: &str = "search/index";

/// Memory the writer may use before it flushes a segment, shared by its threads. The build's
/// peak memory is while rendering, after the writer is gone; this keeps indexing below it.
const WRITER_BUDGET: usize = 40 * 1024 * 1024;

/// How many reports' documents the writer is given before it must have indexed them.
const REPORTS_PER_COMMIT: usize = 1000;

/// Creates a fresh index in `dir` (which must be empty or missing) with every report.
pub fn create(dir: &Path, reports: &[Report]) -> tantivy::Result<()> {
    let (mut writer, segments) = write_segments(dir, reports)?;
    let merging = merge(&mut writer, &segments);
    finish(writer, merging)
}

/// [`create`], calling `meanwhile` with a searcher over the index's segments while they are
/// merged into one. The merge runs on one thread and the other cores would wait for it; the
/// searcher holds the same documents as the merged index, in more segments (their files stay
/// readable once the merge has deleted them: they are open).
pub fn create_then<R>(
    dir: &Path,
    reports: &[Report],
    meanwhile: impl FnOnce(&Searcher) -> tantivy::Result<R>,
) -> tantivy::Result<R> {
    let (mut writer, segments) = write_segments(dir, reports)?;
    // Opened before the merge starts, so that no segment it reads is deleted before it is open.
    let searcher = searcher(writer.index())?;
    // The writer's segments' memory, before the merge and `meanwhile` allocate theirs.
    crate::memory::release_freed();
    let merging = merge(&mut writer, &segments);
    let result = meanwhile(&searcher);
    finish(writer, merging)?;
    result
}

/// A searcher over `index` as it is now (it does not reload).
pub fn searcher(index: &Index) -> tantivy::Result<Searcher> {
    let reader: tantivy::IndexReader = index
        .reader_builder()
        .reload_policy(tantivy::ReloadPolicy::Manual)
        .try_into()?;
    Ok(reader.searcher())
}

/// A new index in `dir` with every report's documents, committed; its writer and its
/// segments, in the order they were written.
fn write_segments(
    dir: &Path,
    reports: &[Report],
) -> tantivy::Result<(IndexWriter, Vec<tantivy::index::SegmentId>)> {
    std::fs::create_dir_all(dir)?;
    let (schema, fields) = Fields::schema();
    let index = Index::create_in_dir(dir, schema)?;
    crate::analyzer::register(&index);
    let mut writer = writer(&index)?;
    // Merging while indexing raised the build's peak memory by 60-90 MB; one merge at the end
    // costs less.
    writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
    // Reports first, then lessons and actions. The browser then reads much less for a query:
    // a word's postings in reports are one dense run of document numbers, and the `title`
    // norms of the documents without a title one run of zeros, which compress to nothing.
    // A commit every so many reports: the writer queues up to 10,000 documents, and as many
    // reports (their text twice: indexed and stored) would take 100 MB more.
    // The segments in the order they were written, which the merge keeps.
    let mut segments = Vec::new();
    let mut commit = |writer: &mut IndexWriter| -> tantivy::Result<()> {
        writer.commit()?;
        for id in index.searchable_segment_ids()? {
            if !segments.contains(&id) {
                segments.push(id);
            }
        }
        Ok(())
    };
    for batch in reports.chunks(REPORTS_PER_COMMIT) {
        for report in batch {
            add_report_document(&writer, &fields, report)?;
        }
        commit(&mut writer)?;
    }
    for report in reports {
        add_lessons_and_actions(&writer, &fields, report)?;
    }
    commit(&mut writer)?;
    Ok((writer, segments))
}

/// A merge under way, and the segment it will write.
type Merging = tantivy::FutureResult<Option<tantivy::SegmentMeta>>;

/// Starts merging `segments` into one, if there are several. One segment: the browser fetches
/// each segment's dictionaries, norms and postings separately, so a query over several costs
/// a request and a block per segment per word.
fn merge(writer: &mut IndexWriter, segments: &[tantivy::index::SegmentId]) -> Option<Merging> {
    (segments.len() > 1).then(|| writer.merge(segments))
}

/// Waits for the merge [`merge`] started, if any, and for the writer's threads.
fn finish(writer: IndexWriter, merging: Option<Merging>) -> tantivy::Result<()> {
    if let Some(merging) = merging {
        merging.wait()?;
    }
    writer.wait_merging_threads()
}

pub fn writer(index: &Index) -> tantivy::Result<IndexWriter> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 4));
    index.writer_with_num_threads(threads, WRITER_BUDGET.max(threads * 16 * 1024 * 1024))
}

/// Removes every document of a report (before re-adding it, or when its file is gone).
pub fn delete_report(writer: &IndexWriter, fields: &Fields, id: &str) {
    writer.delete_term(Term::from_field_text(fields.report, id));
}

/// Adds a report's documents: the report (with where its sections are in its text), each
/// lesson and action. The writer's threads tokenize the text.
pub fn add_report(writer: &IndexWriter, fields: &Fields, report: &Report) -> tantivy::Result<()> {
    add_report_document(writer, fields, report)?;
    add_lessons_and_actions(writer, fields, report)
}

/// Adds the report's own document.
fn add_report_document(
    writer: &IndexWriter,
    fields: &Fields,
    report: &Report,
) -> tantivy::Result<()> {
    let ReportText { body, sections } = report_body(report);
    let mut doc = document(
        fields,
        report,
        Kind::Report,
        report.id.clone(),
        Some(&report.meta.title),
        &body,
        report.url(),
    );
    // A word's position is its index among the body's words, as the analyzer's tokenizer
    // numbers them (its filters drop words but keep the others' positions).
    let words = word_starts(&body);
    let position = |offset: usize| words.partition_point(|&w| w < offset) as u32;
    let mut kinds = Vec::new();
    for span in &sections {
        let Some(kind) = SECTIONS.iter().position(|k| *k == span.kind) else {
            continue;
        };
        let positions = position(span.range.start)..position(span.range.end);
        doc.add_u64(fields.section_positions, section_value(kind, positions));
        doc.add_text(fields.section_spans, span.to_stored());
        if !kinds.contains(&span.kind) {
            doc.add_text(fields.section, &span.kind);
            kinds.push(span.kind.clone());
        }
    }
    writer.add_document(doc)?;
    Ok(())
}

/// Adds a document for each of the report's lessons and actions. A lesson or action has no
/// title but its text, which is its body: indexed twice, it would count twice and cost every
/// query its postings and norms in both fields.
fn add_lessons_and_actions(
    writer: &IndexWriter,
    fields: &Fields,
    report: &Report,
) -> tantivy::Result<()> {
    let url = report.url();
    for lesson in &report.lessons {
        let mut doc = document(
            fields,
            report,
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
        let mut doc = document(
            fields,
            report,
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

/// Where each word of `text` starts, as the analyzer's tokenizer (tantivy's `SimpleTokenizer`)
/// finds words: runs of alphanumeric characters. Read a byte at a time where it is ASCII;
/// the tokenizer itself copies out every word, which took a third of a second at 10,000
/// reports, on the thread that feeds the writer.
fn word_starts(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut starts = Vec::with_capacity(text.len() / 6);
    let mut in_word = false;
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        let (len, alphanumeric) = match byte {
            b if b.is_ascii() => (1, b.is_ascii_alphanumeric()),
            _ => text[at..]
                .chars()
                .next()
                .map_or((1, false), |c| (c.len_utf8(), c.is_alphanumeric())),
        };
        if alphanumeric && !in_word {
            starts.push(at);
        }
        in_word = alphanumeric;
        at += len;
    }
    starts
}

/// A document with what every kind carries: its report's id, title, url, date, severity,
/// services, tags, teams, status and response.
fn document(
    fields: &Fields,
    report: &Report,
    kind: Kind,
    key: String,
    title: Option<&str>,
    text: &str,
    url: String,
) -> TantivyDocument {
    let mut doc = TantivyDocument::new();
    doc.add_text(fields.kind, kind.name());
    doc.add_text(fields.key, key);
    doc.add_text(fields.report, &report.id);
    doc.add_text(fields.report_title, &report.meta.title);
    if let Some(title) = title {
        doc.add_text(fields.title, title);
    }
    doc.add_text(fields.body, text);
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
}

/// The `title` and `body` of a report's own document. Related reports tokenize the same text
/// to follow an edit before the index has it (`related::Similarity::update`).
pub fn report_text(report: &Report) -> (&str, String) {
    (&report.meta.title, report_body(report).body)
}

/// A report's plain text, and where each recognised section is in it.
pub struct ReportText {
    pub body: String,
    pub sections: Vec<SectionSpan>,
}

/// The plain text of a report's HTML, and its recognised sections' places in it: a section
/// runs from the end of its heading to the next heading of the same or a higher level. The
/// HTML is cut where sections start and end, and the pieces' text joined by line breaks, as
/// [`html_text`] would join them.
pub fn report_body(report: &Report) -> ReportText {
    text_and_sections(&report.html, &report.sections)
}

fn text_and_sections(html: &str, sections: &[Section]) -> ReportText {
    // Sections are in the order of their headings (as parsing found them): each is looked for
    // after the one before, which reads the HTML once, not once per section.
    let mut from = 0;
    let places: Vec<(&Section, Range<usize>)> = sections
        .iter()
        .filter_map(|section| {
            let place = section_place(html, from, &section.anchor)?;
            from = place.start;
            Some((section, place))
        })
        .collect();
    let mut cuts: Vec<usize> = places
        .iter()
        .flat_map(|(_, place)| [place.start, place.end])
        .chain([0, html.len()])
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    // The text's offset where each cut's piece starts, and where the piece before it ends.
    let mut body = String::with_capacity(html.len());
    let mut starts = Vec::with_capacity(cuts.len());
    let mut ends = Vec::with_capacity(cuts.len());
    for pair in cuts.windows(2) {
        ends.push(body.len());
        let piece = html_text(&html[pair[0]..pair[1]]);
        if !piece.is_empty() && !body.is_empty() {
            body.push('\n');
        }
        starts.push(body.len());
        body.push_str(&piece);
    }
    ends.push(body.len());
    let at = |offset: usize| cuts.binary_search(&offset).unwrap_or(0);
    let sections = places
        .into_iter()
        .filter_map(|(section, place)| {
            let mut range = starts.get(at(place.start)).copied()?..ends[at(place.end)];
            // A piece with no text before the section's first leaves the line break.
            while body[range.clone()].starts_with('\n') {
                range.start += 1;
            }
            (range.start < range.end).then(|| SectionSpan {
                kind: section.kind.name().to_string(),
                range,
                anchor: section.anchor.clone(),
                title: section.title.clone(),
            })
        })
        .collect();
    ReportText { body, sections }
}

/// Where a section's content is in the report's HTML: after its heading's closing tag, up to
/// the next heading of the same or a higher level (or the end). None if the heading is not
/// there, at or after byte `from`.
fn section_place(html: &str, from: usize, anchor: &str) -> Option<Range<usize>> {
    let needle = format!(" id=\"{anchor}\">");
    let at = from + html.get(from..)?.find(&needle)?;
    // `<hN id="…">`: the level is the digit before the id.
    let level = *html.as_bytes()[..at]
        .last()
        .filter(|b| b.is_ascii_digit())?;
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
    Some(start..end)
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
    fn sections_are_ranges_of_the_report_text() {
        use crate::model::SectionKind;
        let html = "<p>Intro.</p>\n<h2 id=\"summary\">Summary</h2>\n<p>Pool ran dry.</p>\n\
            <h2 id=\"root-cause\">Root cause</h2>\n<p>The <code>pool</code> was 10.</p>\n\
            <h3 id=\"trigger\">Trigger</h3><ul><li>a deploy</li></ul>\n\
            <h2 id=\"other\">Other</h2><p>Unrecognised.</p><h2 id=\"empty\">Empty</h2>";
        let section = |kind, title: &str, anchor: &str| Section {
            kind,
            title: title.to_string(),
            anchor: anchor.to_string(),
        };
        let sections = [
            section(SectionKind::Summary, "Summary", "summary"),
            section(SectionKind::RootCause, "Root cause", "root-cause"),
            section(SectionKind::Trigger, "Trigger", "trigger"),
            section(SectionKind::Impact, "Empty", "empty"),
            section(SectionKind::Impact, "Missing", "missing"),
        ];
        let ReportText { body, sections } = text_and_sections(html, &sections);
        assert_eq!(body, html_text(html));
        let texts: Vec<(&str, &str)> = sections
            .iter()
            .map(|s| (s.kind.as_str(), &body[s.range.clone()]))
            .collect();
        assert_eq!(
            texts,
            [
                ("summary", "Pool ran dry."),
                // A section holds its subsections, headings and all.
                ("root_cause", "The pool was 10.\nTrigger\na deploy"),
                ("trigger", "a deploy"),
            ]
        );
        assert_eq!(sections[1].anchor, "root-cause");
        assert_eq!(sections[1].title, "Root cause");
    }

    #[test]
    fn words_start_where_the_tokenizer_starts_them() {
        use tantivy::tokenizer::{SimpleTokenizer, TokenStream, Tokenizer};
        for text in [
            "",
            "one",
            " The pool, 10×\nÜberlastung—don’t a_b ünï café 日本語 ß2 x",
        ] {
            let mut tokenizer = SimpleTokenizer::default();
            let mut stream = tokenizer.token_stream(text);
            let mut expected = Vec::new();
            while stream.advance() {
                expected.push(stream.token().offset_from);
            }
            assert_eq!(word_starts(text), expected, "{text:?}");
        }
    }

    #[test]
    fn days_round_trip() {
        let date = jiff::civil::date(2024, 1, 26);
        assert_eq!(date_of(day(date)), Some(date));
    }
}
