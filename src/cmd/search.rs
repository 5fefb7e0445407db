//! `rollbook search`: refresh the index if the content changed, run the query, print the hits
//! for a person or as JSON.

use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::cli::{KindArg, SearchArgs, SortArg};
use crate::cmd::{Outcome, Stream, color, display_path, plural, tidy, today};
use crate::config::Config;
use crate::diagnostic::print_human;
use crate::index::Kind;
use crate::reindex::{Refresh, query_fresh};
use crate::search::{Detail, Facets, Hit, Request, Results, SearchError, Sort, search};

pub fn run(args: &SearchArgs) -> anyhow::Result<Outcome> {
    let root = &args.root;
    if !root.is_dir() {
        anyhow::bail!("the site root {} is not a directory", root.display());
    }
    let config = match Config::load(root) {
        Ok(config) => config,
        Err(diagnostics) => {
            print_human(&diagnostics, color(Stream::Stderr));
            return Ok(Outcome::ContentErrors);
        }
    };
    let today = today()?;
    let output = tidy(&root.join(&config.output_dir));
    let index_dir = output.join(crate::index::DIR);
    let request = Request {
        text: args.query.clone(),
        kinds: args
            .kind
            .iter()
            .map(|k| match k {
                KindArg::Report => Kind::Report,
                KindArg::Lesson => Kind::Lesson,
                KindArg::Action => Kind::Action,
                KindArg::Section => Kind::Section,
            })
            .collect(),
        severities: args.severity.clone(),
        services: args.service.clone(),
        tags: args.tag.clone(),
        teams: args.team.clone(),
        since: args.since,
        until: args.until,
        open: args.open,
        sort: match args.sort {
            SortArg::Relevance => Sort::Relevance,
            SortArg::Date => Sort::Date,
        },
        limit: usize::from(args.limit),
        facets: args.facets,
    };
    let started = Instant::now();
    let run = |index: &tantivy::Index| {
        crate::index::searcher(index)
            .map_err(SearchError::Index)
            .and_then(|searcher| search(&searcher, &request, today))
    };
    let (found, refreshed) = query_fresh(root, &config, &output, today, run)?;
    let elapsed = started.elapsed();
    if let Some(line) = describe(&refreshed, elapsed, &index_dir) {
        eprintln!("{line}");
    }
    if std::env::var_os("ROLLBOOK_TIMINGS").is_some() {
        eprintln!(
            "timing: freshness check and query {:.1} ms",
            elapsed.as_secs_f64() * 1000.0
        );
    }
    let results = match found {
        Ok(results) => results,
        Err(SearchError::Query { message, help }) => {
            eprintln!("error: {message}\n  = help: {help}");
            return Ok(Outcome::ContentErrors);
        }
        Err(SearchError::Index(e)) => {
            return Err(e).context(format!("cannot search {}", index_dir.display()));
        }
    };
    let text = if args.json {
        let mut text = serde_json::to_string_pretty(&results)?;
        text.push('\n');
        text
    } else {
        let link = |url: &str| {
            if config.base_url.is_empty() {
                display_path(&output.join(url))
            } else {
                format!("{}{url}", config.base_url)
            }
        };
        human(&results, &args.query, color(Stream::Stdout), &link)
    };
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .context("cannot write to standard output")?;
    Ok(Outcome::Success)
}

/// One line (two with a warning) for stderr on what the refresh did; nothing when the index
/// was up to date.
fn describe(refreshed: &Refresh, elapsed: Duration, index: &Path) -> Option<String> {
    let ms = elapsed.as_millis();
    let files = |paths: &mut dyn Iterator<Item = &String>| -> Vec<String> {
        paths.map(|p| format!("content/{p}")).collect()
    };
    match refreshed {
        Refresh::UpToDate => None,
        Refresh::Updated {
            changed,
            removed,
            broken,
        } => {
            let mut names = files(&mut changed.iter().chain(removed).take(3));
            if changed.len() + removed.len() > 3 {
                names.push("…".to_string());
            }
            let mut line = format!(
                "Content changed since the index was built: reindexed {} report{} and removed {} ({}) in {ms} ms.",
                changed.len(),
                plural(changed.len()),
                removed.len(),
                names.join(", ")
            );
            if !broken.is_empty() {
                line.push_str(&format!(
                    "\nwarning: {} changed file{} with errors left out of the search ({}); run `rollbook check`.",
                    broken.len(),
                    plural(broken.len()),
                    files(&mut broken.iter()).join(", ")
                ));
            }
            Some(line)
        }
        Refresh::Rebuilt {
            why,
            reports,
            broken,
        } => {
            let mut line = format!(
                "Indexed {reports} reports into {} because {why} ({ms} ms; the site itself is not rendered).",
                index.display()
            );
            if *broken > 0 {
                line.push_str(&format!(
                    "\nwarning: {broken} file{} with errors left out of the search; run `rollbook check`.",
                    plural(*broken)
                ));
            }
            Some(line)
        }
    }
}

