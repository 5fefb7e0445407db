//! Lessons and corrective actions out of a report's lessons and actions sections.
//!
//! Lessons: every list item (nested too; a parent that only labels its children becomes
//! their category), sub-headings and label paragraphs as categories, "What went well: …"
//! prefixes as categories, or one lesson per paragraph when the section has no list.
//! Actions: every list item or table row, with status from the task box or a Status column
//! and owner, due, ticket, type and priority from a trailing `(key: value, …)` or columns.

use std::collections::HashMap;
use std::ops::Range;

use pulldown_cmark::{Event, Tag, TagEnd};

use crate::diagnostic::Diagnostic;
use crate::fields::parse_date;
use crate::markdown::{
    Anchors, BodyPlace, Document, Sanitized, collapse_whitespace, inline_html, plain_text, text_of,
};
use crate::model::{Action, Lesson, SectionKind};
use crate::sections::strip_numbering;
use crate::slug::short_slug;

pub(crate) struct Extracted {
    pub lessons: Vec<Lesson>,
    pub actions: Vec<Action>,
    pub anchors: Anchors,
    pub diagnostics: Vec<Diagnostic>,
}

pub(crate) fn extract(
    doc: &mut Document<'_>,
    sanitized: &Sanitized<'_>,
    place: &BodyPlace<'_>,
) -> Extracted {
    let ends = matching_ends(&doc.events);
    let (mut out, ids) = {
        let mut walker = Walker {
            doc: &*doc,
            sanitized,
            place,
            ends,
            out: Extracted {
                lessons: Vec::new(),
                actions: Vec::new(),
                anchors: Anchors::default(),
                diagnostics: Vec::new(),
            },
            ids: Vec::new(),
        };
        walker.run();
        (walker.out, walker.ids)
    };
    // Claimed after the walk, from the page's ids, so that heading ids keep precedence.
    for pending in ids {
        let id = doc.ids.claim(&pending.wanted);
        out.anchors.at.insert(pending.event, id.clone());
        match pending.kind {
            Kind::Lesson => out.lessons[pending.index].anchor = id,
            Kind::Action => out.actions[pending.index].anchor = id,
        }
    }
    out
}

