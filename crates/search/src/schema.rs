//! The index's schema: its kinds of document and fields, shared by the writer (in rollbook),
//! `rollbook search` and the search engine in the browser.
//!
//! Every document carries its report's id, title, url, date, severity, services, tags, teams,
//! status and response, so that a hit can be filtered and shown without a second lookup.
//! Text is stemmed (English); ids and enums are exact-match fields.

use jiff::civil::Date;
use tantivy::schema::{
    DateOptions, FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema,
    TextFieldIndexing, TextOptions,
};
use tantivy::{DateTime, Index};

/// The kinds of document, the values of the `kind` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Report,
    Section,
    Lesson,
    Action,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Report, Kind::Section, Kind::Lesson, Kind::Action];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Report => "report",
            Kind::Section => "section",
            Kind::Lesson => "lesson",
            Kind::Action => "action",
        }
    }

    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// The schema's fields. Field names are what queries use (`service:payments-api`).
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub kind: Field,
    /// Unique per document: the report id, then `#anchor` for a section, lesson or action.
    pub key: Field,
    pub report: Field,
    pub report_title: Field,
    pub title: Field,
    /// The searchable text (indexed from tokens made once per report, not stored).
    pub body: Field,
    /// The same text, stored for snippets.
    pub text: Field,
    pub category: Field,
    pub section: Field,
    pub owner: Field,
    pub due: Field,
    pub state: Field,
    pub ticket: Field,
    pub action_type: Field,
    pub url: Field,
    pub date: Field,
    pub severity: Field,
    pub service: Field,
    pub tag: Field,
    pub team: Field,
    pub status: Field,
    pub response: Field,
}

/// The fields whose values are exact words: `field:value` in a query is a filter on them.
pub const EXACT_FIELDS: [&str; 13] = [
    "kind", "report", "section", "owner", "state", "ticket", "type", "severity", "service", "tag",
    "team", "status", "response",
];

impl Fields {
    pub fn schema() -> (Schema, Fields) {
        let mut builder = Schema::builder();
        let indexed = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(crate::analyzer::NAME)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        let text = indexed.clone().set_stored();
        let exact = STRING | STORED | FAST;
        let date = DateOptions::from(INDEXED | STORED | FAST);
        let fields = Fields {
            kind: builder.add_text_field("kind", exact.clone()),
            key: builder.add_text_field("key", STORED),
            report: builder.add_text_field("report", exact.clone()),
            report_title: builder.add_text_field("report_title", STORED),
            title: builder.add_text_field("title", text.clone()),
            body: builder.add_text_field("body", indexed),
            text: builder.add_text_field("text", STORED),
            category: builder.add_text_field("category", text),
            section: builder.add_text_field("section", exact.clone()),
            owner: builder.add_text_field("owner", exact.clone()),
            due: builder.add_date_field("due", date.clone()),
            state: builder.add_text_field("state", exact.clone()),
            ticket: builder.add_text_field("ticket", exact.clone()),
            action_type: builder.add_text_field("type", exact.clone()),
            url: builder.add_text_field("url", STORED),
            date: builder.add_date_field("date", date),
            severity: builder.add_text_field("severity", exact.clone()),
            service: builder.add_text_field("service", exact.clone()),
            tag: builder.add_text_field("tag", exact.clone()),
            team: builder.add_text_field("team", exact.clone()),
            status: builder.add_text_field("status", exact.clone()),
            response: builder.add_text_field("response", exact),
        };
        (builder.build(), fields)
    }

    /// The fields of an existing index, which must have been written by this version.
    pub fn of(index: &Index) -> tantivy::Result<Fields> {
        let schema = index.schema();
        let (expected, fields) = Fields::schema();
        if schema != expected {
            return Err(tantivy::TantivyError::SchemaError(
                "the index was written by another version of rollbook".to_string(),
            ));
        }
        Ok(fields)
    }
}

/// A day as a tantivy date: midnight UTC.
pub fn day(date: Date) -> DateTime {
    let seconds = date
        .to_zoned(jiff::tz::TimeZone::UTC)
        .map_or(0, |z| z.timestamp().as_second());
    DateTime::from_timestamp_secs(seconds)
}

/// The day of a tantivy date.
pub fn date_of(value: DateTime) -> Option<Date> {
    jiff::Timestamp::from_second(value.into_timestamp_secs())
        .ok()
        .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).date())
}
