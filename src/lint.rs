//! The warnings about a parsed report's content: what a reviewer of a postmortem would point
//! out (no lessons, actions without owners or overdue, template text left in, blameful
//! wording). They run on the parse's own results, so nothing is parsed twice.

use aho_corasick::{AhoCorasick, MatchKind};
use jiff::civil::Date;
use pulldown_cmark::Event;

use crate::config::Config;
use crate::diagnostic::Diagnostic;
use crate::markdown::{BodyPlace, Document};
use crate::model::{Action, Lesson, SectionKind, Status};

/// What the lints look at: the parse's results for one report.
pub(crate) struct Subject<'a, 'd> {
    pub doc: &'a Document<'d>,
    pub place: &'a BodyPlace<'a>,
    pub body: &'a str,
    pub meta: &'a crate::model::FrontMatter,
    pub lessons: &'a [Lesson],
    pub actions: &'a [Action],
}

pub(crate) fn lint(subject: &Subject<'_, '_>, config: &Config, today: Date) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let on = |rule: &str| !config.rules.is_off(rule);
    // A draft is still being written: a missing section or template text is expected there.
    let finished = subject.meta.status != Status::Draft;
    if finished && on("missing-lessons") {
        missing(subject, &LESSONS, subject.lessons.len(), &mut out);
    }
    if finished && on("missing-actions") {
        missing(subject, &ACTIONS, subject.actions.len(), &mut out);
    }
    if finished && on("action-without-owner") {
        actions_without_owner(subject, &mut out);
    }
    if on("overdue-action") {
        overdue_actions(subject, today, &mut out);
    }
    if on("severity-mismatch") {
        severity_mismatch(subject, &mut out);
    }
    if subject.meta.status == Status::Final && on("placeholder-text") {
        placeholder_text(subject, &mut out);
    }
    if on("blameful-language") {
        blameful_language(subject, &config.blameful_phrases, &mut out);
    }
    out
}

/// A diagnostic at a byte range of the body.
fn at(
    place: &BodyPlace<'_>,
    span: std::ops::Range<usize>,
    rule: &'static str,
    message: String,
) -> Diagnostic {
    let span = place.body_start + span.start..place.body_start + span.end;
    place
        .index
        .diagnostic(place.file, span, rule, message)
        .warning()
}

/// A diagnostic at a heading: its whole line.
fn at_heading(
    subject: &Subject<'_, '_>,
    heading: usize,
    rule: &'static str,
    message: String,
) -> Diagnostic {
    let h = &subject.doc.headings[heading];
    let range = subject.doc.events[h.start].1.clone();
    let line_end = subject.body[range.start..]
        .find('\n')
        .map_or(subject.body.len(), |i| range.start + i);
    at(subject.place, range.start..line_end, rule, message)
}

/// A diagnostic about the report as a whole, at its opening `+++`.
fn at_file(subject: &Subject<'_, '_>, rule: &'static str, message: String) -> Diagnostic {
    subject
        .place
        .index
        .diagnostic(subject.place.file, 0..3, rule, message)
        .warning()
}

fn section_heading(subject: &Subject<'_, '_>, kind: SectionKind) -> Option<usize> {
    subject
        .doc
        .sections
        .iter()
        .find(|s| s.kind == kind)
        .map(|s| s.heading)
}

/// A section a finished report should have, and what to say when it is missing or empty.
struct Expected {
    rule: &'static str,
    kind: SectionKind,
    empty: &'static str,
    absent: &'static str,
    /// How to add the section; the help follows it.
    add: &'static str,
    help: &'static str,
}

const LESSONS: Expected = Expected {
    rule: "missing-lessons",
    kind: SectionKind::Lessons,
    empty: "the lessons section is empty",
    absent: "the report has no lessons section",
    add: "add a section such as `## Lessons learned` (or `## What went well`, `## Takeaways`) and",
    help: "write one list item per lesson: something the next on-call engineer can act on",
};

