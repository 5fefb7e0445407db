//! Markdown body → events, headings, sections, sanitised HTML and plain text.
//! The only module that knows pulldown-cmark.
//!
//! The body is parsed once into a vector of events with their byte ranges. Sanitising
//! (escaping raw HTML, dropping `javascript:` links, resolving links between reports) maps
//! that vector one to one, so extraction can cut lessons and actions out of the same indices.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use crate::diagnostic::LineIndex;
use crate::model::{Heading, ROOT_LINK, ReportLink, SectionKind};
use crate::sections::Synonyms;
use crate::slug::{UniqueIds, slugify};

pub(crate) type Spanned<'a> = (Event<'a>, Range<usize>);

/// A parsed body: its events, headings and recognised sections.
pub(crate) struct Document<'a> {
    pub events: Vec<Spanned<'a>>,
    pub headings: Vec<HeadingAt>,
    pub sections: Vec<SectionAt>,
    /// Ids already used on the page (headings); lessons and actions claim theirs from it.
    pub ids: UniqueIds,
}

/// A heading and where its events are.
pub(crate) struct HeadingAt {
    pub start: usize,
    pub end: usize,
    pub level: u8,
    pub title: String,
    pub id: String,
}

/// A recognised section: its heading and the events below it, up to the next heading of the
/// same or a higher level.
pub(crate) struct SectionAt {
    pub kind: SectionKind,
    pub heading: usize,
    pub events: Range<usize>,
}

fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES
}

pub(crate) fn parse<'a>(body: &'a str, synonyms: &Synonyms) -> Document<'a> {
    let events: Vec<Spanned<'a>> = Parser::new_ext(body, options())
        .into_offset_iter()
        .collect();
    let mut ids = UniqueIds::default();
    let mut headings = Vec::new();
    let mut i = 0;
    while i < events.len() {
        if let Event::Start(Tag::Heading { level, id, .. }) = &events[i].0 {
            let end = (i..events.len())
                .find(|&j| matches!(events[j].0, Event::End(TagEnd::Heading(_))))
                .unwrap_or(events.len() - 1);
            let title = collapse_whitespace(&plain_text(&events[i + 1..end]));
            let wanted = match id {
                Some(explicit) => explicit.to_string(),
                None => slugify(&title),
            };
            headings.push(HeadingAt {
                start: i,
                end,
                level: heading_level(*level),
                id: ids.claim(&wanted),
                title,
            });
            i = end;
        }
        i += 1;
    }
    let mut sections = Vec::new();
    for (h, heading) in headings.iter().enumerate() {
        let Some(kind) = synonyms.classify(&heading.title) else {
            continue;
        };
        let end = headings[h + 1..]
            .iter()
            .find(|next| next.level <= heading.level)
            .map_or(events.len(), |next| next.start);
        sections.push(SectionAt {
            kind,
            heading: h,
            events: heading.end + 1..end,
        });
    }
    Document {
        events,
        headings,
        sections,
        ids,
    }
}

fn heading_level(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

/// The text an event contributes to plain text (and to offsets into it).
pub(crate) fn text_of<'e>(event: &'e Event<'_>) -> Option<&'e str> {
    match event {
        Event::Text(t) | Event::Code(t) | Event::InlineMath(t) | Event::DisplayMath(t) => {
            Some(t.as_ref())
        }
        Event::SoftBreak | Event::HardBreak => Some(" "),
        _ => None,
    }
}

/// Plain text of a run of events; blocks are separated by newlines.
pub(crate) fn plain_text(events: &[Spanned<'_>]) -> String {
    let mut out = String::new();
    for (event, _) in events {
        match event {
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::Item
                | TagEnd::TableCell
                | TagEnd::CodeBlock
                | TagEnd::BlockQuote(_),
            ) => out.push('\n'),
            _ => {
                if let Some(t) = text_of(event) {
                    out.push_str(t);
                }
            }
        }
    }
    out
}

pub(crate) fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What the body's position mapping needs: the file, its line index and where the body starts.
pub(crate) struct BodyPlace<'a> {
    pub file: &'a Path,
    pub index: &'a LineIndex<'a>,
    pub body_start: usize,
    /// This report's path relative to `content/`, for resolving relative links.
    pub content_path: &'a str,
}

