//! A built site kept in memory, so that `serve` rebuilds only what an edit changed: the
//! edited reports are parsed again, the site's lists and related reports updated, and only
//! the pages whose fingerprint ([`Renderer::fingerprint`]) changed are rendered again. The
//! rest follows in [`Session::finish`], after the browser has been told to reload: pages
//! that differ only in what every page shows (the navigation's counts), the JSON export and
//! the search index, for the edited reports only.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use jiff::civil::Date;
use rayon::prelude::*;
use tantivy::{Index, IndexWriter};

use crate::analysis::{Hooks, Options, parse_content, sort};
use crate::config::Config;
use crate::diagnostic::{Diagnostic, Helpful};
use crate::index::{self, Fields};
use crate::load::read_one;
use crate::model::{Report, Site, Status};
use crate::parse::{Purpose, parse_report};
use crate::related::Similarity;
use crate::render::{Job, Renderer};
use crate::theme::{Theme, static_files};
use crate::view::Card;
use crate::webindex::{self, Cut};
use crate::write::InPlace;

/// What a session builds, and how.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The site root (holding `content/`).
    pub root: PathBuf,
    /// Where the site is written (and served from).
    pub output: PathBuf,
    /// Whether drafts are published.
    pub drafts: bool,
    /// Replaces the configuration's base URL: the server's address.
    pub base_url: Option<String>,
    /// The date overdue actions are measured against.
    pub today: Date,
}

/// What changed on disk, as the watcher saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Files or directories below `content/`, relative to it with `/`; each may have been
    /// written, created, renamed or deleted.
    Content(BTreeSet<String>),
    /// Templates or static files: every page is rendered again, nothing is parsed again.
    Theme,
    /// `rollbook.toml` (or the date): everything is parsed, indexed and rendered again.
    Everything,
}

/// What an update did.
#[derive(Debug, Default)]
pub struct Update {
    /// Pages rendered and written.
    pub rendered: usize,
    /// Pages removed (a deleted report's page, a list page that is no longer needed).
    pub removed: usize,
    /// Pages left for [`Session::finish`].
    pub deferred: usize,
    /// The errors in the content, sorted; when there are any, nothing was rendered and the
    /// previous pages stay.
    pub errors: Vec<Diagnostic>,
    /// How many warnings the content has (`rollbook check` lists them).
    pub warnings: usize,
    pub took: Duration,
}

/// What [`Session::finish`] did.
#[derive(Debug, Default)]
pub struct Finished {
    pub rendered: usize,
    /// Reports whose search documents were replaced or removed.
    pub indexed: usize,
    /// Stopped early because another change is waiting.
    pub interrupted: bool,
    pub took: Duration,
}

/// A report file's own problems (parse and lint), and whether it gave a report.
struct FileState {
    diagnostics: Vec<Diagnostic>,
    parsed: bool,
}

/// What a written page was rendered from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Written {
    page: u64,
    site: u64,
}

/// The search index in the output, open for updates.
struct Search {
    index_dir: PathBuf,
    writer: IndexWriter,
    fields: Fields,
    cut: Cut,
}

pub struct Session {
    settings: Settings,
    config: Config,
    theme: Theme,
    out: InPlace,
    /// Every report file under `content/`, by its path relative to `content/`.
    files: BTreeMap<String, FileState>,
    site: Site,
    /// Drafts when drafts are not published: their links are checked, nothing is rendered.
    hidden: Vec<Report>,
    /// Related reports' state; `None` until the first build has an index to compute it from.
    similarity: Option<Similarity>,
    /// The report cards of the last render, reused for unchanged reports.
    cards: Vec<Card>,
    /// The problems between reports (links, ids), with the site's rule levels applied.
    between: Vec<Diagnostic>,
    /// The pages on disk and what each was rendered from (`None`: from an earlier
    /// configuration or theme, so it must be rendered again).
    written: HashMap<String, Option<Written>>,
    /// Report ids whose search documents are out of date.
    unindexed: BTreeSet<String>,
    search: Option<Search>,
    /// Problems with `rollbook.toml` (or the templates it was loaded with) when it does not
    /// load, and with the templates or static files when they do not load or render. Kept
    /// apart so that fixing a template does not hide a configuration that is still broken.
    config_problems: Vec<Diagnostic>,
    theme_problems: Vec<Diagnostic>,
}