const ACTIONS: Expected = Expected {
    rule: "missing-actions",
    kind: SectionKind::Actions,
    empty: "the corrective actions section lists no actions",
    absent: "the report has no corrective actions",
    add: "add a section such as `## Corrective actions` and",
    help: "list what will stop this recurring, one item each, e.g. `- [ ] Alert on pool saturation (owner: @sam, due: 2024-03-01)`",
};

/// A warning at the section's heading when it is empty, at the report when it is absent.
fn missing(
    subject: &Subject<'_, '_>,
    expected: &Expected,
    found: usize,
    out: &mut Vec<Diagnostic>,
) {
    if found > 0 {
        return;
    }
    let d = match section_heading(subject, expected.kind) {
        Some(h) => at_heading(subject, h, expected.rule, expected.empty.to_string())
            .with_help(expected.help),
        None => at_file(subject, expected.rule, expected.absent.to_string())
            .with_help(format!("{} {}", expected.add, expected.help)),
    };
    out.push(d);
}

/// Columns of an action's text on its line (from its first words to the end of the line),
/// for the caret.
fn action_span(subject: &Subject<'_, '_>, action: &Action) -> (usize, usize) {
    let Some(line) = subject.place.index.line_text(action.line) else {
        return (1, 1);
    };
    let head: String = action.text.chars().take(12).collect();
    let start = line
        .find(head.as_str())
        .or_else(|| line.find(|c: char| c.is_alphanumeric()))
        .unwrap_or(0);
    let column = line.get(..start).map_or(0, |s| s.chars().count()) + 1;
    let end_column = line.trim_end().chars().count() + 1;
    (column, end_column.max(column + 1))
}

fn action_diagnostic(
    subject: &Subject<'_, '_>,
    action: &Action,
    rule: &'static str,
    message: String,
    help: String,
) -> Diagnostic {
    let (column, end_column) = action_span(subject, action);
    let mut d = Diagnostic::file_error(subject.place.file, rule, message)
        .with_help(help)
        .warning();
    d.line = action.line;
    d.column = column;
    d.end_line = action.line;
    d.end_column = end_column;
    d.source_line = subject
        .place
        .index
        .line_text(action.line)
        .map(str::to_owned);
    d
}

fn actions_without_owner(subject: &Subject<'_, '_>, out: &mut Vec<Diagnostic>) {
    for action in subject
        .actions
        .iter()
        .filter(|a| !a.done && a.owner.is_none())
    {
        out.push(action_diagnostic(
            subject,
            action,
            "action-without-owner",
            "this open action has no owner".to_string(),
            "name who drives it: end the item with `(owner: @handle)`, or fill the Owner column"
                .to_string(),
        ));
    }
}

fn overdue_actions(subject: &Subject<'_, '_>, today: Date, out: &mut Vec<Diagnostic>) {
    for action in subject.actions {
        let (Some(days), Some(due)) = (action.days_overdue(today), action.due) else {
            continue;
        };
        out.push(action_diagnostic(
            subject,
            action,
            "overdue-action",
            format!(
                "this open action is {days} day{} overdue (due {due})",
                if days == 1 { "" } else { "s" }
            ),
            "finish it and tick it off (`- [x]`), or agree a new due date and write it down"
                .to_string(),
        ));
    }
}

/// The text events below a heading, up to the next heading of any level.
fn text_below(doc: &Document<'_>, heading: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    let start = doc.headings[heading].end + 1;
    let end = doc
        .headings
        .get(heading + 1)
        .map_or(doc.events.len(), |next| next.start);
    doc.events[start.min(end)..end]
        .iter()
        .filter(|(event, _)| matches!(event, Event::Text(_)))
        .map(|(_, range)| range.clone())
}

