//! `rollbook build`: load → parse → assemble → render → write, with every content problem
//! reported in one run.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

use crate::analysis::{Analysis, Hooks, Options, analyze, sort};
use crate::cli::BuildArgs;
use crate::cmd::{
    Outcome, Stream, color, display_path, interactive, plural, relative_to_cwd, tidy, today,
};
use crate::config::Config;
use crate::diagnostic::{Diagnostic, Helpful, print_human};
use crate::freshness::{Manifest, config_hash};
use crate::parse::Purpose;
use crate::render::{Body, Renderer};
use crate::theme::{Theme, static_files};
use crate::write::{Staging, WriteError};

pub fn run(args: &BuildArgs) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    let root = &args.root;
    if !root.is_dir() {
        anyhow::bail!("the site root {} is not a directory", root.display());
    }
    let mut config = match Config::load(root) {
        Ok(config) => config,
        Err(diagnostics) => return Ok(report_problems(diagnostics, root)),
    };
    if let Some(url) = &args.base_url {
        config.set_base_url(url);
    }
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| tidy(&root.join(&config.output_dir)));
    let today = today()?;

    let timings = Timings::new();
    let progress = Progress::new(interactive());
    let parsing = std::sync::OnceLock::<ProgressBar>::new();
    let options = Options {
        today,
        drafts: args.drafts,
        purpose: Purpose::Build,
    };
    let loaded = |files: usize| {
        timings.mark("load");
        let _ = parsing.set(progress.stage(files, "parsing"));
    };
    let parsed = || {
        if let Some(bar) = parsing.get() {
            bar.inc(1);
        }
    };
    let analysis = analyze(
        root,
        &config,
        &options,
        &Hooks {
            loaded: &loaded,
            parsed: &parsed,
        },
    )?;
    if let Some(bar) = parsing.get() {
        bar.finish_and_clear();
    }
    timings.mark("parse");
    let Analysis {
        mut site,
        diagnostics,
        stamps,
        ..
    } = analysis;
    let mut theme = match Theme::load(root) {
        Ok(theme) => theme,
        Err(theme_diagnostics) => {
            let mut all = diagnostics;
            all.extend(theme_diagnostics);
            return Ok(report_problems(all, root));
        }
    };
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Ok(report_problems(diagnostics, root));
    }
    let warnings = diagnostics.len();
    print_problems(&diagnostics, root);
    // A large site has tens of thousands of warnings (overdue actions); they are printed.
    drop(diagnostics);

    let statics = match static_files(root) {
        Ok(files) => files,
        Err(static_diagnostics) => return Ok(report_problems(static_diagnostics, root)),
    };
    timings.mark("assemble");
    // The parser's working memory, before the index writer allocates its own.
    crate::memory::release_freed();
    let staging = Staging::begin(&output).map_err(WriteError::with_help)?;
    let manifest = Manifest::new(config_hash(root), args.drafts, stamps);
    staging.write(crate::freshness::MANIFEST, manifest.to_text().as_bytes())?;
    if std::env::var_os(BENCH_WITHOUT_INDEX).is_some() {
        site.related = vec![Vec::new(); site.reports.len()];
    } else {
        // model → index → related reports → render: report pages list what the index finds.
        // Related reports are read from the index's segments while they are merged.
        let index_dir = staging.dir(crate::index::DIR)?;
        let indexing = Instant::now();
        let mut relating = Duration::ZERO;
        let related = crate::index::create_then(&index_dir, &site.reports, |searcher| {
            let started = Instant::now();
            let related = crate::related::compute(searcher, &site.reports);
            relating = started.elapsed();
            Ok(related)
        })
        .context("cannot write the search index")?;
        site.related = related.context("cannot read the search index back for related reports")?;
        let created = indexing.elapsed();
        let exported = crate::webindex::export(&index_dir, &staging.dir("search")?)
            .context("cannot write the search index for the browser")?;
        let mut parts = vec![("create", created), ("  related", relating)];
        parts.extend(exported.timings);
        timings.parts("index+related", &parts);
        // The merge's and related reports' memory, before the pages are rendered.
        crate::memory::release_freed();
    }
    let renderer = Renderer::new(&site, &config, &mut theme);
    let jobs = renderer.jobs();
    let paths: Vec<String> = jobs.iter().map(|job| renderer.path(job)).collect();
    let bar = progress.stage(jobs.len(), "rendering");
    let pages = PageTimes::new(timings.enabled);
    // Each page is rendered into the buffer the one before was written from.
    let rendered: Result<(), anyhow::Error> =
        jobs.par_iter()
            .try_for_each_init(Vec::new, |buffer: &mut Vec<u8>, job| {
                let started = Instant::now();
                let out = renderer
                    .render_into(job, &paths, std::mem::take(buffer))
                    .map_err(anyhow::Error::msg)?;
                let rendered = started.elapsed();
                let mut bytes = 0;
                match out.body {
                    Body::Bytes(page) => {
                        staging.write(&out.path, &page)?;
                        bytes = page.len() as u64;
                        *buffer = page;
                    }
                    body => staging.write_with(&out.path, |w| match pages.enabled {
                        true => body.write_to(&mut Counted(w, &mut bytes)),
                        false => body.write_to(w),
                    })?,
                }
                pages.add(job.kind(), rendered, started.elapsed() - rendered, bytes);
                bar.inc(1);
                Ok(())
            });
    bar.finish_and_clear();
    timings.mark("render+write");
    pages.print();
    if let Err(e) = rendered {
        // A template that fails to render is a problem with the site's templates.
        eprintln!("error[template]: {e:#}");
        eprintln!(
            "  = help: the previous output in {} is untouched",
            output.display()
        );
        return Ok(Outcome::ContentErrors);
    }
    for file in &statics {
        staging.write(&file.path, &file.bytes)?;
    }
    staging
        .commit()
        .with_context(|| format!("cannot replace {}", output.display()))?;

    eprintln!(
        "Built {} reports, {} lessons, {} actions: {} pages in {} ({:.2} s{}).",
        site.reports.len(),
        site.lesson_count(),
        site.action_count(),
        jobs.len(),
        display_path(&output),
        started.elapsed().as_secs_f64(),
        if warnings > 0 {
            format!(", {warnings} warnings")
        } else {
            String::new()
        }
    );
    eprintln!(
        "Open {} in a browser.",
        display_path(&output.join("index.html"))
    );
    // The process ends here, and its memory with it: freeing the model's millions of
    // allocations one by one took a tenth of a second at 10,000 reports, on one core.
    std::mem::forget(renderer);
    std::mem::forget(site);
    Ok(Outcome::Success)
}