/// Pages rendered per batch in [`Session::finish`], between looks at whether another change
/// is waiting.
const BATCH: usize = 256;

/// Memory for the search index's writer: an edit adds a few dozen documents.
const WRITER_BUDGET: usize = 15 * 1024 * 1024;

impl Session {
    /// Builds the whole site into `settings.output`. An `Err` is a problem with the
    /// configuration or the templates (printed as diagnostics) or the environment; problems
    /// in reports are in the session's [`Session::problems`], and the site is built without
    /// the reports that have errors, so that there is something to serve while they are fixed.
    pub fn start(settings: Settings) -> Result<(Session, Update), Start> {
        let started = Instant::now();
        let (config, theme) = load_site(&settings)?;
        let out = InPlace::new(&settings.output).map_err(|e| Start::Failed(e.with_help()))?;
        let today = settings.today;
        let mut session = Session {
            site: Site::new(Vec::new(), &config.severities, today),
            settings,
            config,
            theme,
            out,
            files: BTreeMap::new(),
            hidden: Vec::new(),
            similarity: None,
            cards: Vec::new(),
            between: Vec::new(),
            written: HashMap::new(),
            unindexed: BTreeSet::new(),
            search: None,
            config_problems: Vec::new(),
            theme_problems: Vec::new(),
        };
        session.load_everything().map_err(Start::Failed)?;
        // Even with errors: the reports that parse are served while the others are fixed.
        let mut update = session.render(true).map_err(Start::Failed)?;
        update.errors = session.errors();
        update.warnings = session.warnings();
        update.took = started.elapsed();
        Ok((session, update))
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The errors as of the last update, sorted: the configuration's or the templates' when
    /// they do not load, otherwise the content's.
    pub fn errors(&self) -> Vec<Diagnostic> {
        if self.has_setup_problems() {
            let mut problems: Vec<Diagnostic> = self
                .config_problems
                .iter()
                .chain(&self.theme_problems)
                .cloned()
                .collect();
            sort(&mut problems);
            return problems;
        }
        let mut errors: Vec<Diagnostic> = self
            .files
            .values()
            .flat_map(|f| &f.diagnostics)
            .chain(&self.between)
            .filter(|d| d.is_error())
            .cloned()
            .collect();
        sort(&mut errors);
        errors
    }

    /// How many warnings the content has.
    pub fn warnings(&self) -> usize {
        self.files
            .values()
            .flat_map(|f| &f.diagnostics)
            .chain(&self.between)
            .filter(|d| !d.is_error())
            .count()
    }

    fn has_errors(&self) -> bool {
        self.has_setup_problems()
            || self
                .files
                .values()
                .flat_map(|f| &f.diagnostics)
                .chain(&self.between)
                .any(Diagnostic::is_error)
    }

    fn has_setup_problems(&self) -> bool {
        !self.config_problems.is_empty() || !self.theme_problems.is_empty()
    }

    pub fn report_count(&self) -> usize {
        self.site.reports.len()
    }

    pub fn page_count(&self) -> usize {
        self.written.len()
    }

    /// Applies what changed and renders the pages whose content changed. With errors,
    /// nothing is rendered: the pages on disk stay those of the last good build.
    pub fn apply(&mut self, change: &Change) -> anyhow::Result<Update> {
        let started = Instant::now();
        match change {
            Change::Content(paths) => self.reparse(paths)?,
            Change::Theme => match (
                Theme::load(&self.settings.root),
                static_files(&self.settings.root),
            ) {
                (Ok(theme), Ok(statics)) => {
                    self.theme_problems.clear();
                    self.theme = theme;
                    for file in &statics {
                        self.out.write(&file.path, &file.bytes)?;
                    }
                    // A template can change any page: all of them go before the reload.
                    self.forget_written();
                }
                (theme, statics) => {
                    self.theme_problems = theme
                        .err()
                        .into_iter()
                        .chain(statics.err())
                        .flatten()
                        .collect();
                }
            },
            Change::Everything => match load_site(&self.settings) {
                Ok((config, theme)) => {
                    self.config_problems.clear();
                    self.theme_problems.clear();
                    self.config = config;
                    self.theme = theme;
                    self.forget_written();
                    self.load_everything()?;
                }
                Err(Start::Problems(problems)) => self.config_problems = problems,
                Err(Start::Failed(e)) => return Err(e),
            },
        }
        let mut update = if self.has_errors() {
            Update::default()
        } else {
            match self.render(matches!(change, Change::Theme | Change::Everything)) {
                Ok(update) => update,
                // A template that fails on this content is shown like a broken report, and
                // every page is rendered again once the templates change.
                Err(error) => match error.downcast::<TemplateError>() {
                    Ok(TemplateError(message)) => {
                        self.theme_problems = vec![
                            Diagnostic::file_error(Path::new("templates"), "template", message)
                                .with_help("fix the template named in the message; theme templates are reachable as theme/NAME"),
                        ];
                        self.forget_written();
                        Update::default()
                    }
                    Err(error) => return Err(error),
                },
            }
        };
        update.errors = self.errors();
        update.warnings = self.warnings();
        update.took = started.elapsed();
        Ok(update)
    }

    /// A new date: overdue actions are counted against it, which can change any page. Apply
    /// [`Change::Everything`] after it.
    pub fn set_today(&mut self, today: Date) {
        self.settings.today = today;
    }

    /// The work [`Session::apply`] left: pages whose own content is unchanged but which
    /// show the site's counts, the JSON export, and the search index. Stops between batches
    /// when `waiting` says another change is there (the next `finish` picks up the rest).
    pub fn finish(&mut self, waiting: &dyn Fn() -> bool) -> anyhow::Result<Finished> {
        let started = Instant::now();
        let mut finished = Finished::default();
        if self.has_errors() {
            return Ok(finished);
        }
        let renderer = Renderer::reusing(
            &self.site,
            &self.config,
            &mut self.theme,
            std::mem::take(&mut self.cards),
        );
        let (jobs, paths, stale) = stale_jobs(&renderer, &self.written);
        for batch in stale.chunks(BATCH) {
            if waiting() {
                finished.interrupted = true;
                break;
            }
            let which: Vec<(usize, Written)> = batch.iter().map(|s| (s.job, s.now)).collect();
            let done = render_jobs(&renderer, &self.out, &jobs, &paths, &which)?;
            finished.rendered += done.len();
            self.written
                .extend(done.into_iter().map(|(path, w)| (path, Some(w))));
        }
        self.cards = renderer.into_cards();
        if !finished.interrupted && !self.unindexed.is_empty() {
            finished.indexed = self.reindex()?;
        }
        finished.took = started.elapsed();
        Ok(finished)
    }

    /// Parses everything again and builds a new search index: the start, and a changed
    /// configuration. Pages are rendered by the caller.
    fn load_everything(&mut self) -> anyhow::Result<()> {
        let root = self.settings.root.clone();
        let today = self.settings.today;
        let options = Options {
            today,
            drafts: self.settings.drafts,
            purpose: Purpose::Build,
        };
        let parsed = parse_content(&root, &self.config, &options, &Hooks::NONE)?;
        self.files.clear();
        let mut reports = Vec::with_capacity(parsed.files.len());
        let unreadable = parsed
            .unreadable
            .into_iter()
            .map(|problem| (content_path_of(&problem.file), None, vec![problem]));
        let files = parsed
            .files
            .into_iter()
            .map(|(path, file)| (path, file.report, file.diagnostics));
        for (content_path, report, mut diagnostics) in files.chain(unreadable) {
            self.config.rules.apply(&mut diagnostics);
            self.files.insert(
                content_path,
                FileState {
                    diagnostics,
                    parsed: report.is_some(),
                },
            );
            reports.extend(report);
        }
        let (published, hidden): (Vec<Report>, Vec<Report>) = reports
            .into_iter()
            .partition(|r| self.settings.drafts || r.meta.status != Status::Draft);
        self.hidden = hidden;
        self.site = Site::new(published, &self.config.severities, today);
        self.between = check_between(
            &self.files,
            self.site.reports.iter().chain(&self.hidden),
            &self.config,
            self.settings.drafts,
        );
        self.cards.clear();

        self.search = None;
        let index_dir = self.out.path().join(index::DIR);
        if index_dir.exists() {
            std::fs::remove_dir_all(&index_dir)
                .with_context(|| format!("cannot remove {}", index_dir.display()))?;
        }
        let reports = &self.site.reports;
        let built = index::create_then(&index_dir, reports, |searcher| {
            Ok(Similarity::build_from(searcher, reports))
        })
        .context("cannot write the search index")?;
        let (similarity, related) =
            built.context("cannot read the search index back for related reports")?;
        let mut cut = Cut::default();
        webindex::export_again(&index_dir, &self.out.dir("search")?, &mut cut)
            .context("cannot write the search index for the browser")?;
        self.similarity = Some(similarity);
        self.site.related = related;
        self.search = Some(open_search(index_dir, cut)?);
        self.unindexed.clear();

        match static_files(&root) {
            Ok(statics) => {
                for file in &statics {
                    self.out.write(&file.path, &file.bytes)?;
                }
            }
            Err(problems) => self.theme_problems = problems,
        }
        Ok(())
    }

    /// Parses the changed files again and updates the site and related reports.
    fn reparse(&mut self, changed: &BTreeSet<String>) -> anyhow::Result<()> {
        lap_start();
        let content = self.settings.root.join("content");
        // The report files concerned: those named, those below a named directory (moved or
        // deleted as a whole), and the ones found in it now.
        let mut paths: BTreeSet<String> = BTreeSet::new();
        for path in changed {
            let prefix = format!("{path}/");
            paths.extend(
                self.files
                    .keys()
                    .filter(|known| *known == path || known.starts_with(&prefix))
                    .cloned(),
            );
            let full = content.join(path);
            if full.is_dir() {
                paths.extend(markdown_below(&full, &content));
            } else if is_report_file(path) {
                paths.insert(path.clone());
            }
        }
        if paths.is_empty() {
            return Ok(());
        }

        let mut old_ids: HashSet<String> = HashSet::new();
        let mut reports = std::mem::take(&mut self.site.reports);
        for list in [&mut reports, &mut self.hidden] {
            list.retain(|r| {
                let gone = paths.contains(&r.content_path);
                if gone {
                    old_ids.insert(r.id.clone());
                }
                !gone
            });
        }
        let root = self.settings.root.clone();
        let config = &self.config;
        let today = self.settings.today;
        let parsed: Vec<(String, Option<FileResult>)> = paths
            .par_iter()
            .map(|path| {
                let result = content.join(path).is_file().then(|| {
                    let (report, mut diagnostics) = match read_one(&root, path) {
                        Ok(file) => {
                            let parsed = parse_report(&file, config, today, Purpose::Build);
                            (parsed.report, parsed.diagnostics)
                        }
                        Err(problem) => (None, vec![*problem]),
                    };
                    config.rules.apply(&mut diagnostics);
                    (report, diagnostics)
                });
                (path.clone(), result)
            })
            .collect();
        let mut new_ids: HashSet<String> = HashSet::new();
        for (path, result) in parsed {
            let Some((report, diagnostics)) = result else {
                self.files.remove(&path);
                continue;
            };
            self.files.insert(
                path,
                FileState {
                    diagnostics,
                    parsed: report.is_some(),
                },
            );
            if let Some(report) = report {
                new_ids.insert(report.id.clone());
                if self.settings.drafts || report.meta.status != Status::Draft {
                    reports.push(report);
                } else {
                    self.hidden.push(report);
                }
            }
        }
        lap("parse");
        self.site = Site::new(reports, &self.config.severities, today);
        lap("site");

        let published: HashSet<&str> = self.site.reports.iter().map(|r| r.id.as_str()).collect();
        let changed_ids: Vec<&str> = new_ids
            .iter()
            .map(String::as_str)
            .filter(|id| published.contains(id))
            .collect();
        let removed_ids: Vec<&str> = old_ids
            .iter()
            .map(String::as_str)
            .filter(|id| !published.contains(id))
            .collect();
        // The links between reports and the related reports do not depend on each other.
        let site = &self.site;
        let similarity = self.similarity.as_mut();
        let (between, related) = rayon::join(
            || {
                check_between(
                    &self.files,
                    site.reports.iter().chain(&self.hidden),
                    &self.config,
                    self.settings.drafts,
                )
            },
            || {
                similarity.map(|similarity| {
                    similarity.update(&site.reports, &changed_ids, &removed_ids);
                    similarity.related(&site.reports)
                })
            },
        );
        self.between = between;
        if let Some(related) = related {
            self.site.related = related;
        }
        lap("check+related");
        self.unindexed.extend(old_ids);
        self.unindexed.extend(new_ids);
        Ok(())
    }

    /// Keeps which pages exist (to remove those that are no longer needed) but not what
    /// they were rendered from, so that every page is rendered again.
    fn forget_written(&mut self) {
        for written in self.written.values_mut() {
            *written = None;
        }
    }

    /// Renders the pages whose own content changed (every stale page when `everything`)
    /// and removes the pages the site no longer has. Pages that differ only in what every
    /// page shows are left for [`Session::finish`], and so is the JSON export, which is
    /// for programs rather than for the page being looked at.
    fn render(&mut self, everything: bool) -> anyhow::Result<Update> {
        lap("errors");
        let renderer = Renderer::reusing(
            &self.site,
            &self.config,
            &mut self.theme,
            std::mem::take(&mut self.cards),
        );
        lap("renderer");
        let (jobs, paths, stale) = stale_jobs(&renderer, &self.written);
        lap("fingerprints");
        let (now, later): (Vec<Stale>, Vec<Stale>) = stale
            .into_iter()
            .partition(|s| everything || (s.own && !matches!(jobs[s.job], Job::Json)));
        let which: Vec<(usize, Written)> = now.iter().map(|s| (s.job, s.now)).collect();
        let done = render_jobs(&renderer, &self.out, &jobs, &paths, &which)?;
        lap("render");
        self.cards = renderer.into_cards();
        let mut update = Update {
            rendered: done.len(),
            deferred: later.len(),
            ..Update::default()
        };
        self.written
            .extend(done.into_iter().map(|(path, w)| (path, Some(w))));
        let current: HashSet<&String> = paths.iter().collect();
        let gone: Vec<String> = self
            .written
            .keys()
            .filter(|path| !current.contains(path))
            .cloned()
            .collect();
        for path in gone {
            self.out.remove(&path)?;
            self.written.remove(&path);
            update.removed += 1;
        }
        Ok(update)
    }

    /// Replaces the search documents of the reports that changed, and the browser's copy.
    fn reindex(&mut self) -> anyhow::Result<usize> {
        let Some(search) = self.search.as_mut() else {
            return Ok(0);
        };
        let ids = std::mem::take(&mut self.unindexed);
        let by_id: HashMap<&str, &Report> = self
            .site
            .reports
            .iter()
            .map(|r| (r.id.as_str(), r))
            .collect();
        for id in &ids {
            index::delete_report(&search.writer, &search.fields, id);
            if let Some(report) = by_id.get(id.as_str()) {
                index::add_report(&search.writer, &search.fields, report)?;
            }
        }
        search.writer.commit()?;
        let search_dir = self.out.dir("search")?;
        webindex::export_again(&search.index_dir, &search_dir, &mut search.cut)
            .context("cannot write the search index for the browser")?;
        Ok(ids.len())
    }
}

/// The problems between reports (all of them, drafts included), with the site's rule levels
/// applied.
fn check_between<'a>(
    files: &BTreeMap<String, FileState>,
    reports: impl Iterator<Item = &'a Report>,
    config: &Config,
    drafts: bool,
) -> Vec<Diagnostic> {
    let unparsed: HashSet<String> = files
        .iter()
        .filter(|(_, f)| !f.parsed)
        .map(|(path, _)| path.clone())
        .collect();
    let all: Vec<&Report> = reports.collect();
    let mut problems = crate::site::check(&all, &unparsed, drafts);
    config.rules.apply(&mut problems);
    problems
}