impl BodyPlace<'_> {
    /// A link found at `range` of the body, with its position for messages.
    fn link(&self, range: &Range<usize>, target: String, fragment: &str) -> ReportLink {
        let (line, column) = self.index.position(self.body_start + range.start);
        let (end_line, end_column) = self.index.position(self.body_start + range.end);
        // A link that wraps onto the next line is underlined by its first character.
        let end_column = if end_line == line {
            end_column
        } else {
            column + 1
        };
        ReportLink {
            line,
            column,
            end_column,
            source_line: self.index.line_text(line).unwrap_or_default().to_string(),
            target,
            fragment: percent_decode(fragment),
        }
    }
}

/// `%20` and the like in a fragment, as a browser decodes them before looking for the id.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_string())
}

/// The events as they will be rendered, one per parsed event (`None` = dropped).
pub(crate) struct Sanitized<'a> {
    pub events: Vec<Option<Event<'a>>>,
    pub links: Vec<ReportLink>,
}

/// Escapes raw HTML (unless `unsafe_html`), drops script links, gives headings their ids and
/// points links to other reports' `.md` files at their pages.
pub(crate) fn sanitize<'a>(
    doc: &Document<'a>,
    place: &BodyPlace<'_>,
    unsafe_html: bool,
) -> Sanitized<'a> {
    let mut events: Vec<Option<Event<'a>>> = Vec::with_capacity(doc.events.len());
    let mut links = Vec::new();
    let heading_ids: HashMap<usize, &str> = doc
        .headings
        .iter()
        .map(|h| (h.start, h.id.as_str()))
        .collect();
    // For each open link or image: whether its end tag is dropped too.
    let mut open_links: Vec<bool> = Vec::new();
    let mut dropped_image_depth = 0usize;
    for (i, (event, range)) in doc.events.iter().enumerate() {
        if dropped_image_depth > 0 {
            match event {
                Event::Start(Tag::Image { .. }) => dropped_image_depth += 1,
                Event::End(TagEnd::Image) => dropped_image_depth -= 1,
                _ => {}
            }
            events.push(None);
            continue;
        }
        let out = match event {
            Event::Start(Tag::Heading {
                level,
                classes,
                attrs,
                ..
            }) => {
                let id = heading_ids.get(&i).map(|id| CowStr::from(id.to_string()));
                Some(Event::Start(Tag::Heading {
                    level: *level,
                    id,
                    classes: classes.clone(),
                    attrs: attrs.clone(),
                }))
            }
            Event::Html(html) | Event::InlineHtml(html) if !unsafe_html => {
                if html.trim_start().starts_with("<!--") {
                    None
                } else {
                    Some(Event::Text(html.clone()))
                }
            }
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                if is_script_url(dest_url) && !unsafe_html {
                    open_links.push(true);
                    None
                } else if let Some(fragment) = dest_url.strip_prefix('#') {
                    links.push(place.link(range, place.content_path.to_string(), fragment));
                    open_links.push(false);
                    Some(event.clone())
                } else if let Some((target, fragment)) = report_target(dest_url, place.content_path)
                {
                    links.push(place.link(
                        range,
                        target.clone(),
                        fragment.strip_prefix('#').unwrap_or_default(),
                    ));
                    open_links.push(false);
                    let page = crate::model::report_url(&report_id_of(&target));
                    Some(Event::Start(Tag::Link {
                        link_type: *link_type,
                        dest_url: format!("{ROOT_LINK}{page}{fragment}").into(),
                        title: title.clone(),
                        id: id.clone(),
                    }))
                } else {
                    open_links.push(false);
                    Some(event.clone())
                }
            }
            Event::End(TagEnd::Link) => {
                if open_links.pop().unwrap_or(false) {
                    None
                } else {
                    Some(event.clone())
                }
            }
            Event::Start(Tag::Image { dest_url, .. })
                if !unsafe_html && is_script_url(dest_url) =>
            {
                dropped_image_depth = 1;
                None
            }
            _ => Some(event.clone()),
        };
        events.push(out);
    }
    Sanitized { events, links }
}

/// `javascript:`, `vbscript:` and `data:` URLs run code or smuggle content; browsers ignore
/// case, whitespace and control characters in the scheme, so this does too.
fn is_script_url(url: &str) -> bool {
    let scheme: String = url
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .take(11)
        .flat_map(char::to_lowercase)
        .collect();
    ["javascript:", "vbscript:", "data:"]
        .iter()
        .any(|s| scheme.starts_with(s))
}