fn human(results: &Results, query: &str, bold: bool, link: &dyn Fn(&str) -> String) -> String {
    let mut out = String::new();
    if !results.fuzzy.is_empty() {
        out.push_str(&format!(
            "No report has {}; showing similar words.\n\n",
            results
                .fuzzy
                .iter()
                .map(|w| format!("{w:?}"))
                .collect::<Vec<_>>()
                .join(" or ")
        ));
    }
    if results.hits.is_empty() {
        out.push_str(&format!("No hits for {query:?}.\n"));
        return out;
    }
    for hit in &results.hits {
        out.push_str(&block(hit, bold, link));
        out.push('\n');
    }
    out.push_str(&format!(
        "{} of {} hit{} for {query:?}\n",
        results.hits.len(),
        results.total,
        plural(results.total)
    ));
    if let Some(facets) = &results.facets {
        out.push_str(&facet_lines(facets));
    }
    out
}

/// The counts, a line per field: `severity: high 12, critical 3`.
fn facet_lines(facets: &Facets) -> String {
    let mut out = String::from("\n");
    for (name, counts) in [
        ("kind", &facets.kind),
        ("severity", &facets.severity),
        ("service", &facets.service),
        ("tag", &facets.tag),
        ("team", &facets.team),
        ("year", &facets.year),
    ] {
        let shown: Vec<String> = counts
            .iter()
            .take(12)
            .map(|(value, n)| format!("{value} {n}"))
            .collect();
        let more = match counts.len().saturating_sub(shown.len()) {
            0 => String::new(),
            n => format!(", and {n} more"),
        };
        out.push_str(&format!("{name:<9} {}{more}\n", shown.join(", ")));
    }
    out
}

/// One hit: kind and title; report, date, severity and services; link; snippet.
fn block(hit: &Hit, bold: bool, link: &dyn Fn(&str) -> String) -> String {
    let title = shorten(&hit.title, 100);
    let mut out = format!("{:<8}{title}\n", hit.kind);
    let mut facts = Vec::new();
    if hit.kind != Kind::Report.name() {
        facts.push(format!("in \"{}\"", shorten(&hit.report_title, 70)));
    }
    facts.extend(hit.date.clone());
    facts.push(hit.severity.clone());
    if !hit.services.is_empty() {
        facts.push(hit.services.join(", "));
    }
    if let Detail::Action {
        state: Some(state),
        overdue,
        owner,
        due,
        ..
    } = &hit.detail
    {
        let mut s = state.clone();
        if *overdue {
            s.push_str(", overdue");
        }
        if let Some(owner) = owner {
            s.push_str(&format!(", {owner}"));
        }
        if let Some(due) = due {
            s.push_str(&format!(", due {due}"));
        }
        facts.push(s);
    }
    out.push_str(&format!("        {}\n", facts.join(" · ")));
    out.push_str(&format!("        {}\n", link(&hit.url)));
    if !hit.snippet.is_empty() && hit.snippet != hit.title {
        out.push_str(&format!("        {}\n", highlight(hit, bold)));
    }
    out
}

/// The snippet on one line, with the matched words in bold on a terminal.
fn highlight(hit: &Hit, bold: bool) -> String {
    let text = &hit.snippet;
    let mut out = String::new();
    let mut last = 0;
    if bold {
        for range in &hit.highlights {
            if range.start < last || range.end > text.len() {
                continue;
            }
            out.push_str(&text[last..range.start]);
            out.push_str("\x1b[1m");
            out.push_str(&text[range.clone()]);
            out.push_str("\x1b[0m");
            last = range.end;
        }
    }
    out.push_str(&text[last..]);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn shorten(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        text.to_string()
    } else {
        let cut: String = text.chars().take(chars - 1).collect();
        format!("{}…", cut.trim_end())
    }
}
