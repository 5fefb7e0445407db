//! The index's schema: its kinds of document and fields, shared by the writer (in rollbook),
//! `rollbook search` and the search engine in the browser.
//!
//! Every document carries its report's id, title, url, date, severity, services, tags, teams,
//! status and response, so that a hit can be filtered and shown without a second lookup.
//! Text is stemmed (English); ids and enums are exact-match fields.

use std::ops::Range;

use jiff::civil::Date;
use tantivy::schema::{
    DateOptions, FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema,
    TextFieldIndexing, TextOptions,
};
use tantivy::{DateTime, Index};

/// The kinds of hit. Reports, lessons and actions are documents (the values of the `kind`
/// field); a section hit is a report document matched in one of its [`SECTIONS`]' fields.
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

/// The kinds of section a report's text is searched by, as `rollbook.toml`'s `[sections]` and
/// `section:` queries name them. A report's document keeps where its sections are among the
/// positions of its `body` ([`Fields::section_positions`]), so that a query can be limited to
/// root causes without indexing the report's text a second time (see [`crate::within`]).
pub const SECTIONS: [&str; 11] = [
    "summary",
    "trigger",
    "impact",
    "root_cause",
    "resolution",
    "detection",
    "verification",
    "actions",
    "lessons",
    "timeline",
    "people",
];

/// The schema's fields. Field names are what queries use (`service:payments-api`).
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub kind: Field,
    /// Unique per document: the report id, then `#anchor` for a section, lesson or action.
    pub key: Field,
    pub report: Field,
    pub report_title: Field,
    pub title: Field,
    /// The searchable text of reports, lessons and actions (not stored).
    pub body: Field,
    /// Where a report's sections are among the positions of its `body`: one value per
    /// section, see [`section_value`] (fast only: read by queries over sections).
    pub section_positions: Field,
    /// The text of `body`, stored for snippets.
    pub text: Field,
    pub category: Field,
    /// The kinds of section a report has (an exact field).
    pub section: Field,
    /// Where each section of a report is in its `text`, for section hits (stored only):
    /// one value per section, see [`SectionSpan`].
    pub section_spans: Field,
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
        // Exact fields are filters: no length norms (which would cost a byte per document
        // per field, in the browser too, and never change an order).
        let exact = without_norms(STRING | STORED | FAST);
        let date = DateOptions::from(INDEXED | STORED | FAST);
        let fields = Fields {
            kind: builder.add_text_field("kind", exact.clone()),
            key: builder.add_text_field("key", STORED),
            report: builder.add_text_field("report", exact.clone()),
            report_title: builder.add_text_field("report_title", STORED),
            title: builder.add_text_field("title", text.clone()),
            body: builder.add_text_field("body", indexed.clone()),
            section_positions: builder.add_u64_field(SECTION_POSITIONS, FAST),
            text: builder.add_text_field("text", STORED),
            // A lesson's category is a label of a word or two: its length says nothing, and
            // its norms would cost the browser a byte per document.
            category: builder.add_text_field("category", without_norms(text)),
            // A filter, never shown or counted: neither stored nor fast.
            section: builder.add_text_field("section", without_norms(STRING)),
            section_spans: builder.add_text_field("section_spans", STORED),
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

/// The name of [`Fields::section_positions`].
pub const SECTION_POSITIONS: &str = "section_positions";

/// Bits of a [`section_value`] for the kind, and for the section's length in words.
const KIND_BITS: u32 = 4;
const LENGTH_BITS: u32 = 24;

/// A section of kind `SECTIONS[kind]` at positions `range` of its report's `body`, as one value
/// of `section_positions`: the kind in the low bits, then the length (at most 16 million
/// words), then the start. The values of a column are packed to the bits of its largest, so
/// the start, the largest number, is the only one with no fixed width.
pub fn section_value(kind: usize, range: Range<u32>) -> u64 {
    let length = u64::from(range.end.saturating_sub(range.start)).min((1 << LENGTH_BITS) - 1);
    (u64::from(range.start) << (LENGTH_BITS + KIND_BITS)) | (length << KIND_BITS) | kind as u64
}

/// The kind (an index into [`SECTIONS`]) and positions of a [`section_value`].
pub fn section_of_value(value: u64) -> (usize, Range<u32>) {
    let kind = (value & ((1 << KIND_BITS) - 1)) as usize;
    let length = ((value >> KIND_BITS) & ((1 << LENGTH_BITS) - 1)) as u32;
    let start = (value >> (LENGTH_BITS + KIND_BITS)) as u32;
    (kind, start..start.saturating_add(length))
}

/// Where a section is in its report's stored `text`, and what to show for it. Stored as one
/// line, `kind TAB start TAB end TAB anchor TAB title` (the title last: it may hold tabs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionSpan {
    pub kind: String,
    /// Byte offsets into the report's `text`.
    pub range: Range<usize>,
    pub anchor: String,
    pub title: String,
}

impl SectionSpan {
    pub fn to_stored(&self) -> String {
        format!(
            "{}\t{}\t{}\t{}\t{}",
            self.kind, self.range.start, self.range.end, self.anchor, self.title
        )
    }