/// For a link to another report's Markdown file: the target relative to `content/` and the
/// fragment (`#…` or empty). `@/path.md` is relative to `content/`, anything else to the file.
pub(crate) fn report_target(dest: &str, from: &str) -> Option<(String, String)> {
    let (path, fragment) = match dest.find('#') {
        Some(i) => (&dest[..i], &dest[i..]),
        None => (dest, ""),
    };
    if !path.ends_with(".md") || path.contains("://") || path.starts_with("mailto:") {
        return None;
    }
    let joined = if let Some(rest) = path.strip_prefix("@/") {
        rest.to_string()
    } else if let Some(rest) = path.strip_prefix('/') {
        rest.to_string()
    } else {
        match from.rfind('/') {
            Some(i) => format!("{}/{}", &from[..i], path),
            None => path.to_string(),
        }
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                // A path that climbs out of content/ is kept as written so it is reported missing.
                if parts.pop().is_none() {
                    return Some((joined.clone(), fragment.to_string()));
                }
            }
            p => parts.push(p),
        }
    }
    Some((parts.join("/"), fragment.to_string()))
}

/// A report's id: the stem of its file.
pub(crate) fn report_id_of(content_path: &str) -> String {
    let name = content_path.rsplit('/').next().unwrap_or(content_path);
    name.strip_suffix(".md").unwrap_or(name).to_string()
}

/// Where lesson and action anchors go in the body.
#[derive(Default)]
pub(crate) struct Anchors {
    /// Event index of a `Start(Item)`, `Start(Paragraph)` or `Start(TableRow)` → id.
    pub at: HashMap<usize, String>,
}

/// The whole body as HTML, with heading ids and lesson and action anchors.
pub(crate) fn render_body(sanitized: &Sanitized<'_>, anchors: &Anchors) -> String {
    let mut out = String::new();
    let mut pending_row_anchor: Option<&str> = None;
    let events = sanitized.events.iter().enumerate().flat_map(|(i, event)| {
        let mut emitted: Vec<Event<'_>> = Vec::with_capacity(2);
        let Some(event) = event else {
            return emitted;
        };
        match (event, anchors.at.get(&i)) {
            (Event::Start(Tag::Item), Some(id)) => {
                emitted.push(Event::Html(format!("<li id=\"{id}\">").into()));
            }
            (Event::Start(Tag::Paragraph), Some(id)) => {
                emitted.push(Event::Html(format!("<p id=\"{id}\">").into()));
            }
            (Event::Start(Tag::TableRow), Some(id)) => {
                pending_row_anchor = Some(id.as_str());
                emitted.push(event.clone());
            }
            (Event::Start(Tag::TableCell), _) => {
                emitted.push(event.clone());
                if let Some(id) = pending_row_anchor.take() {
                    emitted.push(Event::Html(
                        format!("<span class=\"anchor\" id=\"{id}\"></span>").into(),
                    ));
                }
            }
            _ => emitted.push(event.clone()),
        }
        emitted
    });
    pulldown_cmark::html::push_html(&mut out, events);
    out
}

/// Inline HTML of some events (a lesson, an action, a table cell): paragraphs unwrapped.
pub(crate) fn inline_html<'a>(events: impl IntoIterator<Item = Event<'a>>) -> String {
    let mut out = String::new();
    let inline = events.into_iter().filter_map(|e| match e {
        Event::Start(Tag::Paragraph) => None,
        Event::End(TagEnd::Paragraph) => Some(Event::Text(" ".into())),
        Event::TaskListMarker(_) => None,
        other => Some(other),
    });
    pulldown_cmark::html::push_html(&mut out, inline);
    out.trim().to_string()
}

/// The first paragraph of the summary section, or of the body when there is none.
pub(crate) fn summary(doc: &Document<'_>) -> Option<String> {
    let range = doc
        .sections
        .iter()
        .find(|s| s.kind == SectionKind::Summary)
        .map_or(0..doc.events.len(), |s| s.events.clone());
    let start = range
        .clone()
        .find(|&i| matches!(doc.events[i].0, Event::Start(Tag::Paragraph)))?;
    let end =
        (start..range.end).find(|&i| matches!(doc.events[i].0, Event::End(TagEnd::Paragraph)))?;
    let text = collapse_whitespace(&plain_text(&doc.events[start + 1..end]));
    (!text.is_empty()).then_some(text)
}