/// For benchmarks only: with this set, `rollbook build` writes no search index and no
/// related reports, the generator's site alone, so that `bench/search.sh` can time what they
/// cost a build side by side with it.
const BENCH_WITHOUT_INDEX: &str = "ROLLBOOK_BENCH_WITHOUT_INDEX";

/// How many warnings a build prints in full; `rollbook check` lists them all.
const WARNINGS_SHOWN: usize = 20;

/// Every error, and the first few warnings, then how many warnings were left out.
fn print_problems(diagnostics: &[Diagnostic], root: &Path) {
    let mut warnings = 0;
    let shown: Vec<Diagnostic> = diagnostics
        .iter()
        .filter(|d| {
            if d.is_error() {
                return true;
            }
            warnings += 1;
            warnings <= WARNINGS_SHOWN
        })
        .cloned()
        .collect();
    print_human(&relative_to_cwd(&shown, root), color(Stream::Stderr));
    if warnings > WARNINGS_SHOWN {
        let more = warnings - WARNINGS_SHOWN;
        eprintln!(
            "warning: {more} more warning{}; `rollbook check` lists them all",
            plural(more)
        );
    }
}

/// Prints every error and the count line; the build writes nothing.
fn report_problems(mut diagnostics: Vec<Diagnostic>, root: &Path) -> Outcome {
    sort(&mut diagnostics);
    print_problems(&diagnostics, root);
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics.len() - errors;
    let files: std::collections::HashSet<&Path> =
        diagnostics.iter().map(|d| d.file.as_path()).collect();
    eprintln!(
        "error: the build stopped: {errors} error{}, {warnings} warning{} in {} file{}; nothing was written",
        plural(errors),
        plural(warnings),
        files.len(),
        plural(files.len())
    );
    if errors > 0 {
        Outcome::ContentErrors
    } else {
        Outcome::Success
    }
}