/// For every `Start` event, the index of its matching `End`.
fn matching_ends(events: &[crate::markdown::Spanned<'_>]) -> HashMap<usize, usize> {
    let mut ends = HashMap::new();
    let mut stack = Vec::new();
    for (i, (event, _)) in events.iter().enumerate() {
        match event {
            Event::Start(_) => stack.push(i),
            Event::End(_) => {
                if let Some(start) = stack.pop() {
                    ends.insert(start, i);
                }
            }
            _ => {}
        }
    }
    ends
}

#[derive(Clone, Copy)]
enum Kind {
    Lesson,
    Action,
}

struct Walker<'w, 'a> {
    doc: &'w Document<'a>,
    sanitized: &'w Sanitized<'a>,
    place: &'w BodyPlace<'w>,
    ends: HashMap<usize, usize>,
    out: Extracted,
    ids: Vec<PendingId>,
}

/// An anchor to claim once walking is done.
struct PendingId {
    kind: Kind,
    /// Index into the lessons or actions.
    index: usize,
    /// The event the anchor goes on.
    event: usize,
    wanted: String,
}

/// An item's own events (without nested lists) and its nested lists.
struct ItemParts {
    own: Vec<usize>,
    nested: Vec<usize>,
    checked: Option<bool>,
}

impl<'w, 'a> Walker<'w, 'a> {
    fn run(&mut self) {
        let mut done: Vec<(SectionKind, Range<usize>)> = Vec::new();
        let sections: Vec<(SectionKind, Range<usize>, usize)> = self
            .doc
            .sections
            .iter()
            .map(|s| (s.kind, s.events.clone(), s.heading))
            .collect();
        for (kind, range, _) in &sections {
            if !matches!(kind, SectionKind::Lessons | SectionKind::Actions) {
                continue;
            }
            if done
                .iter()
                .any(|(k, r)| k == kind && r.start <= range.start && range.end <= r.end)
            {
                continue;
            }
            // Sub-sections of another kind (an "Action items" heading inside "Lessons") are
            // theirs, not this section's.
            let excluded: Vec<Range<usize>> = sections
                .iter()
                .filter(|(k, r, _)| k != kind && range.start <= r.start && r.end <= range.end)
                .map(|(_, r, h)| self.doc.headings[*h].start..r.end)
                .collect();
            match kind {
                SectionKind::Lessons => self.lessons_section(range.clone(), &excluded),
                _ => self.actions_section(range.clone(), &excluded),
            }
            done.push((*kind, range.clone()));
        }
    }

    fn end_of(&self, start: usize) -> usize {
        self.ends.get(&start).copied().unwrap_or(start)
    }

    fn event(&self, i: usize) -> &Event<'a> {
        &self.doc.events[i].0
    }

    fn line_of(&self, i: usize) -> usize {
        self.place
            .index
            .position(self.place.body_start + self.doc.events[i].1.start)
            .0
    }

    fn heading_title_at(&self, i: usize) -> Option<String> {
        self.doc
            .headings
            .iter()
            .find(|h| h.start == i)
            .map(|h| clean_label(&h.title))
    }

    // ---- lessons -------------------------------------------------------------------------

    fn lessons_section(&mut self, range: Range<usize>, excluded: &[Range<usize>]) {
        let mut category: Option<String> = None;
        let mut paragraphs: Vec<(usize, Option<String>)> = Vec::new();
        let before = self.out.lessons.len();
        let mut i = range.start;
        while i < range.end {
            if let Some(skip) = excluded.iter().find(|r| r.contains(&i)) {
                i = skip.end;
                continue;
            }
            match self.event(i) {
                Event::Start(Tag::Heading { .. }) => {
                    category = self.heading_title_at(i).filter(|t| !t.is_empty());
                    i = self.end_of(i) + 1;
                }
                Event::Start(Tag::Paragraph) => {
                    let end = self.end_of(i);
                    let own: Vec<usize> = (i + 1..end).collect();
                    match self.label_of(&own) {
                        Some(label) => category = Some(label),
                        None => paragraphs.push((i, category.clone())),
                    }
                    i = end + 1;
                }
                Event::Start(Tag::List(_)) => {
                    let end = self.end_of(i);
                    self.lesson_list(i, end, category.clone());
                    i = end + 1;
                }
                Event::Start(_) => i = self.end_of(i) + 1,
                _ => i += 1,
            }
        }
        if self.out.lessons.len() == before {
            for (start, category) in paragraphs {
                let end = self.end_of(start);
                let own: Vec<usize> = (start + 1..end).collect();
                self.push_lesson(start, &own, category);
            }
        }
    }

    fn lesson_list(&mut self, start: usize, end: usize, category: Option<String>) {
        for item in self.items(start, end) {
            let parts = self.item_parts(item);
            if !parts.nested.is_empty()
                && let Some(label) = self.label_of(&parts.own)
            {
                for list in parts.nested {
                    let list_end = self.end_of(list);
                    self.lesson_list(list, list_end, Some(label.clone()));
                }
                continue;
            }
            let own_category = self.push_lesson(item, &parts.own, category.clone());
            for list in parts.nested {
                let list_end = self.end_of(list);
                self.lesson_list(list, list_end, own_category.clone());
            }
        }
    }

    /// Adds one lesson; returns the category it ended up with.
    fn push_lesson(
        &mut self,
        start: usize,
        own: &[usize],
        category: Option<String>,
    ) -> Option<String> {
        let raw = self.raw_text(own);
        let first = own
            .iter()
            .map(|&i| self.event(i))
            .find(|e| !matches!(e, Event::Start(Tag::Paragraph)));
        let (category, cut) = match leading_label(&raw, first) {
            Some((label, cut)) => (Some(label), cut),
            None => (category, 0),
        };
        let text = collapse_whitespace(&raw[cut..]);
        if text.is_empty() {
            return category;
        }
        let html = self.cut_html(own, cut..raw.len());
        self.ids.push(PendingId {
            kind: Kind::Lesson,
            index: self.out.lessons.len(),
            event: start,
            wanted: format!("lesson-{}", short_slug(&text, 6)),
        });
        self.out.lessons.push(Lesson {
            anchor: String::new(),
            text,
            html,
            category: category.clone(),
            line: self.line_of(start),
        });
        category
    }

    // ---- actions -------------------------------------------------------------------------

    fn actions_section(&mut self, range: Range<usize>, excluded: &[Range<usize>]) {
        let mut kind: Option<String> = None;
        let mut i = range.start;
        while i < range.end {
            if let Some(skip) = excluded.iter().find(|r| r.contains(&i)) {
                i = skip.end;
                continue;
            }
            match self.event(i) {
                Event::Start(Tag::Heading { .. }) => {
                    kind = self.heading_title_at(i).and_then(|t| action_type(&t));
                    i = self.end_of(i) + 1;
                }
                Event::Start(Tag::Paragraph) => {
                    let end = self.end_of(i);
                    let own: Vec<usize> = (i + 1..end).collect();
                    if let Some(label) = self.label_of(&own) {
                        kind = action_type(&label);
                    }
                    i = end + 1;
                }
                Event::Start(Tag::List(_)) => {
                    let end = self.end_of(i);
                    self.action_list(i, end, kind.clone());
                    i = end + 1;
                }
                Event::Start(Tag::Table(_)) => {
                    let end = self.end_of(i);
                    self.action_table(i, end, kind.clone());
                    i = end + 1;
                }
                Event::Start(_) => i = self.end_of(i) + 1,
                _ => i += 1,
            }
        }
    }

    fn action_list(&mut self, start: usize, end: usize, kind: Option<String>) {
        for item in self.items(start, end) {
            let parts = self.item_parts(item);
            if !parts.nested.is_empty()
                && let Some(label) = self.label_of(&parts.own)
            {
                let kind = action_type(&label).or_else(|| kind.clone());
                for list in parts.nested {
                    let list_end = self.end_of(list);
                    self.action_list(list, list_end, kind.clone());
                }
                continue;
            }
            let raw = self.raw_text(&parts.own);
            let (cut, meta) = match trailing_metadata(&raw) {
                Some((cut, meta)) => (cut, meta),
                None => (raw.len(), Metadata::default()),
            };
            let text = trim_separators(&collapse_whitespace(&raw[..cut]));
            if !text.is_empty() {
                if let Some(due) = &meta.bad_due {
                    self.warn_due(item, due);
                }
                let html = self.cut_html(&parts.own, 0..cut);
                let done =
                    parts.checked.unwrap_or(false) || meta.status.as_deref().is_some_and(is_done);
                let fields = ActionFields {
                    text,
                    html,
                    owner: meta.owner,
                    due: meta.due,
                    done,
                    ticket: meta.ticket,
                    kind: meta
                        .kind
                        .map(|k| normalize_type(&k))
                        .or_else(|| kind.clone()),
                    priority: meta.priority,
                };
                self.push_action(item, fields);
            }
            for list in parts.nested {
                let list_end = self.end_of(list);
                self.action_list(list, list_end, kind.clone());
            }
        }
    }

    fn action_table(&mut self, start: usize, end: usize, kind: Option<String>) {
        let mut header: Vec<Column> = Vec::new();
        let mut i = start + 1;
        while i < end {
            match self.event(i) {
                Event::Start(Tag::TableHead) => {
                    let head_end = self.end_of(i);
                    header = self
                        .cells(i, head_end)
                        .iter()
                        .map(|&cell| {
                            column_of(&collapse_whitespace(&plain_text(
                                &self.doc.events[cell + 1..self.end_of(cell)],
                            )))
                        })
                        .collect();
                    i = head_end + 1;
                }
                Event::Start(Tag::TableRow) => {
                    let row_end = self.end_of(i);
                    self.action_row(i, row_end, &header, kind.clone());
                    i = row_end + 1;
                }
                _ => i += 1,
            }
        }
    }

    fn action_row(&mut self, row: usize, row_end: usize, header: &[Column], kind: Option<String>) {
        let cells = self.cells(row, row_end);
        let text_column = header
            .iter()
            .position(|c| *c == Column::Text)
            .or_else(|| header.iter().position(|c| *c == Column::Other))
            .unwrap_or(0);
        let mut fields = ActionFields::default();
        let mut status: Option<String> = None;
        let mut due_text: Option<String> = None;
        for (n, &cell) in cells.iter().enumerate() {
            let cell_end = self.end_of(cell);
            let own: Vec<usize> = (cell + 1..cell_end).collect();
            let value = collapse_whitespace(&self.raw_text(&own));
            if n == text_column {
                let raw = self.raw_text(&own);
                let (cut, meta) =
                    trailing_metadata(&raw).unwrap_or((raw.len(), Metadata::default()));
                fields.text = trim_separators(&collapse_whitespace(&raw[..cut]));
                fields.html = self.cut_html(&own, 0..cut);
                fields.owner = meta.owner;
                fields.ticket = meta.ticket;
                fields.priority = meta.priority;
                fields.kind = meta.kind.map(|k| normalize_type(&k));
                due_text = meta.due.map(|d| d.to_string()).or(meta.bad_due);
                status = meta.status;
                continue;
            }
            if is_empty_cell(&value) {
                continue;
            }
            match header.get(n) {
                Some(Column::Owner) => fields.owner = Some(value),
                Some(Column::Due) => due_text = Some(value),
                Some(Column::Status) => status = Some(value),
                Some(Column::Ticket) => fields.ticket = Some(value),
                Some(Column::Type) => fields.kind = Some(normalize_type(&value)),
                Some(Column::Priority) => fields.priority = Some(value),
                _ => {}
            }
        }
        if fields.text.is_empty() {
            return;
        }
        if let Some(due) = due_text {
            fields.due = parse_date(&due);
            if fields.due.is_none() && !is_empty_cell(&due) {
                self.warn_due(row, &due);
            }
        }
        fields.done = status.as_deref().is_some_and(is_done);
        fields.kind = fields.kind.or(kind);
        self.push_action(row, fields);
    }

    fn warn_due(&mut self, at: usize, due: &str) {
        let offset = self.place.body_start + self.doc.events[at].1.start;
        let d = self
            .place
            .index
            .diagnostic(
                self.place.file,
                offset..offset,
                "action-due-date",
                format!("the due date \"{due}\" is not a date; the action is kept without one"),
            )
            .with_help("write due dates as YYYY-MM-DD, e.g. due: 2024-02-15")
            .warning();
        self.out.diagnostics.push(d);
    }

    fn push_action(&mut self, start: usize, fields: ActionFields) {
        self.ids.push(PendingId {
            kind: Kind::Action,
            index: self.out.actions.len(),
            event: start,
            wanted: format!("action-{}", short_slug(&fields.text, 6)),
        });
        self.out.actions.push(Action {
            anchor: String::new(),
            text: fields.text,
            html: fields.html,
            owner: fields.owner,
            due: fields.due,
            done: fields.done,
            ticket: fields.ticket,
            kind: fields.kind,
            priority: fields.priority,
            line: self.line_of(start),
        });
    }

    // ---- structure helpers ---------------------------------------------------------------

    /// The `Start(Item)` indices directly inside a list.
    fn items(&self, list: usize, list_end: usize) -> Vec<usize> {
        let mut items = Vec::new();
        let mut i = list + 1;
        while i < list_end {
            if matches!(self.event(i), Event::Start(Tag::Item)) {
                items.push(i);
                i = self.end_of(i) + 1;
            } else {
                i += 1;
            }
        }
        items
    }

    /// The `Start(TableCell)` indices directly inside a row or the head.
    fn cells(&self, row: usize, row_end: usize) -> Vec<usize> {
        let mut cells = Vec::new();
        let mut i = row + 1;
        while i < row_end {
            if matches!(self.event(i), Event::Start(Tag::TableCell)) {
                cells.push(i);
                i = self.end_of(i) + 1;
            } else {
                i += 1;
            }
        }
        cells
    }

    fn item_parts(&self, item: usize) -> ItemParts {
        let end = self.end_of(item);
        let mut parts = ItemParts {
            own: Vec::new(),
            nested: Vec::new(),
            checked: None,
        };
        let mut i = item + 1;
        while i < end {
            match self.event(i) {
                Event::Start(Tag::List(_)) => {
                    parts.nested.push(i);
                    i = self.end_of(i) + 1;
                    continue;
                }
                Event::TaskListMarker(checked) => parts.checked = Some(*checked),
                _ => parts.own.push(i),
            }
            i += 1;
        }
        parts
    }

    fn raw_text(&self, own: &[usize]) -> String {
        own.iter().filter_map(|&i| text_of(self.event(i))).collect()
    }

    /// The label text if these events only label what follows: short text ending in a colon,
    /// or nothing but bold text.
    fn label_of(&self, own: &[usize]) -> Option<String> {
        let raw = self.raw_text(own);
        let text = collapse_whitespace(&raw);
        if text.is_empty() || text.split(' ').count() > 8 {
            return None;
        }
        if text.ends_with(':') {
            return Some(clean_label(&text));
        }
        let content: Vec<&Event<'_>> = own
            .iter()
            .map(|&i| self.event(i))
            .filter(|e| {
                !matches!(
                    e,
                    Event::Start(Tag::Paragraph) | Event::End(TagEnd::Paragraph)
                )
            })
            .collect();
        let all_bold = matches!(content.first(), Some(Event::Start(Tag::Strong)))
            && matches!(content.last(), Some(Event::End(TagEnd::Strong)))
            && content
                .iter()
                .filter(|e| matches!(e, Event::Start(Tag::Strong)))
                .count()
                == 1;
        (all_bold && text.split(' ').count() <= 6).then(|| clean_label(&text))
    }

    /// Inline HTML of `own` keeping only the text in `keep` (byte offsets into its raw text);
    /// tags open across a cut are opened or closed so the HTML stays balanced.
    fn cut_html(&self, own: &[usize], keep: Range<usize>) -> String {
        let mut out: Vec<Event<'a>> = Vec::new();
        let mut stack: Vec<(Event<'a>, bool)> = Vec::new();
        let mut pos = 0usize;
        let flush = |stack: &mut Vec<(Event<'a>, bool)>, out: &mut Vec<Event<'a>>| {
            for (start, emitted) in stack.iter_mut() {
                if !*emitted {
                    out.push(start.clone());
                    *emitted = true;
                }
            }
        };
        for &i in own {
            let original = self.event(i);
            let Some(safe) = &self.sanitized.events[i] else {
                continue;
            };
            let len = text_of(original).map_or(0, str::len);
            match safe {
                Event::Start(_) => stack.push((safe.clone(), false)),
                Event::End(_) => {
                    if let Some((_, true)) = stack.pop() {
                        out.push(safe.clone());
                    }
                }
                Event::Text(t) if len > 0 => {
                    let a = keep.start.max(pos);
                    let b = keep.end.min(pos + len);
                    if a < b {
                        flush(&mut stack, &mut out);
                        let piece = t.get(a - pos..b - pos).unwrap_or(t.as_ref());
                        out.push(Event::Text(piece.to_string().into()));
                    }
                }
                _ => {
                    let inside = if len > 0 {
                        pos < keep.end && pos + len > keep.start
                    } else {
                        pos >= keep.start && pos < keep.end
                    };
                    if inside {
                        flush(&mut stack, &mut out);
                        out.push(safe.clone());
                    }
                }
            }
            pos += len;
        }
        inline_html(out)
    }
}

#[derive(Default)]
struct ActionFields {
    text: String,
    html: String,
    owner: Option<String>,
    due: Option<jiff::civil::Date>,
    done: bool,
    ticket: Option<String>,
    kind: Option<String>,
    priority: Option<String>,
}

/// A label without numbering or a trailing colon.
fn clean_label(text: &str) -> String {
    let text = strip_numbering(text).trim().trim_end_matches(':').trim();
    text.to_string()
}

/// Category phrases that may start a lesson: "What went well: the canary caught it".
const CATEGORY_PHRASES: [&str; 14] = [
    "what went well",
    "what went right",
    "what went wrong",
    "what went badly",
    "what went poorly",
    "what didn't go well",
    "what did not go well",
    "what could have gone better",
    "what could have gone worse",
    "what could be improved",
    "what could have been better",
    "where we got lucky",
    "where we were lucky",
    "areas for improvement",
];

/// A category label at the start of a lesson and the byte offset where its text begins.
fn leading_label(raw: &str, first: Option<&Event<'_>>) -> Option<(String, usize)> {
    let (head, _) = raw.split_once(':')?;
    let cut = head.len() + 1;
    let cut = cut + (raw.len() - cut - raw[cut..].trim_start().len());
    if raw[cut..].trim().is_empty() {
        return None;
    }
    let label = clean_label(head);
    let known = CATEGORY_PHRASES.contains(&label.to_lowercase().as_str());
    let bold = matches!(first, Some(Event::Start(Tag::Strong))) && label.split(' ').count() <= 6;
    (known || bold).then_some((label, cut))
}

#[derive(Default, Debug, PartialEq)]
struct Metadata {
    owner: Option<String>,
    due: Option<jiff::civil::Date>,
    ticket: Option<String>,
    kind: Option<String>,
    priority: Option<String>,
    status: Option<String>,
    /// An explicit `due:` that is not a date, for a warning.
    bad_due: Option<String>,
}

/// A trailing `(owner: @x, due: 2024-02-15, ticket: T)` and the byte offset where it starts.
fn trailing_metadata(raw: &str) -> Option<(usize, Metadata)> {
    let text = raw.trim_end();
    if !text.ends_with(')') {
        return None;
    }
    let mut depth = 0i32;
    let mut open = None;
    for (i, c) in text.char_indices().rev() {
        match c {
            ')' => depth += 1,
            '(' => {
                depth -= 1;
                if depth == 0 {
                    open = Some(i);
                    break;
                }
            }
            _ => {}
        }
    }
    let open = open?;
    let meta = parse_metadata(&text[open + 1..text.len() - 1])?;
    Some((open, meta))
}

fn parse_metadata(inner: &str) -> Option<Metadata> {
    let mut meta = Metadata::default();
    let mut any = false;
    for part in inner.split([',', ';']) {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let pair = part.split_once(':').or_else(|| part.split_once('='));
        let known = pair.and_then(|(k, v)| Some((metadata_key(k)?, v.trim())));
        match known {
            Some((key, value)) if !value.is_empty() => {
                match key {
                    "owner" => meta.owner = Some(value.to_string()),
                    "due" => match parse_date(value) {
                        Some(date) => meta.due = Some(date),
                        None => meta.bad_due = Some(value.to_string()),
                    },
                    "ticket" => meta.ticket = Some(value.to_string()),
                    "type" => meta.kind = Some(value.to_string()),
                    "priority" => meta.priority = Some(value.to_string()),
                    _ => meta.status = Some(value.to_string()),
                }
                any = true;
            }
            _ if part.starts_with('@') && !part.contains(' ') => {
                meta.owner = Some(part.to_string());
                any = true;
            }
            _ => {
                let date = parse_date(part)?;
                meta.due = Some(date);
                any = true;
            }
        }
    }
    any.then_some(meta)
}

fn metadata_key(key: &str) -> Option<&'static str> {
    let key = key.trim().to_lowercase();
    Some(match key.as_str() {
        "owner" | "owners" | "who" | "assignee" | "assigned" | "assigned to" => "owner",
        "due" | "due date" | "deadline" | "by" => "due",
        "ticket" | "bug" | "issue" | "jira" | "tracking" => "ticket",
        "type" | "kind" => "type",
        "priority" | "prio" | "pri" => "priority",
        "status" | "state" => "status",
        _ => return None,
    })
}

/// What a table column holds, from its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Text,
    Owner,
    Due,
    Status,
    Ticket,
    Type,
    Priority,
    Other,
}