fn severity_mismatch(subject: &Subject<'_, '_>, out: &mut Vec<Diagnostic>) {
    let declared = subject.meta.severity.to_lowercase();
    for (h, heading) in subject.doc.headings.iter().enumerate() {
        let title = crate::sections::normalize(&heading.title);
        if !title.starts_with("severity") {
            continue;
        }
        // The first severity word the section names is the one it states.
        let first = text_below(subject.doc, h).find_map(|range| {
            let text = subject.body.get(range.clone())?;
            let lower = text.to_ascii_lowercase();
            words(&lower)
                .find(|(_, word)| SEVERITY_WORDS.contains(word) || *word == declared)
                .map(|(offset, word)| (range.start + offset, word.to_string()))
        });
        let Some((offset, word)) = first else {
            continue;
        };
        if word == declared {
            continue;
        }
        out.push(
            at(
                subject.place,
                offset..offset + word.len(),
                "severity-mismatch",
                format!(
                    "the severity section says \"{word}\" but the front matter says severity = \"{}\"",
                    subject.meta.severity
                ),
            )
            .with_help("make them agree: the front matter's severity is the one the site files the report under"),
        );
    }
}

/// The severity names a report body is likely to use; compared in lower case.
const SEVERITY_WORDS: [&str; 6] = ["critical", "high", "medium", "low", "major", "minor"];

/// Lower-case ASCII words of a text, with their byte offsets.
fn words(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split(|c: char| !c.is_ascii_alphanumeric() && c != '-')
        .filter(|w| !w.is_empty())
        .map(move |w| (w.as_ptr() as usize - text.as_ptr() as usize, w))
}

/// The body's lines outside fenced code blocks, with their byte offsets in the body.
fn prose_lines(body: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut fence: Option<String> = None;
    let mut offset = 0;
    body.split_inclusive('\n').filter_map(move |raw| {
        let start = offset;
        offset += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        let trimmed = line.trim_start();
        let marker: String = trimmed
            .chars()
            .take_while(|&c| c == '`' || c == '~')
            .collect();
        match &fence {
            Some(open) => {
                if trimmed.starts_with(open.as_str()) && trimmed.trim_end() == marker {
                    fence = None;
                }
                None
            }
            None if marker.len() >= 3
                && (marker.starts_with("```") || marker.starts_with("~~~")) =>
            {
                fence = Some(marker);
                None
            }
            None => Some((start, line)),
        }
    })
}

fn placeholder_text(subject: &Subject<'_, '_>, out: &mut Vec<Diagnostic>) {
    for (start, line) in prose_lines(subject.body) {
        let lower = line.to_ascii_lowercase();
        let found = lower.find("[placeholder").map(|i| {
            let end = line[i..].find(']').map_or(line.len(), |j| i + j + 1);
            (i, end, "placeholder text from the report template")
        });
        let found = found.or_else(|| {
            let item = strip_list_marker(line);
            let i = line.len() - item.len();
            item.starts_with("Example:").then(|| {
                (
                    i,
                    i + "Example:".len(),
                    "an \"Example:\" line from the report template",
                )
            })
        });
        if let Some((from, to, what)) = found {
            out.push(
                at(
                    subject.place,
                    start + from..start + to,
                    "placeholder-text",
                    format!("this final report still has {what}"),
                )
                .with_help("replace it with what happened, or delete it; a report with open questions is status = \"review\""),
            );
        }
    }
}

/// A line without its indentation and list marker (`-`, `*`, `+`, `1.`, `1)`, `[ ]`).
fn strip_list_marker(line: &str) -> &str {
    let mut rest = line.trim_start();
    if let Some(r) = rest.strip_prefix(['-', '*', '+']) {
        rest = r.trim_start();
    } else {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0
            && let Some(r) = rest[digits..].strip_prefix(['.', ')'])
        {
            rest = r.trim_start();
        }
    }
    for box_ in ["[ ]", "[x]", "[X]"] {
        if let Some(r) = rest.strip_prefix(box_) {
            return r.trim_start();
        }
    }
    rest
}

