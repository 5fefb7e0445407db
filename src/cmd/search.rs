//! `rollbook search`: refresh the index if the content changed, run the query, print the hits
//! for a person or as JSON.

use std::io::Write as _;

use anyhow::Context as _;

use crate::cli::{KindArg, SearchArgs};
use crate::cmd::{Outcome, Stream, color, display_path, today};
use crate::config::Config;
use crate::diagnostic::print_human;
use crate::index::Kind;
use crate::reindex::{refresh, timed};
use crate::search::{Hit, Request, Results, SearchError, search};

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
    let output = root.join(&config.output_dir);
    let index_dir = output.join(crate::index::DIR);
    let (refreshed, elapsed) = timed(|| refresh(root, &config, &output, today));
    if let Some(line) = refreshed?.describe(elapsed, &index_dir) {
        eprintln!("{line}");
    }
    let index = tantivy::Index::open_in_dir(&index_dir)
        .with_context(|| format!("cannot open the search index in {}", index_dir.display()))?;
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
        limit: usize::from(args.limit),
    };
    let started = std::time::Instant::now();
    let found = search(&index, &request, today);
    if std::env::var_os("ROLLBOOK_TIMINGS").is_some() {
        eprintln!(
            "timing: refresh {:.1} ms, query {:.1} ms",
            elapsed.as_secs_f64() * 1000.0,
            started.elapsed().as_secs_f64() * 1000.0
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
                let path: std::path::PathBuf = output
                    .join(url)
                    .components()
                    .filter(|c| !matches!(c, std::path::Component::CurDir))
                    .collect();
                display_path(&path)
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

fn human(results: &Results, query: &str, bold: bool, link: &dyn Fn(&str) -> String) -> String {
    let mut out = String::new();
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
        if results.total == 1 { "" } else { "s" }
    ));
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
    if let Some(state) = &hit.state {
        let mut s = state.clone();
        if hit.overdue == Some(true) {
            s.push_str(", overdue");
        }
        if let Some(Some(owner)) = &hit.owner {
            s.push_str(&format!(", {owner}"));
        }
        if let Some(Some(due)) = &hit.due {
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
