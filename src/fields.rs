//! Typed reading of a spanned TOML table: every unknown key, wrong type or bad value becomes
//! a diagnostic at its file position, with the nearest valid key or value as help.
//!
//! Used by both front matter and `rollbook.toml`, so that the two speak with one voice.

use std::ops::Range;
use std::path::Path;

use jiff::Timestamp;
use jiff::civil::Date;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::diagnostic::{Diagnostic, LineIndex, nearest};

pub(crate) type Value<'i> = Spanned<DeValue<'i>>;

/// Collects diagnostics while reading values out of one TOML document inside a file.
pub(crate) struct Reader<'a> {
    index: &'a LineIndex<'a>,
    file: &'a Path,
    /// Byte offset of the TOML text within the file, to re-base toml's spans.
    base: usize,
    pub diagnostics: Vec<Diagnostic>,
}

impl<'a> Reader<'a> {
    pub fn new(index: &'a LineIndex<'a>, file: &'a Path, base: usize) -> Self {
        Reader {
            index,
            file,
            base,
            diagnostics: Vec::new(),
        }
    }

    pub fn error(
        &mut self,
        span: Range<usize>,
        rule: &'static str,
        message: impl Into<String>,
        help: Option<String>,
    ) {
        let span = span.start + self.base..span.end + self.base;
        let mut d = self.index.diagnostic(self.file, span, rule, message);
        d.help = help;
        self.diagnostics.push(d);
    }

    /// A problem at a span of the whole file rather than of the TOML text.
    pub fn error_in_file(
        &mut self,
        span: Range<usize>,
        rule: &'static str,
        message: impl Into<String>,
        help: Option<String>,
    ) {
        let mut d = self.index.diagnostic(self.file, span, rule, message);
        d.help = help;
        self.diagnostics.push(d);
    }

    /// Parses TOML text, reporting every syntax error toml can recover from.
    pub fn parse<'i>(&mut self, text: &'i str) -> Option<DeTable<'i>> {
        let (table, errors) = DeTable::parse_recoverable(text);
        if errors.is_empty() {
            return Some(table.into_inner());
        }
        for e in errors {
            let span = e.span().unwrap_or(0..0);
            let message = e.message().trim().trim_end_matches('.').to_string();
            let help = if message.contains("invalid date") || message.contains("day between") {
                Some("dates are written YYYY-MM-DD and must exist in the calendar".to_string())
            } else if message.contains("duplicate key") {
                Some("remove one of the two definitions".to_string())
            } else {
                None
            };
            self.error(
                span,
                "toml-syntax",
                format!("invalid TOML: {message}"),
                help,
            );
        }
        None
    }

    /// Reports every key of `table` that is not in `allowed`, suggesting the nearest one.
    pub fn check_keys(&mut self, table: &DeTable<'_>, allowed: &[&str], place: &str) {
        self.check_keys_with_hints(table, allowed, place, &[]);
    }

    /// As `check_keys`, with a fixed help for known mistakes: `(key, help)`.
    pub fn check_keys_with_hints(
        &mut self,
        table: &DeTable<'_>,
        allowed: &[&str],
        place: &str,
        hints: &[(&str, &str)],
    ) {
        for key in table.keys() {
            let name: &str = key.get_ref();
            if allowed.contains(&name) {
                continue;
            }
            let help = match (
                hints.iter().find(|(k, _)| *k == name),
                nearest(name, allowed.iter().copied()),
            ) {
                (Some((_, hint)), _) => (*hint).to_string(),
                (None, Some(near)) => format!("did you mean `{near}`?"),
                (None, None) => format!("{place} accepts: {}", allowed.join(", ")),
            };
            self.error(
                key.span(),
                "unknown-key",
                format!("unknown key `{name}` in {place}"),
                Some(help),
            );
        }
    }

    fn wrong_type(&mut self, key: &str, value: &Value<'_>, expected: &str, example: &str) {
        self.error(
            value.span(),
            "wrong-type",
            format!(
                "`{key}` must be {expected}, found {}",
                value.get_ref().type_str()
            ),
            Some(format!("write it as `{example}`")),
        );
    }

    pub fn string(&mut self, key: &str, value: &Value<'_>) -> Option<String> {
        match value.get_ref() {
            DeValue::String(s) => Some(s.to_string()),
            _ => {
                self.wrong_type(key, value, "a string", &format!("{key} = \"…\""));
                None
            }
        }
    }

    pub fn boolean(&mut self, key: &str, value: &Value<'_>) -> Option<bool> {
        match value.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            _ => {
                self.wrong_type(key, value, "true or false", &format!("{key} = true"));
                None
            }
        }
    }

    pub fn positive_integer(&mut self, key: &str, value: &Value<'_>) -> Option<usize> {
        let parsed = match value.get_ref() {
            DeValue::Integer(i) => i.as_str().replace('_', "").parse::<usize>().ok(),
            _ => None,
        };
        match parsed {
            Some(n) if n > 0 => Some(n),
            _ => {
                self.wrong_type(
                    key,
                    value,
                    "a positive whole number",
                    &format!("{key} = 50"),
                );
                None
            }
        }
    }

    pub fn string_list(&mut self, key: &str, value: &Value<'_>) -> Option<Vec<String>> {
        let example = format!("{key} = [\"a\", \"b\"]");
        let DeValue::Array(items) = value.get_ref() else {
            self.wrong_type(key, value, "an array of strings", &example);
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items.iter() {
            match item.get_ref() {
                DeValue::String(s) => out.push(s.to_string()),
                _ => self.wrong_type(key, item, "an array of strings", &example),
            }
        }
        Some(out)
    }

    pub fn table<'v, 'i>(&mut self, key: &str, value: &'v Value<'i>) -> Option<&'v DeTable<'i>> {
        match value.get_ref() {
            DeValue::Table(t) => Some(t),
            _ => {
                self.wrong_type(key, value, "a table", &format!("[{key}]"));
                None
            }
        }
    }

    /// One of a fixed set of words, with the nearest as help when it is a typo.
    pub fn one_of(
        &mut self,
        key: &str,
        value: &Value<'_>,
        allowed: &[&str],
        rule: &'static str,
    ) -> Option<String> {
        let text = self.string(key, value)?;
        if allowed.contains(&text.as_str()) {
            return Some(text);
        }
        let help = match nearest(&text, allowed.iter().copied()) {
            Some(near) => format!("did you mean \"{near}\"? (one of: {})", allowed.join(", ")),
            None => format!("use one of: {}", allowed.join(", ")),
        };
        self.error(
            value.span(),
            rule,
            format!("unknown {key} \"{text}\""),
            Some(help),
        );
        None
    }

    /// A calendar date: a TOML local date (`2024-01-26`) or the same in a string.
    pub fn date(&mut self, key: &str, value: &Value<'_>) -> Option<Date> {
        let example = format!("{key} = 2024-01-26");
        match value.get_ref() {
            DeValue::Datetime(dt) if dt.time.is_none() && dt.offset.is_none() => {
                let d = dt.date?;
                match Date::new(d.year as i16, d.month as i8, d.day as i8) {
                    Ok(date) => Some(date),
                    Err(_) => {
                        self.bad_date(key, value, &example);
                        None
                    }
                }
            }
            DeValue::Datetime(_) => {
                self.error(
                    value.span(),
                    "wrong-type",
                    format!("`{key}` must be a date without a time"),
                    Some(format!("write it as `{example}`")),
                );
                None
            }
            DeValue::String(s) => match parse_date(s) {
                Some(date) => Some(date),
                None => {
                    self.bad_date(key, value, &example);
                    None
                }
            },
            _ => {
                self.wrong_type(key, value, "a date", &example);
                None
            }
        }
    }

    fn bad_date(&mut self, key: &str, value: &Value<'_>, example: &str) {
        self.error(
            value.span(),
            "bad-date",
            format!("`{key}` is not a valid date"),
            Some(format!(
                "write it as `{example}`, a day that exists in the calendar"
            )),
        );
    }

    /// A moment in time: a TOML offset datetime; a local datetime is taken as UTC.
    pub fn datetime(&mut self, key: &str, value: &Value<'_>) -> Option<Timestamp> {
        let example = format!("{key} = 2024-01-26T10:00:00Z");
        let parsed = match value.get_ref() {
            DeValue::Datetime(dt) => toml_timestamp(dt),
            DeValue::String(s) => s
                .parse::<toml::value::Datetime>()
                .ok()
                .and_then(|dt| toml_timestamp(&dt)),
            _ => {
                self.wrong_type(key, value, "a date and time", &example);
                return None;
            }
        };
        if parsed.is_none() {
            self.error(
                value.span(),
                "bad-date",
                format!("`{key}` must be a date and time"),
                Some(format!(
                    "write it as `{example}` (UTC) or with an offset like +01:00"
                )),
            );
        }
        parsed
    }
}

