//! Splits the `+++` TOML block off a report and reads it into typed front matter, reporting
//! every problem with its line and column in the Markdown file.

use std::path::Path;

use crate::diagnostic::{Diagnostic, LineIndex};
use crate::fields::{Reader, Value, to_json};
use crate::model::{FrontMatter, Outcome, Person, Release, Response, Status, Timeline};

/// A report's text cut into its front matter and body, with their byte offsets in the file.
#[derive(Debug, Clone, Copy)]
pub struct Split<'a> {
    pub toml: &'a str,
    pub toml_start: usize,
    pub body: &'a str,
    pub body_start: usize,
    /// The opening `+++` line, where "missing key" problems point.
    pub opening: (usize, usize),
}

const DELIMITER: &str = "+++";

/// The error is boxed: it is rare and a `Diagnostic` is large.
pub fn split<'a>(
    text: &'a str,
    index: &LineIndex<'_>,
    file: &Path,
) -> Result<Split<'a>, Box<Diagnostic>> {
    let first_line_end = text.find('\n').unwrap_or(text.len());
    let first = text[..first_line_end].trim_end();
    if first != DELIMITER {
        let help = if first == "---" {
            "rollbook reads TOML front matter between `+++` lines; YAML between `---` is not supported"
        } else {
            "start the file with a `+++` line, the TOML front matter (title, date, severity), and another `+++` line"
        };
        return Err(Box::new(
            index
                .diagnostic(
                    file,
                    0..first_line_end,
                    "missing-front-matter",
                    "the report has no front matter",
                )
                .with_help(help),
        ));
    }
    let toml_start = (first_line_end + 1).min(text.len());
    let mut line_start = toml_start;
    while line_start < text.len() {
        let line_end = text[line_start..]
            .find('\n')
            .map_or(text.len(), |i| line_start + i);
        if text[line_start..line_end].trim_end() == DELIMITER {
            let body_start = (line_end + 1).min(text.len());
            return Ok(Split {
                toml: &text[toml_start..line_start],
                toml_start,
                body: &text[body_start..],
                body_start,
                opening: (0, first_line_end),
            });
        }
        line_start = line_end + 1;
    }
    Err(Box::new(
        index
            .diagnostic(
                file,
                0..first_line_end,
                "unclosed-front-matter",
                "the front matter opened here is never closed",
            )
            .with_help("add a line with only `+++` after the last front matter key"),
    ))
}

const KEYS: [&str; 14] = [
    "title", "date", "severity", "status", "response", "summary", "services", "tags", "teams",
    "authors", "release", "timeline", "people", "extra",
];
const RELEASE_KEYS: [&str; 2] = ["from", "to"];
const TIMELINE_KEYS: [&str; 4] = ["detected", "started", "ended", "outcome"];
const PERSON_KEYS: [&str; 2] = ["name", "role"];

