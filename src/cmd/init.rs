//! `rollbook init DIR`: a working site root with a configuration and one example report.

use std::path::Path;

use anyhow::Context as _;

use crate::cmd::Outcome;
use crate::config::FILE_NAME;
use crate::scaffold::{CONFIG, EXAMPLE_REPORT, EXAMPLE_REPORT_NAME, GITIGNORE};

pub fn run(dir: &Path) -> anyhow::Result<Outcome> {
    let config = dir.join(FILE_NAME);
    let content = dir.join("content");
    if config.exists() {
        anyhow::bail!(
            "{} already exists; rollbook init does not overwrite a site",
            config.display()
        );
    }
    let content_has_files = content
        .read_dir()
        .map(|mut entries| entries.next().is_some())
        .unwrap_or(false);
    if content_has_files {
        anyhow::bail!(
            "{} already has files; rollbook init does not overwrite a site",
            content.display()
        );
    }
    std::fs::create_dir_all(&content)
        .with_context(|| format!("cannot create {}", content.display()))?;
    let write = |path: &Path, text: &str| {
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
    };
    write(&config, CONFIG)?;
    write(&content.join(EXAMPLE_REPORT_NAME), EXAMPLE_REPORT)?;
    let gitignore = dir.join(".gitignore");
    if !gitignore.exists() {
        write(&gitignore, GITIGNORE)?;
    }
    eprintln!("Created a rollbook site in {}:", dir.display());
    eprintln!("  {FILE_NAME}                 settings (every key optional)");
    eprintln!("  content/{EXAMPLE_REPORT_NAME}");
    eprintln!();
    eprintln!(
        "Next: `rollbook new \"Title of the incident\"` to write a report, `rollbook build` to build the site."
    );
    Ok(Outcome::Success)
}
