//! Keeps the search index in the output in step with `content/`, so that a search never
//! answers from stale content: nothing to do when nothing changed, the changed reports only
//! when the index is compatible, and a whole new index (without rendering the site) when
//! there is none.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use jiff::civil::Date;
use tantivy::Index;

use crate::analysis::{Hooks, Options, analyze};
use crate::config::Config;
use crate::diagnostic::{Diagnostic, Helpful};
use crate::freshness::{Changes, Listing, MANIFEST, Manifest, compare, config_hash};
use crate::index::{self, Fields};
use crate::load::read_one;
use crate::markdown::report_id_of;
use crate::model::Status;
use crate::parse::{Purpose, parse_report};

/// What was done, for one line on stderr.
#[derive(Debug, PartialEq, Eq)]
pub enum Refresh {
    UpToDate,
    /// Reports reindexed (new or changed) and removed.
    Updated {
        changed: Vec<String>,
        removed: Vec<String>,
        /// Changed files left out because they have errors.
        broken: Vec<String>,
    },
    /// A whole new index; why, and how many reports are in it.
    Rebuilt {
        why: &'static str,
        reports: usize,
        broken: usize,
    },
}

/// Runs `query` on `output`'s index and returns its answer, never a stale one.
///
/// The query runs on the index as it is while, in parallel, the content is compared with
/// what the index was built from: on 10,000 reports the comparison (a stat per file) takes
/// longer than the query, and usually nothing changed. When something did, the index is
/// brought up to date first and the query runs again.
///
/// Meant for a process that exits after the answer: when nothing changed, what the
/// comparison read (an entry per report file) is not freed.
pub fn query_fresh<T: Send>(
    root: &Path,
    config: &Config,
    output: &Path,
    today: Date,
    query: impl Fn(&Index) -> T + Sync,
) -> anyhow::Result<(T, Refresh)> {
    let index_dir = output.join(index::DIR);
    let (early, state) = rayon::join(
        || open(&index_dir).ok().map(|(index, _)| query(&index)),
        || State::read(root, output),
    );
    if let (
        Some(answer),
        State::Changes {
            manifest, found, ..
        },
    ) = (early, &state)
        && found.is_empty()
    {
        if !found.touched.is_empty() {
            // Same bytes, new times: remember the times, so that the next search does not
            // read these files again.
            write_manifest(
                output,
                &Manifest::new(manifest.config, manifest.drafts, found.files.clone()),
            )?;
        }
        // The caller prints the answer and exits: freeing the manifest's entries one by one
        // (10,000 strings) would add more than a millisecond to every search.
        std::mem::forget(state);
        return Ok((answer, Refresh::UpToDate));
    }
    let (index, refreshed) = bring_up_to_date(root, config, output, today, state)?;
    Ok((query(&index), refreshed))
}

/// How the index stands with the content.
enum State {
    /// No manifest, or one that the index cannot be updated from: it is built again.
    Rebuild {
        why: &'static str,
        config: u64,
        drafts: bool,
    },
    /// The files that differ from the manifest's, and what they were found from (kept to be
    /// freed with the rest, or not at all; see [`query_fresh`]).
    Changes {
        manifest: Manifest,
        found: Changes,
        _listing: Listing,
    },
}

impl State {
    fn read(root: &Path, output: &Path) -> State {
        let config = config_hash(root);
        let (manifest, listing) = rayon::join(|| Manifest::read(output), || Listing::of(root));
        match manifest {
            None => State::Rebuild {
                why: "there is no search index yet",
                config,
                drafts: false,
            },
            Some(m) if !m.is_compatible(config, m.drafts) => State::Rebuild {
                why: "the index was built by another rollbook or with another rollbook.toml",
                config,
                drafts: m.drafts,
            },
            Some(manifest) => {
                let found = compare(&listing, &manifest);
                State::Changes {
                    manifest,
                    found,
                    _listing: listing,
                }
            }
        }
    }
}