/// Reads the front matter; `severities` are the configured valid severities.
pub fn parse(
    split: &Split<'_>,
    index: &LineIndex<'_>,
    file: &Path,
    severities: &[String],
) -> Result<FrontMatter, Vec<Diagnostic>> {
    let mut reader = Reader::new(index, file, split.toml_start);
    let Some(table) = reader.parse(split.toml) else {
        return Err(reader.diagnostics);
    };
    reader.check_keys_with_hints(
        &table,
        &KEYS,
        "the front matter",
        &[("draft", "write `status = \"draft\"` instead")],
    );

    let get = |key: &str| table.get(key);
    let opening = split.opening.0..split.opening.1;
    let required = |reader: &mut Reader<'_>, key: &str, example: &str| -> bool {
        if get(key).is_some() {
            return true;
        }
        reader.error_in_file(
            opening.clone(),
            "missing-key",
            format!("the front matter has no `{key}`"),
            Some(format!("add `{example}`")),
        );
        false
    };

    let title = if required(
        &mut reader,
        "title",
        "title = \"Checkout 500s after 2.5.0\"",
    ) {
        get("title")
            .and_then(|v| reader.string("title", v))
            .and_then(|t| {
                let t = t.trim().to_string();
                if t.is_empty() {
                    if let Some(v) = get("title") {
                        reader.error(
                            v.span(),
                            "wrong-type",
                            "`title` is empty",
                            Some(
                                "give the report a title that names the symptom and the change"
                                    .into(),
                            ),
                        );
                    }
                    None
                } else {
                    Some(t)
                }
            })
    } else {
        None
    };
    let date = if required(&mut reader, "date", "date = 2024-01-26") {
        get("date").and_then(|v| reader.date("date", v))
    } else {
        None
    };
    let severity = if required(&mut reader, "severity", "severity = \"high\"") {
        let names: Vec<&str> = severities.iter().map(String::as_str).collect();
        get("severity").and_then(|v| reader.one_of("severity", v, &names, "unknown-severity"))
    } else {
        None
    };
    let status = match get("status") {
        Some(v) => reader
            .one_of("status", v, &Status::NAMES, "unknown-status")
            .and_then(|s| Status::from_name(&s)),
        None => Some(Status::Final),
    };
    let response = get("response").map(|v| {
        reader
            .one_of("response", v, &Response::NAMES, "unknown-response")
            .and_then(|s| Response::from_name(&s))
    });
    let summary = get("summary").and_then(|v| reader.string("summary", v));
    let mut list = |key: &str| -> Vec<String> {
        get(key)
            .and_then(|v| reader.string_list(key, v))
            .unwrap_or_default()
            .into_iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    };
    let services = dedup(list("services"));
    let tags = dedup(list("tags"));
    let teams = dedup(list("teams"));
    let authors = list("authors");
    let release = get("release").and_then(|v| read_release(&mut reader, v));
    let timeline = get("timeline").and_then(|v| read_timeline(&mut reader, v));
    let people = get("people")
        .map(|v| read_people(&mut reader, v))
        .unwrap_or_default();
    let extra = match get("extra") {
        Some(v) => match reader.table("extra", v) {
            Some(t) => match to_json(&toml::de::DeValue::Table(t.clone())) {
                serde_json::Value::Object(map) => map,
                _ => serde_json::Map::new(),
            },
            None => serde_json::Map::new(),
        },
        None => serde_json::Map::new(),
    };

    match (title, date, severity, status, response) {
        (Some(title), Some(date), Some(severity), Some(status), response)
            if reader.diagnostics.is_empty() && response.is_none_or(|r| r.is_some()) =>
        {
            Ok(FrontMatter {
                title,
                date,
                severity,
                status,
                response: response.flatten(),
                summary,
                services,
                tags,
                teams,
                authors,
                release,
                timeline,
                people,
                extra,
            })
        }
        _ => Err(reader.diagnostics),
    }
}

fn dedup(mut items: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    items.retain(|s| seen.insert(s.clone()));
    items
}

fn read_release(reader: &mut Reader<'_>, value: &Value<'_>) -> Option<Release> {
    let table = reader.table("release", value)?;
    reader.check_keys(table, &RELEASE_KEYS, "[release]");
    Some(Release {
        from: table.get("from").and_then(|v| reader.string("from", v)),
        to: table.get("to").and_then(|v| reader.string("to", v)),
    })
}

fn read_timeline(reader: &mut Reader<'_>, value: &Value<'_>) -> Option<Timeline> {
    let table = reader.table("timeline", value)?;
    reader.check_keys(table, &TIMELINE_KEYS, "[timeline]");
    let mut moment = |key: &str| table.get(key).and_then(|v| reader.datetime(key, v));
    let detected = moment("detected");
    let started = moment("started");
    let ended = moment("ended");
    let outcome = table.get("outcome").and_then(|v| {
        reader
            .one_of("outcome", v, &Outcome::NAMES, "unknown-outcome")
            .and_then(|s| Outcome::from_name(&s))
    });
    let order = [
        ("detected", detected),
        ("started", started),
        ("ended", ended),
    ];
    for (i, (later_key, later)) in order.iter().enumerate() {
        for (earlier_key, earlier) in &order[..i] {
            if let (Some(a), Some(b)) = (earlier, later)
                && b < a
                && let Some(v) = table.get(*later_key)
            {
                reader.error(
                    v.span(),
                    "timeline-order",
                    format!("timeline `{later_key}` is before `{earlier_key}`"),
                    Some(format!("the timeline runs detected → started → ended; check the date, time and offset of `{later_key}`")),
                );
            }
        }
    }
    Some(Timeline {
        detected,
        started,
        ended,
        outcome,
    })
}

