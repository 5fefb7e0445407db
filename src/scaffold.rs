//! The files `rollbook init` and `rollbook new` write: embedded so the binary works anywhere.

use jiff::civil::Date;

pub const CONFIG: &str = include_str!("../scaffold/rollbook.toml");
pub const EXAMPLE_REPORT: &str = include_str!("../scaffold/example-report.md");
/// The example report's file name (its date and a slug of its title).
pub const EXAMPLE_REPORT_NAME: &str = "2026-03-18-push-notifications-failed-after-3-9-0.md";
pub const NEW_REPORT_BODY: &str = include_str!("../scaffold/new-report.md");
pub const GITIGNORE: &str = "/public\n";

/// A new report: front matter for `title` dated `date`, as a draft, then the template body.
pub fn new_report(title: &str, date: Date, severities: &[String]) -> String {
    let quoted = toml::Value::String(title.to_string()).to_string();
    let severity = severities
        .get(1)
        .or(severities.first())
        .map_or("high", String::as_str);
    let choices = severities.join(", ");
    format!(
        "+++\n\
title = {quoted}\n\
date = {date}\n\
severity = \"{severity}\"  # one of: {choices}\n\
status = \"draft\"  # draft → review → final\n\
response = \"rollback\"  # or \"roll-forward\"\n\
services = []\n\
tags = []\n\
teams = []\n\
authors = []\n\
\n\
[release]\n\
from = \"\"  # the release that was rolled back\n\
to = \"\"  # the release rolled back to\n\
\n\
[timeline]\n\
# detected = {date}T09:40:00Z\n\
# started = {date}T10:00:00Z\n\
# ended = {date}T10:45:00Z\n\
# outcome = \"success\"  # success | partial | failed\n\
+++\n\
\n\
{NEW_REPORT_BODY}"
    )
}

/// `2024-01-26-checkout-500s-after-2-5-0.md`
pub fn report_file_name(title: &str, date: Date) -> String {
    let slug = crate::slug::short_slug(title, 10);
    format!("{date}-{slug}.md")
}