/// `YYYY-MM-DD`, strictly.
pub(crate) fn parse_date(text: &str) -> Option<Date> {
    let text = text.trim();
    if text.len() != 10 {
        return None;
    }
    text.parse::<Date>().ok()
}

fn toml_timestamp(dt: &toml::value::Datetime) -> Option<Timestamp> {
    let date = dt.date?;
    let time = dt.time?;
    let civil = jiff::civil::DateTime::new(
        date.year as i16,
        date.month as i8,
        date.day as i8,
        time.hour as i8,
        time.minute as i8,
        time.second.unwrap_or(0) as i8,
        0,
    )
    .ok()?;
    let offset_seconds = match dt.offset {
        None | Some(toml::value::Offset::Z) => 0,
        Some(toml::value::Offset::Custom { minutes }) => i32::from(minutes) * 60,
    };
    let offset = jiff::tz::Offset::from_seconds(offset_seconds).ok()?;
    offset.to_timestamp(civil).ok()
}

/// Free-form TOML (the `[extra]` table) as JSON for templates and `reports.json`.
pub(crate) fn to_json(value: &DeValue<'_>) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        DeValue::String(s) => J::String(s.to_string()),
        DeValue::Integer(i) => i
            .as_str()
            .replace('_', "")
            .parse::<i64>()
            .map_or_else(|_| J::String(i.as_str().to_string()), J::from),
        DeValue::Float(f) => f
            .as_str()
            .replace('_', "")
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or(J::Null, J::Number),
        DeValue::Boolean(b) => J::Bool(*b),
        DeValue::Datetime(dt) => J::String(dt.to_string()),
        DeValue::Array(items) => J::Array(items.iter().map(|v| to_json(v.get_ref())).collect()),
        DeValue::Table(t) => J::Object(
            t.iter()
                .map(|(k, v)| (k.get_ref().to_string(), to_json(v.get_ref())))
                .collect(),
        ),
    }
}