fn read_people(reader: &mut Reader<'_>, value: &Value<'_>) -> Vec<Person> {
    let toml::de::DeValue::Array(items) = value.get_ref() else {
        reader.error(
            value.span(),
            "wrong-type",
            "`people` must be a list of tables",
            Some("write each person as `[[people]]` with `name = \"…\"` and `role = \"…\"`".into()),
        );
        return Vec::new();
    };
    let mut people = Vec::new();
    for item in items.iter() {
        let Some(table) = reader.table("people", item) else {
            continue;
        };
        reader.check_keys(table, &PERSON_KEYS, "[[people]]");
        let name = match table.get("name") {
            Some(v) => reader.string("name", v),
            None => {
                reader.error(
                    item.span(),
                    "missing-key",
                    "a `[[people]]` entry has no `name`",
                    Some("add `name = \"…\"`".into()),
                );
                None
            }
        };
        let role = table.get("role").and_then(|v| reader.string("role", v));
        if let Some(name) = name {
            people.push(Person { name, role });
        }
    }
    people
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEVERITIES: [&str; 4] = ["critical", "high", "medium", "low"];

    fn read(text: &str) -> Result<FrontMatter, Vec<Diagnostic>> {
        let index = LineIndex::new(text);
        let file = Path::new("content/r.md");
        let severities: Vec<String> = SEVERITIES.map(String::from).to_vec();
        let split = split(text, &index, file).map_err(|d| vec![*d])?;
        parse(&split, &index, file, &severities)
    }

    fn problems(text: &str) -> Vec<(&'static str, usize, usize, Option<String>)> {
        let mut found: Vec<_> = read(text)
            .expect_err("should be rejected")
            .into_iter()
            .map(|d| (d.rule, d.line, d.column, d.help))
            .collect();
        found.sort();
        found
    }

    const VALID: &str = r#"+++
title = "Payment errors after 2.5.0"
date = 2024-01-26
severity = "critical"
status = "review"
response = "rollback"
services = ["payments-api", "checkout-api"]
tags = ["database-migration"]
teams = ["payments"]

[release]
from = "2.5.0"
to = "2.4.0"

[timeline]
detected = 2024-01-26T09:40:00Z
started = 2024-01-26T10:00:00Z
ended = 2024-01-26T10:45:00+00:00
outcome = "success"

[[people]]
name = "Wren Okafor"
role = "Lead Engineer"

[extra]
jira = "INC-1"
+++
Body
"#;

    #[test]
    fn a_complete_front_matter_is_read() {
        let fm = read(VALID).expect("valid");
        assert_eq!(fm.title, "Payment errors after 2.5.0");
        assert_eq!(fm.date.to_string(), "2024-01-26");
        assert_eq!(fm.status, Status::Review);
        assert_eq!(fm.response, Some(Response::Rollback));
        assert_eq!(fm.services, ["payments-api", "checkout-api"]);
        assert_eq!(
            fm.timeline.as_ref().and_then(Timeline::duration_minutes),
            Some(45)
        );
        assert_eq!(fm.people[0].role.as_deref(), Some("Lead Engineer"));
        assert_eq!(fm.extra["jira"], "INC-1");
    }

    #[test]
    fn status_defaults_to_final() {
        let fm = read("+++\ntitle = \"t\"\ndate = 2024-01-02\nseverity = \"low\"\n+++\n")
            .expect("valid");
        assert_eq!(fm.status, Status::Final);
        assert_eq!(fm.response, None);
    }

    #[test]
    fn bom_and_crlf_files_are_read_after_normalisation() {
        let text = crate::load::normalize_text("\u{feff}+++\r\ntitle = \"t\"\r\ndate = 2024-01-02\r\nseverity = \"low\"\r\n+++\r\nbody\r\n".into());
        assert!(read(&text).is_ok());
    }

    #[test]
    fn missing_front_matter_points_at_line_one() {
        assert_eq!(problems("# Just markdown\n")[0].0, "missing-front-matter");
        let yaml = problems("---\ntitle: x\n---\n");
        assert!(
            yaml[0].3.as_deref().unwrap_or("").contains("YAML"),
            "{yaml:?}"
        );
    }

    #[test]
    fn unclosed_front_matter_is_reported() {
        assert_eq!(
            problems("+++\ntitle = \"t\"\n")[0].0,
            "unclosed-front-matter"
        );
    }

    #[test]
    fn toml_syntax_errors_have_positions() {
        let found = problems("+++\ntitle = \"t\ndate = 2024-01-02\nseverity = \"low\"\n+++\n");
        assert_eq!(found[0].0, "toml-syntax");
        assert_eq!(found[0].1, 2, "{found:?}");
    }

    #[test]
    fn unknown_keys_suggest_the_nearest_key() {
        let found = problems(
            "+++\ntitle = \"t\"\ndate = 2024-01-02\nseverity = \"low\"\nservces = [\"a\"]\n+++\n",
        );
        assert_eq!(
            found,
            vec![("unknown-key", 5, 1, Some("did you mean `services`?".into()))]
        );
    }

    #[test]
    fn unknown_keys_in_tables_are_reported() {
        let found = problems(
            "+++\ntitle = \"t\"\ndate = 2024-01-02\nseverity = \"low\"\n[timeline]\nstart = 2024-01-02T10:00:00Z\n+++\n",
        );
        assert_eq!(
            found,
            vec![("unknown-key", 6, 1, Some("did you mean `started`?".into()))]
        );
    }

    #[test]
    fn wrong_types_name_the_expected_type() {
        let found =
            problems("+++\ntitle = 3\ndate = 2024-01-02\nseverity = \"low\"\ntags = \"db\"\n+++\n");
        assert_eq!(found[0].0, "wrong-type");
        assert_eq!((found[0].1, found[0].2), (2, 9));
        assert_eq!((found[1].1, found[1].2), (5, 8));
        assert_eq!(
            found[1].3.as_deref(),
            Some("write it as `tags = [\"a\", \"b\"]`")
        );
    }

    #[test]
    fn impossible_dates_are_rejected_with_a_position() {
        let found = problems("+++\ntitle = \"t\"\ndate = 2024-02-30\nseverity = \"low\"\n+++\n");
        assert_eq!(found[0].0, "toml-syntax");
        assert_eq!(found[0].1, 3);
        let quoted =
            problems("+++\ntitle = \"t\"\ndate = \"2024-13-01\"\nseverity = \"low\"\n+++\n");
        assert_eq!((quoted[0].0, quoted[0].1, quoted[0].2), ("bad-date", 3, 8));
    }

    #[test]
    fn a_date_with_a_time_is_not_a_date() {
        let found =
            problems("+++\ntitle = \"t\"\ndate = 2024-02-03T10:00:00Z\nseverity = \"low\"\n+++\n");
        assert_eq!((found[0].0, found[0].1), ("wrong-type", 3));
    }

    #[test]
    fn unknown_enum_values_suggest_the_nearest() {
        let found = problems(
            "+++\ntitle = \"t\"\ndate = 2024-01-02\nseverity = \"critcal\"\nstatus = \"finale\"\nresponse = \"rollforward\"\n[timeline]\noutcome = \"sucess\"\n+++\n",
        );
        let rules: Vec<_> = found.iter().map(|f| (f.0, f.1, f.2)).collect();
        assert_eq!(
            rules,
            vec![
                ("unknown-outcome", 8, 11),
                ("unknown-response", 6, 12),
                ("unknown-severity", 4, 12),
                ("unknown-status", 5, 10),
            ]
        );
        assert!(
            found[2]
                .3
                .as_deref()
                .unwrap_or("")
                .starts_with("did you mean \"critical\"?")
        );
        assert!(
            found[1]
                .3
                .as_deref()
                .unwrap_or("")
                .starts_with("did you mean \"roll-forward\"?")
        );
    }

    #[test]
    fn missing_required_keys_point_at_the_opening_line() {
        let found = problems("+++\ntags = []\n+++\n");
        let rules: Vec<_> = found.iter().map(|f| (f.0, f.1, f.2)).collect();
        assert_eq!(
            rules,
            vec![
                ("missing-key", 1, 1),
                ("missing-key", 1, 1),
                ("missing-key", 1, 1)
            ]
        );
    }

    #[test]
    fn timeline_out_of_order_is_an_error() {
        let found = problems(
            "+++\ntitle = \"t\"\ndate = 2024-01-02\nseverity = \"low\"\n[timeline]\nstarted = 2024-01-02T10:00:00Z\nended = 2024-01-02T09:00:00Z\n+++\n",
        );
        assert_eq!((found[0].0, found[0].1), ("timeline-order", 7));
    }

    #[test]
    fn draft_key_points_to_status() {
        let found = problems(
            "+++\ntitle = \"t\"\ndate = 2024-01-02\nseverity = \"low\"\ndraft = true\n+++\n",
        );
        assert_eq!(
            found[0].3.as_deref(),
            Some("write `status = \"draft\"` instead")
        );
    }
}