fn column_of(header: &str) -> Column {
    let h = header
        .trim()
        .trim_end_matches([':', '#'])
        .trim()
        .to_lowercase();
    match h.as_str() {
        "action" | "action item" | "action items" | "item" | "description" | "task" | "what"
        | "title" | "summary" | "corrective action" | "follow-up" | "follow up" | "remediation" => {
            Column::Text
        }
        "owner" | "owners" | "who" | "assignee" | "assigned to" | "responsible" => Column::Owner,
        "due" | "due date" | "deadline" | "by" | "target date" | "eta" => Column::Due,
        "status" | "state" | "done" => Column::Status,
        "bug" | "bug #" | "bug no" | "issue" | "issue #" | "ticket" | "ticket #" | "tracking"
        | "jira" | "link" => Column::Ticket,
        "type" | "kind" | "category" => Column::Type,
        "priority" | "prio" | "pri" => Column::Priority,
        _ => Column::Other,
    }
}

fn is_done(status: &str) -> bool {
    let s = status.trim().to_lowercase();
    let s = s.trim_matches(|c: char| c == '*' || c == '_' || c.is_whitespace());
    matches!(
        s,
        "[x]"
            | "x"
            | "done"
            | "closed"
            | "fixed"
            | "complete"
            | "completed"
            | "resolved"
            | "yes"
            | "✓"
            | "✔"
            | "✅"
            | "shipped"
            | "merged"
    ) || s.starts_with("done")
        || s.starts_with("fixed")
        || s.starts_with("closed")
}