/// The table of contents: headings below the title level.
pub(crate) fn toc(doc: &Document<'_>) -> Vec<Heading> {
    doc.headings
        .iter()
        .map(|h| Heading {
            level: h.level,
            id: h.id.clone(),
            title: h.title.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(body: &str, unsafe_html: bool) -> (String, Vec<ReportLink>) {
        let doc = parse(body, &Synonyms::default());
        let text = format!("+++\n+++\n{body}");
        let index = LineIndex::new(&text);
        let place = BodyPlace {
            file: Path::new("content/2024/a.md"),
            index: &index,
            body_start: 8,
            content_path: "2024/a.md",
        };
        let sanitized = sanitize(&doc, &place, unsafe_html);
        (
            render_body(&sanitized, &Anchors::default()),
            sanitized.links,
        )
    }

    #[test]
    fn raw_html_is_escaped_by_default() {
        let (html, _) = render(
            "Hi <script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n",
            false,
        );
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
    }

    #[test]
    fn raw_html_is_kept_when_unsafe_html_is_on() {
        let (html, _) = render("<b>bold</b>\n", true);
        assert!(html.contains("<b>bold</b>"), "{html}");
    }

    #[test]
    fn html_comments_are_dropped_not_shown() {
        let (html, _) = render("<!-- guidance for authors -->\n\nText\n", false);
        assert!(!html.contains("guidance"), "{html}");
    }

    #[test]
    fn script_links_lose_their_link_but_keep_their_text() {
        let (html, _) = render(
            "[click](javascript:alert(1)) and [x]( JaVaScRiPt:foo) and ![i](data:text/html;base64,xx)\n",
            false,
        );
        assert!(!html.to_lowercase().contains("javascript"), "{html}");
        assert!(!html.contains("data:"), "{html}");
        assert!(html.contains("click"), "{html}");
    }

    #[test]
    fn links_to_reports_point_at_their_pages() {
        let (html, links) = render(
            "See [the outage](../2023/b.md#impact) and [c](@/2022/c.md).\n",
            false,
        );
        assert!(
            html.contains(&format!("href=\"{ROOT_LINK}reports/b.html#impact\"")),
            "{html}"
        );
        assert!(
            html.contains(&format!("href=\"{ROOT_LINK}reports/c.html\"")),
            "{html}"
        );
        let targets: Vec<&str> = links.iter().map(|l| l.target.as_str()).collect();
        assert_eq!(targets, ["2023/b.md", "2022/c.md"]);
        assert_eq!((links[0].line, links[0].column), (3, 5));
        assert_eq!(
            (links[0].fragment.as_str(), links[1].fragment.as_str()),
            ("impact", "")
        );
    }

    #[test]
    fn links_within_the_page_are_kept_and_recorded() {
        let (html, links) = render(
            "## Root cause

See [below](#root%2Dcause).
",
            false,
        );
        assert!(html.contains("href=\"#root%2Dcause\""), "{html}");
        assert_eq!(links.len(), 1);
        assert_eq!(links[0].target, "2024/a.md");
        assert_eq!(links[0].fragment, "root-cause");
    }

    #[test]
    fn headings_get_unique_ids() {
        let (html, _) = render("## Impact\n\n## Impact\n\n## Custom {#mine}\n", false);
        assert!(html.contains("<h2 id=\"impact\">"), "{html}");
        assert!(html.contains("<h2 id=\"impact-2\">"), "{html}");
        assert!(html.contains("<h2 id=\"mine\">"), "{html}");
    }

    #[test]
    fn sections_run_to_the_next_heading_of_the_same_level() {
        let doc = parse(
            "## 4. Analysis\n\n### 4.3. Corrective Actions\n\n- a\n\n### 4.4. Lessons Learned\n\n- b\n\n## 5. Appendix\n\nc\n",
            &Synonyms::default(),
        );
        let kinds: Vec<SectionKind> = doc.sections.iter().map(|s| s.kind).collect();
        assert_eq!(kinds, [SectionKind::Actions, SectionKind::Lessons]);
        let lessons = &doc.sections[1];
        assert_eq!(plain_text(&doc.events[lessons.events.clone()]).trim(), "b");
    }

    #[test]
    fn relative_targets_resolve_against_the_file() {
        assert_eq!(
            report_target("b.md", "2024/a.md"),
            Some(("2024/b.md".into(), String::new()))
        );
        assert_eq!(
            report_target("./x/../b.md#t", "a.md"),
            Some(("b.md".into(), "#t".into()))
        );
        assert_eq!(report_target("https://x.io/a.md", "a.md"), None);
        assert_eq!(report_target("notes.txt", "a.md"), None);
        assert_eq!(
            report_target("../../b.md", "a.md"),
            Some(("../../b.md".into(), String::new()))
        );
    }
}