/// A page whose output on disk is out of date.
struct Stale {
    job: usize,
    now: Written,
    /// Its own content changed, not only what every page shows.
    own: bool,
}

/// Every job, its path, and the jobs whose fingerprints differ from what was written.
fn stale_jobs(
    renderer: &Renderer<'_>,
    written: &HashMap<String, Option<Written>>,
) -> (Vec<Job>, Vec<String>, Vec<Stale>) {
    let jobs = renderer.jobs();
    let paths: Vec<String> = jobs.par_iter().map(|job| renderer.path(job)).collect();
    let site = renderer.site_fingerprint();
    let stale = (0..jobs.len())
        .into_par_iter()
        .filter_map(|job| {
            let now = Written {
                page: renderer.fingerprint(&jobs[job], &paths[job], &paths),
                site,
            };
            let before = written.get(&paths[job]).copied().flatten();
            let own = before.is_none_or(|b| b.page != now.page);
            (before != Some(now)).then_some(Stale { job, now, own })
        })
        .collect();
    (jobs, paths, stale)
}

/// A template that does not render (a missing value, a failing filter).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct TemplateError(String);

/// Why a session could not start.
#[derive(Debug)]
pub enum Start {
    /// `rollbook.toml` or the templates have errors.
    Problems(Vec<Diagnostic>),
    Failed(anyhow::Error),
}

