//! `rollbook build`: load → parse → assemble → render → write, with every content problem
//! reported in one run.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

use crate::cli::BuildArgs;
use crate::cmd::{Outcome, interactive, today};
use crate::config::Config;
use crate::diagnostic::{Diagnostic, print_human};
use crate::load::load_content;
use crate::parse::parse_report;
use crate::render::Renderer;
use crate::site::assemble;
use crate::theme::{Theme, static_files};
use crate::write::Staging;

pub fn run(args: &BuildArgs) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    let root = &args.root;
    if !root.is_dir() {
        anyhow::bail!("the site root {} is not a directory", root.display());
    }
    let mut config = match Config::load(root) {
        Ok(config) => config,
        Err(diagnostics) => return Ok(report_problems(diagnostics)),
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
    let (sources, mut diagnostics) = load_content(root)?;
    timings.mark("load");
    let progress = Progress::new(interactive());
    let bar = progress.stage(sources.len(), "parsing");
    // Each file's text is dropped as soon as it is parsed.
    let parsed: Vec<_> = sources
        .into_par_iter()
        .map(|file| {
            let parsed = parse_report(&file, &config);
            bar.inc(1);
            parsed
        })
        .collect();
    bar.finish_and_clear();
    timings.mark("parse");
    let mut reports = Vec::with_capacity(parsed.len());
    for p in parsed {
        diagnostics.extend(p.diagnostics);
        reports.extend(p.report);
    }
    let (site, site_diagnostics) = assemble(reports, &config, args.drafts, today);
    diagnostics.extend(site_diagnostics);
    let mut theme = match Theme::load(root) {
        Ok(theme) => theme,
        Err(theme_diagnostics) => {
            diagnostics.extend(theme_diagnostics);
            return Ok(report_problems(diagnostics));
        }
    };
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Ok(report_problems(diagnostics));
    }
    let warnings = diagnostics.len();
    sort(&mut diagnostics);
    print_human(&diagnostics);

    let statics = match static_files(root) {
        Ok(files) => files,
        Err(static_diagnostics) => return Ok(report_problems(static_diagnostics)),
    };
    timings.mark("assemble");
    let renderer = Renderer::new(&site, &config, &mut theme);
    let jobs = renderer.jobs();
    let paths: Vec<String> = jobs.iter().map(|job| renderer.path(job)).collect();
    let staging = Staging::begin(&output).map_err(|e| {
        let help = e
            .help()
            .map(|h| format!("\n  help: {h}"))
            .unwrap_or_default();
        anyhow::anyhow!("{e}{help}")
    })?;
    let bar = progress.stage(jobs.len(), "rendering");
    let rendered: Result<(), anyhow::Error> = jobs.par_iter().try_for_each(|job| {
        let out = renderer.render(job, &paths).map_err(anyhow::Error::msg)?;
        staging.write_with(&out.path, |w| out.body.write_to(w))?;
        bar.inc(1);
        Ok(())
    });
    bar.finish_and_clear();
    timings.mark("render+write");
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
    Ok(Outcome::Success)
}

fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
}

/// Prints every problem and the count line; the build writes nothing.
fn report_problems(mut diagnostics: Vec<Diagnostic>) -> Outcome {
    sort(&mut diagnostics);
    print_human(&diagnostics);
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

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `./public` → `public`: paths as a person would type them.
fn tidy(path: &Path) -> PathBuf {
    path.components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect()
}

fn display_path(path: &Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    let shown: PathBuf = path
        .strip_prefix(&cwd)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| path.to_path_buf());
    shown.display().to_string()
}

/// Stage timings on stderr when `ROLLBOOK_TIMINGS` is set, for benchmarking.
struct Timings {
    enabled: bool,
    last: std::cell::Cell<Instant>,
}

impl Timings {
    fn new() -> Self {
        Timings {
            enabled: std::env::var_os("ROLLBOOK_TIMINGS").is_some(),
            last: std::cell::Cell::new(Instant::now()),
        }
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
            eprintln!(
                "timing: {stage:<14} {:>8.3} s  rss {:>12}  peak {:>12}",
                (now - self.last.get()).as_secs_f64(),
                field("VmRSS:"),
                field("VmHWM:")
            );
            self.last.set(now);
        }
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
