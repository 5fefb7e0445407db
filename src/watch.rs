//! Watches a site's sources for `serve`: `content/`, `templates/`, `static/` and
//! `rollbook.toml`. Events are gathered until the files have been quiet for a moment, so that
//! an editor's write-rename-delete save or a `git checkout` of hundreds of files is one
//! rebuild, and are turned into the [`Change`]s a session applies.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use notify::event::{AccessKind, AccessMode};
use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher as _};

use crate::incremental::Change;

/// The directories below the root whose files are the theme's overrides.
const THEME_DIRS: [&str; 2] = ["templates", "static"];
const CONFIG: &str = "rollbook.toml";

pub struct Watch {
    watcher: Mutex<RecommendedWatcher>,
    queue: Arc<Queue>,
    root: PathBuf,
    watched: Mutex<HashSet<PathBuf>>,
}

/// Events waiting to be taken, shared with notify's thread.
#[derive(Default)]
struct Queue {
    pending: Mutex<Pending>,
    arrived: Condvar,
}

#[derive(Default)]
struct Pending {
    changes: Vec<Change>,
    last: Option<Instant>,
    closed: bool,
}

impl Watch {
    /// Starts watching the site at `root`.
    pub fn start(root: &Path) -> notify::Result<Watch> {
        let root = root.canonicalize().map_err(notify::Error::io)?;
        let queue = Arc::new(Queue::default());
        let events = Arc::clone(&queue);
        let event_root = root.clone();
        let watcher = notify::recommended_watcher(move |event: notify::Result<Event>| {
            // An error from the watcher (e.g. too many events at once) may have lost events:
            // rebuilding everything is the safe answer.
            let changes: Vec<Change> = match event {
                Ok(event) if is_change(&event.kind) => event
                    .paths
                    .iter()
                    .filter_map(|path| classify(&event_root, path))
                    .collect(),
                Ok(_) => Vec::new(),
                Err(_) => vec![Change::Everything],
            };
            if !changes.is_empty() {
                events.push(changes);
            }
        })?;
        let watch = Watch {
            watcher: Mutex::new(watcher),
            queue,
            root,
            watched: Mutex::new(HashSet::new()),
        };
        watch.add(&watch.root, RecursiveMode::NonRecursive)?;
        watch.add(&watch.root.join("content"), RecursiveMode::Recursive)?;
        watch.watch_theme_dirs();
        Ok(watch)
    }

    /// Waits for changes, then until none has come for `quiet`, and returns them merged:
    /// `Everything` alone, or theme and content changes. `None` once [`Watch::close`] was
    /// called.
    pub fn next(&self, quiet: Duration) -> Option<Vec<Change>> {
        let mut pending = self.queue.lock();
        loop {
            if pending.closed {
                return None;
            }
            match pending.last {
                None => pending = self.queue.wait(pending, None),
                Some(last) => {
                    let since = last.elapsed();
                    if since >= quiet {
                        break;
                    }
                    pending = self.queue.wait(pending, Some(quiet - since));
                }
            }
        }
        let changes = std::mem::take(&mut pending.changes);
        pending.last = None;
        drop(pending);
        // A templates/ or static/ directory created since the start is watched from now on.
        self.watch_theme_dirs();
        Some(merge(changes))
    }

    /// Whether changes are waiting: the session stops its unhurried work for them.
    pub fn waiting(&self) -> bool {
        self.queue.lock().last.is_some()
    }

    /// Makes [`Watch::next`] return `None` (Ctrl-C).
    pub fn close(&self) {
        self.queue.close();
    }

    /// A handle that closes the watch from elsewhere (the Ctrl-C handler's thread).
    pub fn closer(&self) -> impl Fn() + Send + 'static {
        let queue = Arc::clone(&self.queue);
        move || queue.close()
    }

    fn watch_theme_dirs(&self) {
        for dir in THEME_DIRS {
            let path = self.root.join(dir);
            if path.is_dir() {
                // A directory that cannot be watched is still rebuilt from when the root's
                // watch sees it change.
                let _ = self.add(&path, RecursiveMode::Recursive);
            }
        }
    }

    fn add(&self, path: &Path, mode: RecursiveMode) -> notify::Result<()> {
        let mut watched = self.watched.lock().unwrap_or_else(|e| e.into_inner());
        if watched.contains(path) {
            return Ok(());
        }
        self.watcher
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .watch(path, mode)?;
        watched.insert(path.to_path_buf());
        Ok(())
    }
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        // The lock only guards plain data; a panic elsewhere cannot leave it inconsistent.
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait<'a>(
        &self,
        guard: MutexGuard<'a, Pending>,
        timeout: Option<Duration>,
    ) -> MutexGuard<'a, Pending> {
        match timeout {
            None => self.arrived.wait(guard).unwrap_or_else(|e| e.into_inner()),
            Some(timeout) => {
                self.arrived
                    .wait_timeout(guard, timeout)
                    .unwrap_or_else(|e| e.into_inner())
                    .0
            }
        }
    }

    fn push(&self, changes: Vec<Change>) {
        let mut pending = self.lock();
        pending.changes.extend(changes);
        pending.last = Some(Instant::now());
        self.arrived.notify_all();
    }

    fn close(&self) {
        self.lock().closed = true;
        self.arrived.notify_all();
    }
}

