//! `rollbook new TITLE`: a report from the rollback report template, dated today, as a draft.

use std::path::Path;

use anyhow::Context as _;

use crate::cmd::{Outcome, Stream, color, today};
use crate::config::Config;
use crate::diagnostic::print_human;
use crate::scaffold::{new_report, report_file_name};

pub fn run(title: &str, root: &Path) -> anyhow::Result<Outcome> {
    let title = title.trim();
    if title.is_empty() {
        anyhow::bail!(
            "the title is empty; give the report a title such as \"Checkout 500s after 2.5.0\""
        );
    }
    let config = match Config::load(root) {
        Ok(config) => config,
        Err(diagnostics) => {
            print_human(&diagnostics, color(Stream::Stderr));
            return Ok(Outcome::ContentErrors);
        }
    };
    let content = root.join("content");
    if !content.is_dir() {
        anyhow::bail!(
            "{} has no content/ directory; run `rollbook init` first or pass --root",
            root.display()
        );
    }
    let date = today()?;
    let path = content.join(report_file_name(title, date));
    let text = new_report(title, date, &config.severities);
    let mut file = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            anyhow::bail!(
                "{} already exists; rollbook new never overwrites a report (choose another title or edit that file)",
                path.display()
            )
        }
        Err(e) => return Err(e).with_context(|| format!("cannot create {}", path.display())),
    };
    std::io::Write::write_all(&mut file, text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    println!("{}", path.display());
    eprintln!(
        "Created a draft report. Fill in the [Placeholder: …] parts, then set status = \"review\"."
    );
    Ok(Outcome::Success)
}