type FileResult = (Option<Report>, Vec<Diagnostic>);

/// The configuration (with the server's base URL) and the templates.
fn load_site(settings: &Settings) -> Result<(Config, Theme), Start> {
    let mut config = Config::load(&settings.root).map_err(Start::Problems)?;
    if let Some(url) = &settings.base_url {
        config.set_base_url(url);
    }
    let theme = Theme::load(&settings.root).map_err(Start::Problems)?;
    Ok((config, theme))
}

fn open_search(index_dir: PathBuf, cut: Cut) -> anyhow::Result<Search> {
    let index = Index::open_in_dir(&index_dir)
        .with_context(|| format!("cannot open the search index in {}", index_dir.display()))?;
    crate::analyzer::register(&index);
    let fields = Fields::of(&index)?;
    let writer = index.writer_with_num_threads(1, WRITER_BUDGET)?;
    Ok(Search {
        index_dir,
        writer,
        fields,
        cut,
    })
}

/// Renders and writes the given jobs in parallel; what each written page was rendered from.
fn render_jobs(
    renderer: &Renderer<'_>,
    out: &InPlace,
    jobs: &[Job],
    paths: &[String],
    which: &[(usize, Written)],
) -> anyhow::Result<Vec<(String, Written)>> {
    which
        .par_iter()
        .map(|&(i, written)| {
            let page = renderer
                .render(&jobs[i], paths)
                .map_err(|e| anyhow::Error::new(TemplateError(e)))?;
            out.write_with(&page.path, |w| page.body.write_to(w))?;
            Ok((paths[i].clone(), written))
        })
        .collect()
}