fn is_empty_cell(value: &str) -> bool {
    matches!(
        value.trim(),
        "" | "-" | "—" | "–" | "n/a" | "N/A" | "TBD" | "tbd" | "?"
    )
}

/// The usual split of corrective actions; free text is kept as written.
fn normalize_type(value: &str) -> String {
    action_type(value).unwrap_or_else(|| value.trim().to_string())
}

fn action_type(value: &str) -> Option<String> {
    let v = value.trim().to_lowercase();
    let v = v.trim_end_matches(':');
    Some(
        match v {
            "prevent" | "prevention" | "preventive" | "preventative" => "prevent",
            "detect" | "detection" => "detect",
            "mitigate" | "mitigation" => "mitigate",
            "process" => "process",
            _ => return None,
        }
        .to_string(),
    )
}

/// Drops dangling separators left where metadata was cut: "Fix the alert —" → "Fix the alert".
fn trim_separators(text: &str) -> String {
    text.trim_end_matches(|c: char| c.is_whitespace() || matches!(c, '-' | '—' | '–' | ':' | ','))
        .to_string()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::diagnostic::LineIndex;
    use crate::markdown::{parse, sanitize};
    use crate::sections::Synonyms;

    fn extract_from(body: &str) -> Extracted {
        let mut doc = parse(body, &Synonyms::default());
        let index = LineIndex::new(body);
        let place = BodyPlace {
            file: Path::new("content/r.md"),
            index: &index,
            body_start: 0,
            content_path: "r.md",
        };
        let sanitized = sanitize(&doc, &place, false);
        extract(&mut doc, &sanitized, &place)
    }

    fn lessons(body: &str) -> Vec<(Option<String>, String)> {
        extract_from(body)
            .lessons
            .into_iter()
            .map(|l| (l.category, l.text))
            .collect()
    }

    fn some(s: &str) -> Option<String> {
        Some(s.to_string())
    }

    #[test]
    fn every_list_item_is_a_lesson_with_nested_labels_as_categories() {
        let found = lessons(
            "## 4.4. Lessons Learned\n\n- Canary gates work.\n- Areas for improvement:\n  - Alert on ratio, not count.\n  - Page the owning team.\n- Dashboards lag:\n  - It takes minutes to see errors.\n  - Nested lessons count too\n",
        );
        assert_eq!(
            found,
            vec![
                (None, "Canary gates work.".into()),
                (
                    some("Areas for improvement"),
                    "Alert on ratio, not count.".into()
                ),
                (
                    some("Areas for improvement"),
                    "Page the owning team.".into()
                ),
                (
                    some("Dashboards lag"),
                    "It takes minutes to see errors.".into()
                ),
                (some("Dashboards lag"), "Nested lessons count too".into()),
            ]
        );
    }

    #[test]
    fn a_parent_with_its_own_text_is_a_lesson_and_so_are_its_children() {
        let found = lessons(
            "## Lessons\n\n- Rollbacks must be rehearsed, because the last one failed\n  - Run a game day each quarter\n",
        );
        assert_eq!(
            found,
            vec![
                (
                    None,
                    "Rollbacks must be rehearsed, because the last one failed".into()
                ),
                (None, "Run a game day each quarter".into()),
            ]
        );
    }

    #[test]
    fn sub_headings_become_categories() {
        let found = lessons(
            "## Lessons Learned\n\n### What went well\n\n- The canary caught it.\n\n### What went wrong\n\n- Nobody owned the alert.\n\n### Where we got lucky\n\n- It was a Tuesday.\n\n## Timeline\n\n- 10:00 not a lesson\n",
        );
        assert_eq!(
            found,
            vec![
                (some("What went well"), "The canary caught it.".into()),
                (some("What went wrong"), "Nobody owned the alert.".into()),
                (some("Where we got lucky"), "It was a Tuesday.".into()),
            ]
        );
    }

    #[test]
    fn label_paragraphs_and_prefixes_become_categories() {
        let found = lessons(
            "## Lessons\n\n**Process**\n\n- Write the runbook first.\n\n- What went well: the pager fired in a minute.\n- **Tooling:** the deploy tool hides errors.\n",
        );
        assert_eq!(
            found,
            vec![
                (some("Process"), "Write the runbook first.".into()),
                (
                    some("What went well"),
                    "the pager fired in a minute.".into()
                ),
                (some("Tooling"), "the deploy tool hides errors.".into()),
            ]
        );
    }

    #[test]
    fn a_section_without_a_list_gives_one_lesson_per_paragraph() {
        let found = lessons(
            "## Key Takeaways\n\nFeature flags need owners.\n\nStaging must mirror production\nconfiguration.\n",
        );
        assert_eq!(
            found,
            vec![
                (None, "Feature flags need owners.".into()),
                (None, "Staging must mirror production configuration.".into()),
            ]
        );
    }

    #[test]
    fn lesson_html_keeps_inline_markup_and_drops_the_label() {
        let out = extract_from("## Lessons\n\n- What went well: the `canary` caught *it*\n");
        assert_eq!(
            out.lessons[0].html,
            "the <code>canary</code> caught <em>it</em>"
        );
    }

    #[test]
    fn task_list_actions_carry_status_and_inline_metadata() {
        let out = extract_from(
            "### 4.3. Corrective Actions\n\n- [ ] Alert when the 5xx ratio exceeds 1% (owner: @wren, due: 2024-02-15, ticket: PAY-123)\n- [x] Ship the hotfix\n1. Review the migration ordering (type: process, priority: P2)\n",
        );
        let a = &out.actions;
        assert_eq!(a.len(), 3);
        assert_eq!(a[0].text, "Alert when the 5xx ratio exceeds 1%");
        assert_eq!(a[0].owner.as_deref(), Some("@wren"));
        assert_eq!(
            a[0].due.map(|d| d.to_string()).as_deref(),
            Some("2024-02-15")
        );
        assert_eq!(a[0].ticket.as_deref(), Some("PAY-123"));
        assert!(!a[0].done);
        assert_eq!(a[0].html, "Alert when the 5xx ratio exceeds 1%");
        assert!(a[1].done);
        assert_eq!(a[1].owner, None);
        assert_eq!(a[2].text, "Review the migration ordering");
        assert_eq!(a[2].kind.as_deref(), Some("process"));
        assert_eq!(a[2].priority.as_deref(), Some("P2"));
        assert!(!a[2].done);
    }

    #[test]
    fn a_parenthesis_that_is_not_metadata_stays_in_the_text() {
        let out = extract_from(
            "## Action Items\n\n- Add retries (with jitter)\n- Page @ana (@ana, 2025-01-10)\n",
        );
        assert_eq!(out.actions[0].text, "Add retries (with jitter)");
        assert_eq!(out.actions[0].owner, None);
        assert_eq!(out.actions[1].text, "Page @ana");
        assert_eq!(out.actions[1].owner.as_deref(), Some("@ana"));
    }

    #[test]
    fn table_rows_are_actions_with_columns_in_any_order() {
        let out = extract_from(
            "## Action Items\n\n| Action Item | Type | Who | Priority | Due Date | Status | Bug # |\n|---|---|---|---|---|---|---|\n| Add a canary stage | Prevention | ana | P1 | 2024-03-01 | Done | [PAY-9](https://t/PAY-9) |\n| Alert on lag | detect | ben | P2 | Q3 | open | - |\n",
        );
        let a = &out.actions;
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].text, "Add a canary stage");
        assert_eq!(a[0].kind.as_deref(), Some("prevent"));
        assert_eq!(a[0].owner.as_deref(), Some("ana"));
        assert_eq!(a[0].priority.as_deref(), Some("P1"));
        assert_eq!(a[0].ticket.as_deref(), Some("PAY-9"));
        assert!(a[0].done);
        assert_eq!(a[1].due, None);
        assert!(!a[1].done);
        assert_eq!(a[1].ticket, None);
        let warning = &out.diagnostics[0];
        assert_eq!((warning.rule, warning.line), ("action-due-date", 6));
    }

    #[test]
    fn sub_headings_in_actions_give_the_type() {
        let out = extract_from(
            "## Remediation\n\n### Detect\n\n- Alert on queue depth\n\n### Other\n\n- Tidy up\n",
        );
        assert_eq!(out.actions[0].kind.as_deref(), Some("detect"));
        assert_eq!(out.actions[1].kind, None);
    }

    #[test]
    fn anchors_are_unique_and_placed_on_the_items() {
        let out = extract_from(
            "## Impact\n\nx\n\n## Lessons\n\n- Impact\n- Impact\n\n## Action Items\n\n- Impact\n",
        );
        let ids: Vec<&str> = out.lessons.iter().map(|l| l.anchor.as_str()).collect();
        assert_eq!(ids, ["lesson-impact", "lesson-impact-2"]);
        assert_eq!(out.actions[0].anchor, "action-impact");
    }

    #[test]
    fn lessons_and_actions_outside_their_sections_are_ignored() {
        let out =
            extract_from("## Summary\n\n- not a lesson\n\n## Root Cause\n\n- [ ] not an action\n");
        assert!(out.lessons.is_empty());
        assert!(out.actions.is_empty());
    }
}
