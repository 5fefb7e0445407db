//! `rollbook check`: every problem in every report, for a person, for GitHub Actions or as
//! JSON, and an exit code CI can act on.

use std::io::Write as _;

use anyhow::Context as _;
use serde::Serialize;

use crate::analysis::{Analysis, Hooks, Options, analyze, sort};
use crate::cli::{CheckArgs, Format};
use crate::cmd::{Outcome, Stream, color, plural, relative_to_cwd, today};
use crate::config::Config;
use crate::diagnostic::Diagnostic;
use crate::parse::Purpose;
use crate::theme::Theme;

pub fn run(args: &CheckArgs) -> anyhow::Result<Outcome> {
    let root = &args.root;
    if !root.is_dir() {
        anyhow::bail!("the site root {} is not a directory", root.display());
    }
    let (diagnostics, files) = match Config::load(root) {
        Ok(config) => {
            let options = Options {
                today: today()?,
                drafts: false,
                purpose: Purpose::Check,
            };
            let Analysis {
                mut diagnostics,
                files,
                ..
            } = analyze(root, &config, &options, &Hooks::NONE)?;
            // The build stops on a theme override that does not load; so does the check.
            if let Err(theme) = Theme::load(root) {
                diagnostics.extend(theme);
                sort(&mut diagnostics);
            }
            (diagnostics, files)
        }
        Err(mut diagnostics) => {
            sort(&mut diagnostics);
            (diagnostics, 0)
        }
    };
    let diagnostics = relative_to_cwd(&diagnostics, root);
    let summary = Summary::of(&diagnostics, files);
    let text = match args.format {
        Format::Human => human(&diagnostics, &summary, color(Stream::Stdout)),
        Format::Github => github(&diagnostics, &summary),
        Format::Json => json(&diagnostics, &summary)?,
    };
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .context("cannot write to standard output")?;
    let failed = summary.errors > 0 || (args.deny_warnings && summary.warnings > 0);
    Ok(if failed {
        Outcome::ContentErrors
    } else {
        Outcome::Success
    })
}

#[derive(Debug, Serialize)]
struct Summary {
    errors: usize,
    warnings: usize,
    /// Report files checked.
    reports: usize,
}

impl Summary {
    fn of(diagnostics: &[Diagnostic], reports: usize) -> Summary {
        let errors = diagnostics.iter().filter(|d| d.is_error()).count();
        Summary {
            errors,
            warnings: diagnostics.len() - errors,
            reports,
        }
    }

    fn line(&self) -> String {
        format!(
            "{} error{}, {} warning{} in {} report{}\n",
            self.errors,
            plural(self.errors),
            self.warnings,
            plural(self.warnings),
            self.reports,
            plural(self.reports)
        )
    }
}

fn human(diagnostics: &[Diagnostic], summary: &Summary, color: bool) -> String {
    let mut out = String::new();
    for d in diagnostics {
        out.push_str(&d.render_human(color));
        out.push('\n');
    }
    out.push_str(&summary.line());
    out
}

fn github(diagnostics: &[Diagnostic], summary: &Summary) -> String {
    let mut out = String::new();
    for d in diagnostics {
        out.push_str(&d.render_github());
        out.push('\n');
    }
    out.push_str(&summary.line());
    out
}

/// The documented JSON shape: `{"summary", "diagnostics"}`, each diagnostic as
/// `Diagnostic` serializes (file, line, column, end_line, end_column, severity, rule,
/// message, help).
fn json(diagnostics: &[Diagnostic], summary: &Summary) -> anyhow::Result<String> {
    #[derive(Serialize)]
    struct Document<'a> {
        summary: &'a Summary,
        diagnostics: &'a [Diagnostic],
    }
    let mut text = serde_json::to_string_pretty(&Document {
        summary,
        diagnostics,
    })?;
    text.push('\n');
    Ok(text)
}
