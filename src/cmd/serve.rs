//! `rollbook serve`: build into a temporary directory, serve it, and on every save rebuild
//! what changed and tell the open pages to reload. Errors in an edit keep the last good pages
//! served, with the problems shown over them.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::cli::ServeArgs;
use crate::cmd::{Outcome, Stream, color, display_path, plural, relative_to_cwd, today};
use crate::diagnostic::{Helpful, print_human};
use crate::incremental::{Change, Session, Settings, Start, Update};
use crate::live::Live;
use crate::server::{Listening, Server, StartError};
use crate::watch::Watch;

/// How long the files must be quiet before a rebuild starts: long enough to take an editor's
/// save or a checkout as one change, short enough not to be noticed.
const QUIET: Duration = Duration::from_millis(20);

pub fn run(args: &ServeArgs) -> anyhow::Result<Outcome> {
    let root = &args.root;
    if !root.is_dir() {
        anyhow::bail!("the site root {} is not a directory", root.display());
    }
    if !args.bind.is_loopback() {
        eprintln!(
            "warning: listening on {}, which other machines can reach: they will see every report, drafts included",
            args.bind
        );
    }
    // Bound before the first build, which takes a while on a large site: a port in use is
    // said at once.
    let listening = Listening::bind(args.bind, args.port).map_err(StartError::with_help)?;

    let output = std::env::temp_dir().join(format!("rollbook-serve-{}", std::process::id()));
    let _cleanup = RemoveOnDrop(output.clone());
    let settings = Settings {
        root: root.clone(),
        output: output.clone(),
        drafts: args.drafts || !args.no_drafts,
        base_url: Some(listening.url()),
        today: today()?,
    };
    eprintln!("Building {} …", display_path(&root.join("content")));
    let (mut session, update) = match Session::start(settings) {
        Ok(started) => started,
        Err(Start::Problems(problems)) => {
            print_human(&relative_to_cwd(&problems, root), color(Stream::Stderr));
            eprintln!("error: cannot serve the site until rollbook.toml and the templates load");
            return Ok(Outcome::ContentErrors);
        }
        Err(Start::Failed(error)) => return Err(error),
    };
    let live = Arc::new(Live::new());
    let warnings = update.warnings;
    eprintln!(
        "Built {} reports: {} pages in {} ms{}.",
        session.report_count(),
        session.page_count(),
        update.took.as_millis(),
        if warnings > 0 {
            format!(
                ", {warnings} warning{} (`rollbook check` lists them)",
                plural(warnings)
            )
        } else {
            String::new()
        }
    );
    show(&update, root, &live);

    let server = Server::serve(listening, output.clone(), Arc::clone(&live))
        .map_err(StartError::with_help)?;
    let watch = Watch::start(root)
        .map_err(|e| anyhow::anyhow!("cannot watch {} for changes: {e}", root.display()))?;
    let close = watch.closer();
    let live_on_exit = Arc::clone(&live);
    ctrlc::set_handler(move || {
        close();
        live_on_exit.close();
    })
    .map_err(|e| anyhow::anyhow!("cannot handle Ctrl-C: {e}"))?;
    eprintln!(
        "Serving at {} from {} ({}). Watching for changes; Ctrl-C stops.",
        server.url(),
        output.display(),
        if session.settings().drafts {
            "drafts shown"
        } else {
            "drafts hidden"
        }
    );

    finish(&mut session, &watch);
    while let Some(changes) = watch.next(QUIET) {
        let mut changes = changes;
        let now = today()?;
        if now != session.settings().today {
            session.set_today(now);
            changes = vec![Change::Everything];
        }
        for change in &changes {
            match session.apply(change) {
                Ok(update) => {
                    eprintln!("{}", summary(change, &update));
                    show(&update, root, &live);
                }
                // A file that cannot be written is reported; the next save tries again.
                Err(error) => eprintln!("error: {error:#}"),
            }
        }
        finish(&mut session, &watch);
    }
    eprintln!("Stopping.");
    live.close();
    server.stop();
    Ok(Outcome::Success)
}

/// The unhurried rest of a rebuild, stopped by the next change.
fn finish(session: &mut Session, watch: &Watch) {
    match session.finish(&|| watch.waiting()) {
        Ok(done) if !done.interrupted && (done.rendered > 0 || done.indexed > 0) => eprintln!(
            "Caught up in {} ms: {} more page{} (site-wide counts, reports.json), search index updated for {} report{}.",
            done.took.as_millis(),
            done.rendered,
            plural(done.rendered),
            done.indexed,
            plural(done.indexed)
        ),
        Ok(_) => {}
        Err(error) => eprintln!("error: {error:#}"),
    }
}

/// Tells the pages and the terminal how the rebuild went.
fn show(update: &Update, root: &Path, live: &Live) {
    if update.errors.is_empty() {
        live.rebuilt();
        return;
    }
    let errors = relative_to_cwd(&update.errors, root);
    print_human(&errors, color(Stream::Stderr));
    let count = format!(
        "{} error{}; serving the last good build until {} fixed",
        errors.len(),
        plural(errors.len()),
        if errors.len() == 1 {
            "it is"
        } else {
            "they are"
        }
    );
    eprintln!("{count}");
    let mut text: String = errors
        .iter()
        .map(|d| d.render_human(false) + "\n")
        .collect();
    text.push_str(&count);
    live.failed(text);
}

fn summary(change: &Change, update: &Update) -> String {
    let what = match change {
        Change::Content(paths) if paths.len() == 1 => paths
            .iter()
            .next()
            .map_or(String::new(), |p| format!("content/{p}")),
        Change::Content(paths) => format!("{} files in content/", paths.len()),
        Change::Theme => "templates or static files".to_string(),
        Change::Everything => "rollbook.toml".to_string(),
    };
    let mut line = format!(
        "Changed {what}: {} page{} rendered",
        update.rendered,
        plural(update.rendered)
    );
    if update.removed > 0 {
        line.push_str(&format!(", {} removed", update.removed));
    }
    line.push_str(&format!(" in {} ms", update.took.as_millis()));
    if update.deferred > 0 {
        line.push_str(&format!(
            " ({} more with new counts follow)",
            update.deferred
        ));
    }
    line
}

/// The served directory is temporary: it goes when serve stops, however it stops.
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if self.0.join(crate::write::MARKER).is_file() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