/// Stage timings on stderr when `ROLLBOOK_TIMINGS` is set, for benchmarking.
struct Timings {
    enabled: bool,
    last: std::cell::Cell<Instant>,
    /// The process's CPU time (all threads) at the last mark, to tell idle cores.
    last_cpu: std::cell::Cell<f64>,
}

impl Timings {
    fn new() -> Self {
        Timings {
            enabled: std::env::var_os("ROLLBOOK_TIMINGS").is_some(),
            last: std::cell::Cell::new(Instant::now()),
            last_cpu: std::cell::Cell::new(cpu_seconds()),
        }
    }

    /// [`Timings::mark`], after the parts of the stage as the stage timed them.
    fn parts(&self, stage: &str, parts: &[(&'static str, std::time::Duration)]) {
        if self.enabled {
            for (part, time) in parts {
                eprintln!("timing:   {part:<12} {:>8.3} s", time.as_secs_f64());
            }
        }
        self.mark(stage);
    }

    fn mark(&self, stage: &str) {
        if self.enabled {
            let now = Instant::now();
            // Resident and peak memory from /proc (Linux), to see which stage holds what.
            let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
            let field = |name: &str| {
                status
                    .lines()
                    .find_map(|l| l.strip_prefix(name))
                    .map_or(String::new(), |v| v.trim().to_string())
            };
            let cpu = cpu_seconds();
            eprintln!(
                "timing: {stage:<14} {:>8.3} s  cpu {:>7.2} s  rss {:>12}  peak {:>12}",
                (now - self.last.get()).as_secs_f64(),
                cpu - self.last_cpu.get(),
                field("VmRSS:"),
                field("VmHWM:")
            );
            self.last.set(now);
            self.last_cpu.set(cpu);
        }
    }
}

/// The CPU time of the process's threads so far, user and system, from /proc (Linux; 0
/// elsewhere), in the kernel's usual 100 ticks a second.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // After the command's name in parentheses: utime and stime are the 12th and 13th fields.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let ticks: u64 = after
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|t| t.parse::<u64>().ok())
        .sum();
    ticks as f64 / 100.0
}

/// With `ROLLBOOK_TIMINGS`, where rendering and writing went, by kind of page: the time
/// summed over the threads (so more than the stage's wall time), the pages and their bytes.
struct PageTimes {
    enabled: bool,
    kinds: std::sync::Mutex<std::collections::BTreeMap<&'static str, PageTime>>,
}

#[derive(Default)]
struct PageTime {
    pages: usize,
    render: std::time::Duration,
    write: std::time::Duration,
    bytes: u64,
}

impl PageTimes {
    fn new(enabled: bool) -> Self {
        PageTimes {
            enabled,
            kinds: std::sync::Mutex::default(),
        }
    }

    fn add(
        &self,
        kind: &'static str,
        render: std::time::Duration,
        write: std::time::Duration,
        bytes: u64,
    ) {
        if !self.enabled {
            return;
        }
        if let Ok(mut kinds) = self.kinds.lock() {
            let time = kinds.entry(kind).or_default();
            time.pages += 1;
            time.render += render;
            time.write += write;
            time.bytes += bytes;
        }
    }

    fn print(self) {
        let kinds = self.kinds.into_inner().unwrap_or_default();
        for (kind, t) in kinds {
            eprintln!(
                "timing:   {kind:<13} {:>6} pages {:>9.0} KiB  render {:>6.2} s  write {:>6.2} s (thread time)",
                t.pages,
                t.bytes as f64 / 1024.0,
                t.render.as_secs_f64(),
                t.write.as_secs_f64()
            );
        }
    }
}

/// A writer that counts the bytes written through it.
struct Counted<'a, 'b>(&'a mut dyn std::io::Write, &'b mut u64);

impl std::io::Write for Counted<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.0.write(buf)?;
        *self.1 += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// Progress bars on a terminal; nothing otherwise.
struct Progress {
    enabled: bool,
}

impl Progress {
    fn new(enabled: bool) -> Self {
        Progress { enabled }
    }

    fn stage(&self, len: usize, what: &'static str) -> ProgressBar {
        if !self.enabled || len < 200 {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::new(len as u64);
        if let Ok(style) = ProgressStyle::with_template("{msg:>10} [{bar:30}] {pos}/{len} ({eta})")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(what);
        bar
    }
}