fn blameful_language(subject: &Subject<'_, '_>, phrases: &Phrases, out: &mut Vec<Diagnostic>) {
    let found = phrases.find(subject.body);
    if found.is_empty() {
        return;
    }
    // Code is quoted, not written by the author: skip matches inside fenced blocks.
    for (start, line) in prose_lines(subject.body) {
        let end = start + line.len();
        for (from, to) in found
            .iter()
            .filter(|(from, to)| *from >= start && *to <= end)
            .map(|(from, to)| (from - start, to - start))
        {
            let found = &line[from..to];
            out.push(
                at(
                    subject.place,
                    start + from..start + to,
                    "blameful-language",
                    format!("\"{found}\" puts the blame on people; postmortems are blameless"),
                )
                .with_help("describe the system condition instead: what made the mistake possible and what would have caught it (e.g. \"the deploy script did not check the target environment\")"),
            );
        }
    }
}

/// Phrases to find as whole words, ignoring ASCII case; `'` also matches `’`.
#[derive(Debug, Clone)]
pub struct Phrases {
    list: Vec<String>,
    automaton: Option<AhoCorasick>,
}

impl Phrases {
    pub fn new(list: Vec<String>) -> Phrases {
        let patterns: Vec<String> = list
            .iter()
            .flat_map(|p| [p.clone(), p.replace('\'', "\u{2019}")])
            .filter(|p| !p.is_empty())
            .collect();
        let automaton = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            .build(&patterns)
            .ok();
        Phrases { list, automaton }
    }

    pub fn list(&self) -> &[String] {
        &self.list
    }

    /// Where the phrases occur in a text as whole words, leftmost first, the longest where
    /// two start at the same place ("to blame" rather than "to"). A phrase that starts with a
    /// non-letter (`'s fault`) may follow a word directly.
    pub fn find(&self, line: &str) -> Vec<(usize, usize)> {
        let Some(automaton) = &self.automaton else {
            return Vec::new();
        };
        let is_word = |c: char| c.is_alphanumeric() || c == '-' || c == '_';
        automaton
            .find_iter(line)
            .map(|m| (m.start(), m.end()))
            .filter(|&(from, to)| {
                let phrase = &line[from..to];
                let before_ok = !phrase.starts_with(is_word) || !line[..from].ends_with(is_word);
                let after_ok = !phrase.ends_with(is_word) || !line[to..].starts_with(is_word);
                before_ok && after_ok
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases_match_whole_words_only() {
        let phrases = Phrases::new(
            crate::config::BLAMEFUL_PHRASES
                .iter()
                .map(|s| s.to_string())
                .collect(),
        );
        let find = |text: &str| {
            phrases
                .find(text)
                .into_iter()
                .map(|(a, b)| text[a..b].to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(find("It was Human Error, again."), ["Human Error"]);
        assert_eq!(
            find("We run blameless, blame-free reviews."),
            Vec::<String>::new()
        );
        assert_eq!(
            find("It was Bob's fault and Ann’s fault."),
            ["'s fault", "’s fault"]
        );
        assert_eq!(find("Nobody is to blame."), ["to blame"]);
        assert_eq!(
            find("A careless deploy; carelessness."),
            ["careless", "carelessness"]
        );
    }

    #[test]
    fn code_fences_are_not_prose() {
        let body = "Text\n```\nblame()\n```\nMore\n~~~~\nx\n~~~~\nEnd\n";
        let lines: Vec<&str> = prose_lines(body).map(|(_, l)| l).collect();
        assert_eq!(lines, ["Text", "More", "End"]);
        let (offset, _) = prose_lines(body).nth(1).expect("line");
        assert_eq!(&body[offset..offset + 4], "More");
    }

    #[test]
    fn list_markers_are_stripped() {
        assert_eq!(strip_list_marker("  - [ ] Example: x"), "Example: x");
        assert_eq!(strip_list_marker("12) Example:"), "Example:");
        assert_eq!(strip_list_marker("Example:"), "Example:");
    }
}