/// Events that may change a file's content or existence; reads are not.
fn is_change(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        _ => true,
    }
}

/// What a changed path means for the site, if anything.
fn classify(root: &Path, path: &Path) -> Option<Change> {
    let relative = path.strip_prefix(root).ok()?;
    let mut parts = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy());
    let first = parts.next()?;
    let rest: Vec<_> = parts.collect();
    // Hidden files are editors' swap files and version control's, never the site's.
    if first.starts_with('.') || rest.iter().any(|p| p.starts_with('.')) {
        return None;
    }
    match first.as_ref() {
        "content" if rest.is_empty() => Some(Change::Everything),
        "content" => Some(Change::Content(BTreeSet::from([rest.join("/")]))),
        dir if THEME_DIRS.contains(&dir) => Some(Change::Theme),
        CONFIG if rest.is_empty() => Some(Change::Everything),
        _ => None,
    }
}

/// Changes in the order a session applies them: everything makes the rest needless.
fn merge(changes: Vec<Change>) -> Vec<Change> {
    let mut content = BTreeSet::new();
    let mut theme = false;
    for change in changes {
        match change {
            Change::Everything => return vec![Change::Everything],
            Change::Theme => theme = true,
            Change::Content(paths) => content.extend(paths),
        }
    }
    let mut merged = Vec::new();
    if theme {
        merged.push(Change::Theme);
    }
    if !content.is_empty() {
        merged.push(Change::Content(content));
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content(paths: &[&str]) -> Change {
        Change::Content(paths.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn paths_are_classified_by_where_they_are() {
        let root = Path::new("/site");
        let at = |p: &str| classify(root, &root.join(p));
        assert_eq!(at("content/2024/a.md"), Some(content(&["2024/a.md"])));
        assert_eq!(at("content/2024"), Some(content(&["2024"])));
        assert_eq!(at("templates/report.html"), Some(Change::Theme));
        assert_eq!(at("static/logo.svg"), Some(Change::Theme));
        assert_eq!(at("rollbook.toml"), Some(Change::Everything));
        assert_eq!(at("content/.a.md.swp"), None);
        assert_eq!(at(".git/index"), None);
        assert_eq!(at("public/index.html"), None);
        assert_eq!(at("README.md"), None);
        assert_eq!(classify(root, Path::new("/elsewhere/x.md")), None);
    }

    #[test]
    fn changes_are_merged_into_one_rebuild() {
        assert_eq!(
            merge(vec![content(&["b.md"]), content(&["a.md", "b.md"])]),
            vec![content(&["a.md", "b.md"])]
        );
        assert_eq!(
            merge(vec![content(&["a.md"]), Change::Theme, Change::Theme]),
            vec![Change::Theme, content(&["a.md"])]
        );
        assert_eq!(
            merge(vec![content(&["a.md"]), Change::Everything, Change::Theme]),
            vec![Change::Everything]
        );
    }

    #[test]
    fn a_burst_of_writes_is_one_batch() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("content")).expect("mkdir");
        let watch = Watch::start(dir.path()).expect("watch");
        for i in 0..50 {
            std::fs::write(dir.path().join(format!("content/{i}.md")), "x").expect("write");
        }
        let changes = watch.next(Duration::from_millis(200)).expect("changes");
        let Some(Change::Content(paths)) = changes.first() else {
            panic!("content changes expected, got {changes:?}");
        };
        assert_eq!(paths.len(), 50, "{paths:?}");
        assert!(!watch.waiting());
        watch.close();
        assert!(watch.next(Duration::from_millis(10)).is_none());
    }
}