thread_local!(static LAST_LAP: std::cell::Cell<Option<Instant>> = const { std::cell::Cell::new(None) });

/// Starts timing an update's stages (see [`lap`]).
fn lap_start() {
    LAST_LAP.set(Some(Instant::now()));
}

/// With `ROLLBOOK_TIMINGS` set, the time since the previous lap, on stderr: where an
/// update's time goes, for benchmarking.
fn lap(stage: &str) {
    if std::env::var_os("ROLLBOOK_TIMINGS").is_none() {
        return;
    }
    let now = Instant::now();
    if let Some(last) = LAST_LAP.get() {
        eprintln!(
            "timing: {stage:<14} {:>8.1} ms",
            (now - last).as_secs_f64() * 1e3
        );
    }
    LAST_LAP.set(Some(now));
}

/// `content/2024/x.md` (as diagnostics name files) → `2024/x.md`.
fn content_path_of(file: &Path) -> String {
    crate::load::slash_path(file.strip_prefix("content").unwrap_or(file))
}

/// Whether a path below `content/` is a report file: Markdown, not hidden (editors' swap
/// and backup files start with a dot or end in `~`).
fn is_report_file(path: &str) -> bool {
    path.ends_with(".md") && !path.split('/').any(|part| part.starts_with('.'))
}

/// The report files below a directory of `content/`, relative to `content/`.
fn markdown_below(dir: &Path, content: &Path) -> Vec<String> {
    walkdir::WalkDir::new(dir)
        .follow_links(true)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| crate::load::slash_path(e.path().strip_prefix(content).unwrap_or(e.path())))
        .filter(|path| is_report_file(path))
        .collect()
}