fn bring_up_to_date(
    root: &Path,
    config: &Config,
    output: &Path,
    today: Date,
    state: State,
) -> anyhow::Result<(Index, Refresh)> {
    let index_dir = output.join(index::DIR);
    let (why, config_hash, drafts) = match state {
        State::Rebuild {
            why,
            config,
            drafts,
        } => (why, config, drafts),
        State::Changes {
            manifest, found, ..
        } => match open(&index_dir) {
            Ok((index, fields)) => {
                let refreshed = update(
                    root, config, output, &manifest, found, &index, &fields, today,
                )?;
                return Ok((index, refreshed));
            }
            Err(_) => (
                "the index could not be opened",
                manifest.config,
                manifest.drafts,
            ),
        },
    };
    let refreshed = rebuild(root, config, output, config_hash, drafts, today, why)?;
    let (index, _) = open(&index_dir)
        .with_context(|| format!("cannot open the search index in {}", index_dir.display()))?;
    Ok((index, refreshed))
}

/// An index written by this version, with the analyzer that writing to it needs.
fn open(dir: &Path) -> tantivy::Result<(Index, Fields)> {
    let index = Index::open_in_dir(dir)?;
    let fields = Fields::of(&index)?;
    crate::analyzer::register(&index);
    Ok((index, fields))
}

#[allow(clippy::too_many_arguments)]
fn update(
    root: &Path,
    config: &Config,
    output: &Path,
    manifest: &Manifest,
    found: Changes,
    index: &Index,
    fields: &Fields,
    today: Date,
) -> anyhow::Result<Refresh> {
    if found.is_empty() {
        return Ok(Refresh::UpToDate);
    }
    let mut writer = index.writer_with_num_threads(1, 15 * 1024 * 1024)?;
    for path in &found.removed {
        index::delete_report(&writer, fields, &report_id_of(path));
    }
    let mut broken = Vec::new();
    for path in &found.changed {
        index::delete_report(&writer, fields, &report_id_of(path));
        let report = read_one(root, path)
            .ok()
            .and_then(|file| parse_report(&file, config, today, Purpose::Build).report);
        match report {
            Some(report) if manifest.drafts || report.meta.status != Status::Draft => {
                index::add_report(&writer, fields, &report)?;
            }
            Some(_) => {}
            None => broken.push(path.clone()),
        }
    }
    writer.commit()?;
    writer.wait_merging_threads()?;
    let updated = Manifest::new(manifest.config, manifest.drafts, found.files);
    write_manifest(output, &updated)?;
    Ok(Refresh::Updated {
        changed: found.changed,
        removed: found.removed,
        broken,
    })
}

fn rebuild(
    root: &Path,
    config: &Config,
    output: &Path,
    config_hash: u64,
    drafts: bool,
    today: Date,
    why: &'static str,
) -> anyhow::Result<Refresh> {
    // The index goes inside the output, which must be rollbook's (or not exist yet).
    crate::write::claim(output).map_err(crate::write::WriteError::with_help)?;
    let options = Options {
        today,
        drafts,
        purpose: Purpose::Build,
    };
    let analysis = analyze(root, config, &options, &Hooks::NONE)?;
    let broken = broken_files(&analysis.diagnostics);
    let index_dir = output.join(index::DIR);
    if index_dir.exists() {
        std::fs::remove_dir_all(&index_dir)
            .with_context(|| format!("cannot remove the old index in {}", index_dir.display()))?;
    }
    index::create(&index_dir, &analysis.site.reports)
        .with_context(|| format!("cannot write the search index in {}", index_dir.display()))?;
    write_manifest(output, &Manifest::new(config_hash, drafts, analysis.stamps))?;
    Ok(Refresh::Rebuilt {
        why,
        reports: analysis.site.reports.len(),
        broken,
    })
}

fn broken_files(diagnostics: &[Diagnostic]) -> usize {
    let mut files: Vec<&PathBuf> = diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| &d.file)
        .collect();
    files.sort();
    files.dedup();
    files.len()
}

fn write_manifest(output: &Path, manifest: &Manifest) -> anyhow::Result<()> {
    let path = output.join(MANIFEST);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    // Written last and whole: a half-updated index is reindexed next time.
    let temp = path.with_extension("txt.tmp");
    std::fs::write(&temp, manifest.to_text())
        .and_then(|()| std::fs::rename(&temp, &path))
        .with_context(|| format!("cannot write {}", path.display()))
}
