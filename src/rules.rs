//! Every rule a diagnostic comes from: its id, whether it is an error or a warning unless the
//! site says otherwise, and the `[rules]` levels of `rollbook.toml` applied to diagnostics.

use std::collections::HashMap;

use crate::diagnostic::{Diagnostic, Severity};

/// One rule: the id printed in brackets (`error[unknown-key]`) and used in `[rules]`.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub id: &'static str,
    pub default: Severity,
    /// One line on what the rule finds, for `rollbook check --help` readers and the README.
    pub summary: &'static str,
}

const fn error(id: &'static str, summary: &'static str) -> Rule {
    Rule {
        id,
        default: Severity::Error,
        summary,
    }
}

const fn warning(id: &'static str, summary: &'static str) -> Rule {
    Rule {
        id,
        default: Severity::Warning,
        summary,
    }
}

/// Every rule, errors first. Errors stop the build, so they cannot be switched off;
/// warnings can be switched off or raised to errors.
pub const RULES: &[Rule] = &[
    error("unreadable-file", "a file that cannot be read"),
    error("not-utf8", "a file that is not UTF-8"),
    error(
        "missing-front-matter",
        "a report that does not start with `+++`",
    ),
    error(
        "unclosed-front-matter",
        "front matter without its closing `+++`",
    ),
    error("toml-syntax", "front matter that is not valid TOML"),
    error("unknown-key", "a front matter key rollbook does not know"),
    error(
        "wrong-type",
        "a value of the wrong type, e.g. a string for a list",
    ),
    error(
        "bad-date",
        "a date or time that does not exist or is not a date",
    ),
    error(
        "missing-key",
        "a required key (title, date, severity) is missing",
    ),
    error("unknown-severity", "a severity that is not in `severities`"),
    error(
        "unknown-status",
        "a status other than draft, review or final",
    ),
    error(
        "unknown-response",
        "a response other than rollback or roll-forward",
    ),
    error(
        "unknown-outcome",
        "an outcome other than success, partial or failed",
    ),
    error(
        "timeline-order",
        "a timeline out of order: detected after started, or started after ended",
    ),
    error("duplicate-id", "two reports with the same file name"),
    error(
        "reserved-id",
        "a report named like a list page (`index`, `page-2`)",
    ),
    error("broken-link", "a link to a report that does not exist"),
    error(
        "broken-anchor",
        "a link to an anchor that is not on the linked page",
    ),
    warning(
        "link-to-draft",
        "a published report links to a draft, which is not published",
    ),
    warning("action-due-date", "an action's due date that is not a date"),
    warning("missing-lessons", "no lessons section, or an empty one"),
    warning("missing-actions", "no corrective actions"),
    warning(
        "action-without-owner",
        "a corrective action without an owner",
    ),
    warning(
        "overdue-action",
        "an open corrective action past its due date",
    ),
    warning(
        "severity-mismatch",
        "the body's severity section names another severity than the front matter",
    ),
    warning(
        "placeholder-text",
        "a final report with placeholder text from the template",
    ),
    warning(
        "blameful-language",
        "wording that blames people; postmortems are blameless",
    ),
];

pub fn find(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

/// What `[rules]` in `rollbook.toml` asks of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Off,
    Warning,
    Error,
}

impl Level {
    pub const NAMES: [&'static str; 3] = ["off", "warning", "error"];

    pub fn from_name(name: &str) -> Option<Level> {
        match name {
            "off" => Some(Level::Off),
            "warning" => Some(Level::Warning),
            "error" => Some(Level::Error),
            _ => None,
        }
    }
}

/// The site's rule levels; rules it does not name keep their defaults.
#[derive(Debug, Clone, Default)]
pub struct Levels {
    levels: HashMap<&'static str, Level>,
}

impl Levels {
    pub fn set(&mut self, rule: &'static Rule, level: Level) {
        self.levels.insert(rule.id, level);
    }

    pub fn is_off(&self, id: &str) -> bool {
        self.levels.get(id) == Some(&Level::Off)
    }

    /// Drops diagnostics of rules that are off and raises those set to `error`.
    pub fn apply(&self, diagnostics: &mut Vec<Diagnostic>) {
        diagnostics.retain_mut(|d| match self.levels.get(d.rule) {
            Some(Level::Off) => false,
            Some(Level::Error) => {
                d.severity = Severity::Error;
                true
            }
            Some(Level::Warning) | None => true,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_are_unique_and_kebab_case() {
        let mut seen = std::collections::HashSet::new();
        for rule in RULES {
            assert!(seen.insert(rule.id), "{} twice", rule.id);
            assert!(
                rule.id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{}",
                rule.id
            );
        }
    }

    #[test]
    fn levels_switch_off_and_raise() {
        let d = |rule| Diagnostic::file_error(std::path::Path::new("a.md"), rule, "m").warning();
        let mut levels = Levels::default();
        levels.set(find("missing-actions").expect("rule"), Level::Off);
        levels.set(find("blameful-language").expect("rule"), Level::Error);
        let mut found = vec![
            d("missing-actions"),
            d("blameful-language"),
            d("overdue-action"),
        ];
        levels.apply(&mut found);
        let kept: Vec<(&str, Severity)> = found.iter().map(|d| (d.rule, d.severity)).collect();
        assert_eq!(
            kept,
            [
                ("blameful-language", Severity::Error),
                ("overdue-action", Severity::Warning)
            ]
        );
    }
}