    pub fn from_stored(stored: &str) -> Option<SectionSpan> {
        let mut parts = stored.splitn(5, '\t');
        let kind = parts.next()?.to_string();
        let start = parts.next()?.parse().ok()?;
        let end = parts.next()?.parse().ok()?;
        Some(SectionSpan {
            kind,
            range: start..end,
            anchor: parts.next()?.to_string(),
            title: parts.next()?.to_string(),
        })
    }
}

const SECONDS_PER_DAY: i64 = 86_400;

/// A day as a tantivy date: midnight UTC.
pub fn day(date: Date) -> DateTime {
    let days = days_from_civil(
        i64::from(date.year()),
        i64::from(date.month()),
        i64::from(date.day()),
    );
    DateTime::from_timestamp_secs(days * SECONDS_PER_DAY)
}

/// The day of a tantivy date.
pub fn date_of(value: DateTime) -> Option<Date> {
    let (year, month, day) =
        civil_from_days(value.into_timestamp_secs().div_euclid(SECONDS_PER_DAY));
    Date::new(
        i16::try_from(year).ok()?,
        i8::try_from(month).ok()?,
        i8::try_from(day).ok()?,
    )
    .ok()
}

// Days since 1970-01-01 and back, in the proleptic Gregorian calendar (Howard Hinnant's
// algorithms, http://howardhinnant.github.io/date_algorithms.html). Done here rather than with
// jiff's spans and time zones, so that the browser engine links none of them.

fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A day as `YYYY-MM-DD`, as jiff writes it (for years 0 to 9999), without jiff's formatter:
/// the browser engine then links none of it.
pub fn day_text(date: Date) -> String {
    format!("{:04}-{:02}-{:02}", date.year(), date.month(), date.day())
}

/// A `YYYY-MM-DD` day, read without jiff's parser (which reads times and time zones too, and
/// would be linked into the browser engine).
pub fn parse_day(text: &str) -> Option<Date> {
    let bytes = text.as_bytes();
    let digits = |range: Range<usize>| -> Option<i16> {
        let part = bytes.get(range)?;
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(part.iter().fold(0, |n, &b| n * 10 + i16::from(b - b'0')))
    };
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    Date::new(year, i8::try_from(month).ok()?, i8::try_from(day).ok()?).ok()
}

/// The options with no length norms: for fields where length does not matter to the rank.
fn without_norms(options: TextOptions) -> TextOptions {
    let indexing = options
        .get_indexing_options()
        .cloned()
        .map(|i| i.set_fieldnorms(false));
    options.set_indexing_options(indexing.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section_spans_round_trip() {
        let span = SectionSpan {
            kind: "root_cause".into(),
            range: 12..345,
            anchor: "root-cause".into(),
            title: "Root cause\tand trigger".into(),
        };
        assert_eq!(SectionSpan::from_stored(&span.to_stored()), Some(span));
        assert_eq!(SectionSpan::from_stored("root_cause\t1\tx\ta\tb"), None);
        assert_eq!(SectionSpan::from_stored("root_cause\t1\t2\ta"), None);
    }

    #[test]
    fn section_values_round_trip() {
        for (kind, range) in [
            (0, 0..1),
            (10, 7..7),
            (3, 12_345..12_400),
            (10, u32::MAX - 5..u32::MAX),
        ] {
            assert_eq!(
                section_of_value(section_value(kind, range.clone())),
                (kind, range)
            );
        }
        assert!(SECTIONS.len() <= 1 << KIND_BITS);
    }

    #[test]
    fn days_are_midnight_utc_and_round_trip() {
        // Every day from 1900 to 2261 (tantivy counts nanoseconds in an i64: 1677 to 2262),
        // leap days and the epoch among them, against jiff's own arithmetic.
        let mut date = Date::constant(1899, 12, 25);
        while date < Date::constant(2262, 1, 1) {
            let midnight = date
                .to_zoned(jiff::tz::TimeZone::UTC)
                .expect("in range")
                .timestamp()
                .as_second();
            assert_eq!(day(date).into_timestamp_secs(), midnight, "{date}");
            assert_eq!(date_of(day(date)), Some(date), "{date}");
            date = date.tomorrow().expect("in range");
        }
        for date in [Date::constant(2024, 2, 29), Date::constant(987, 1, 2)] {
            assert_eq!(day_text(date), date.to_string());
            assert_eq!(parse_day(&day_text(date)), Some(date));
        }
        for bad in [
            "2024-02-30",
            "2024-2-01",
            "2024/02/01",
            "20240201",
            "2024-02-01x",
            "",
            "２０２４-01-01",
        ] {
            assert_eq!(parse_day(bad), None, "{bad:?}");
        }
        // A time during a day is that day, before 1970 too.
        let noon = DateTime::from_timestamp_secs(
            day(Date::constant(1969, 7, 20)).into_timestamp_secs() + 43_200,
        );
        assert_eq!(date_of(noon), Some(Date::constant(1969, 7, 20)));
    }
}
