//! Whether the search index still matches the content: a manifest beside the index records
//! each report file's modification time, size and hash, and the configuration it was built
//! with. `rollbook search` compares it with the files on disk and reindexes what changed.
//!
//! The manifest is read before every search, so it is plain text that parses in well under a
//! millisecond at 10,000 reports: a header line, then a line per file,
//! `modified<TAB>size<TAB>hash<TAB>path`.

use std::path::Path;

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

/// Beside the index, relative to the output directory.
pub const MANIFEST: &str = "search/manifest.txt";

/// The first word of the header line; the format's version follows it.
const MAGIC: &str = "rollbook-search-manifest";
const VERSION: u32 = 3;

/// A file as it was read: modification time (nanoseconds since the epoch), size and hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stamp {
    pub modified: u128,
    pub size: u64,
    pub hash: u64,
}

impl Stamp {
    /// A file read whole: its metadata and bytes.
    pub fn of(meta: &std::fs::Metadata, bytes: &[u8]) -> Stamp {
        Stamp {
            modified: modified(meta),
            size: bytes.len() as u64,
            hash: hash(bytes),
        }
    }
}

/// Modification time in nanoseconds since the epoch (0 where the platform has none).
fn modified(meta: &std::fs::Metadata) -> u128 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos())
}

/// What the index was built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub version: u32,
    pub rollbook: String,
    /// Hash of `rollbook.toml` (0 without one): another configuration means another index.
    pub config: u64,
    /// Whether drafts are in the index.
    pub drafts: bool,
    /// Report files by their path relative to `content/`.
    pub files: FxHashMap<String, Stamp>,
}

impl Manifest {
    pub fn new(
        config: u64,
        drafts: bool,
        files: impl IntoIterator<Item = (String, Stamp)>,
    ) -> Manifest {
        Manifest {
            version: VERSION,
            rollbook: env!("CARGO_PKG_VERSION").to_string(),
            config,
            drafts,
            files: files.into_iter().collect(),
        }
    }

    /// The manifest in `output`; `None` when there is none or it cannot be read, which means
    /// the index is built again.
    pub fn read(output: &Path) -> Option<Manifest> {
        Manifest::parse(&std::fs::read_to_string(output.join(MANIFEST)).ok()?)
    }

    fn parse(text: &str) -> Option<Manifest> {
        let mut lines = text.split('\n');
        let mut header = lines.next()?.split(' ');
        if header.next()? != MAGIC {
            return None;
        }
        let version = header.next()?.parse().ok()?;
        let rollbook = header.next()?.to_string();
        let config = header.next()?.parse().ok()?;
        let drafts = match header.next()? {
            "drafts" => true,
            "no-drafts" => false,
            _ => return None,
        };
        let mut files = FxHashMap::default();
        files.reserve(text.len() / 64);
        for line in lines.filter(|l| !l.is_empty()) {
            let mut parts = line.splitn(4, '\t');
            let stamp = Stamp {
                modified: parts.next()?.parse().ok()?,
                size: parts.next()?.parse().ok()?,
                hash: parts.next()?.parse().ok()?,
            };
            files.insert(parts.next()?.to_string(), stamp);
        }
        Some(Manifest {
            version,
            rollbook,
            config,
            drafts,
            files,
        })
    }

    /// The text of the manifest, files in path order. A path with a line break cannot be
    /// written; its file is left out, so it counts as changed and is reindexed every time.
    pub fn to_text(&self) -> String {
        use std::fmt::Write as _;
        let mut paths: Vec<&String> = self.files.keys().filter(|p| !p.contains('\n')).collect();
        paths.sort_unstable();
        let mut out = String::with_capacity(64 * (paths.len() + 1));
        let drafts = if self.drafts { "drafts" } else { "no-drafts" };
        let _ = writeln!(
            out,
            "{MAGIC} {} {} {} {drafts}",
            self.version, self.rollbook, self.config
        );
        for path in paths {
            let s = self.files[path];
            let _ = writeln!(out, "{}\t{}\t{}\t{path}", s.modified, s.size, s.hash);
        }
        out
    }

    /// Whether an index built with this manifest can be updated file by file for `config`,
    /// or must be built again.
    pub fn is_compatible(&self, config: u64, drafts: bool) -> bool {
        self.version == VERSION
            && self.rollbook == env!("CARGO_PKG_VERSION")
            && self.config == config
            && self.drafts == drafts
    }
}

/// FNV-1a: stable across platforms and Rust versions, and fast enough for a few MB.
pub fn hash(bytes: &[u8]) -> u64 {
    hash_more(HASH_START, bytes)
}

/// Where [`hash_more`] starts: a hash of bytes given in pieces is the hash of them all.
pub const HASH_START: u64 = 0xcbf2_9ce4_8422_2325;

pub fn hash_more(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Hash of the site's `rollbook.toml`, 0 when there is none.
pub fn config_hash(root: &Path) -> u64 {
    std::fs::read(root.join(crate::config::FILE_NAME)).map_or(0, |bytes| hash(&bytes))
}

/// How the content differs from a manifest.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// New or changed files, relative to `content/`, in path order.
    pub changed: Vec<String>,
    pub removed: Vec<String>,
    /// Files with the same bytes and a new time (a checkout rewrites them): the index need
    /// not change, but the manifest should learn their times, or every search reads them.
    pub touched: Vec<String>,
    /// When any file differs, every file now with its stamp (the manifest's for the files
    /// whose time and size match), for a new manifest; empty otherwise.
    pub files: Vec<(String, Stamp)>,
}

impl Changes {
    /// Whether the index has everything the content has (touched files aside).
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty() && self.removed.is_empty()
    }
}

/// The report files below `content/`, listed but not yet stat'ed, so that listing can run
/// while the manifest is read.
pub struct Listing {
    /// Each directory's path relative to `content/`: empty, or ending in `/`.
    dirs: Vec<String>,
    /// Each `*.md` file: its directory (an index into `dirs`), name and entry.
    files: Vec<(usize, String, std::fs::DirEntry)>,
}

impl Listing {
    /// Every `*.md` below `content/` (following symlinks, skipping hidden entries), each
    /// directory listed in a task of its own.
    pub fn of(root: &Path) -> Listing {
        let mut listing = Listing {
            dirs: Vec::new(),
            files: Vec::new(),
        };
        listing.add(list_dir(&root.join("content"), String::new()));
        listing
    }

    fn add(&mut self, dir: Listed) {
        let at = self.dirs.len();
        self.dirs.push(dir.prefix);
        self.files
            .extend(dir.files.into_iter().map(|(name, entry)| (at, name, entry)));
        for below in dir.below {
            self.add(below);
        }
    }

    fn path(&self, (dir, name, _): &(usize, String, std::fs::DirEntry), into: &mut String) {
        into.clear();
        into.push_str(&self.dirs[*dir]);
        into.push_str(name);
    }
}

/// One directory, listed, and the directories below it.
struct Listed {
    prefix: String,
    files: Vec<(String, std::fs::DirEntry)>,
    below: Vec<Listed>,
}

fn list_dir(dir: &Path, prefix: String) -> Listed {
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        let is_dir = match entry.file_type() {
            Ok(t) if t.is_symlink() => entry.path().is_dir(),
            Ok(t) => t.is_dir(),
            Err(_) => false,
        };
        if is_dir {
            dirs.push((entry.path(), format!("{prefix}{name}/")));
        } else if name.ends_with(".md") {
            files.push((name, entry));
        }
    }
    let below = dirs
        .into_par_iter()
        .map(|(path, prefix)| list_dir(&path, prefix))
        .collect();
    Listed {
        prefix,
        files,
        below,
    }
}

/// Compares listed files with the manifest: a file whose time and size match is unchanged
/// without being read; otherwise its hash decides (a `touch` is not a change).
///
/// This runs before every search, and on 10,000 reports the stat calls are most of a
/// search's time. So the files are stat'ed in parallel, relative to their open directory,
/// and an unchanged file costs no allocation.
pub fn compare(listing: &Listing, manifest: &Manifest) -> Changes {
    let (known, differ) = listing
        .files
        .par_iter()
        .with_min_len(64)
        .fold(
            || (0, Vec::new(), String::new()),
            |(mut known, mut differ, mut relative), file| {
                // The path relative to `content/`, in a buffer kept for the next file.
                listing.path(file, &mut relative);
                let stamp = manifest.files.get(relative.as_str()).copied();
                if stamp.is_some() {
                    known += 1;
                }
                let (seen, now) = stamp_now(&file.2, stamp);
                if seen != Seen::Same {
                    differ.push((relative.clone(), now, seen));
                }
                (known, differ, relative)
            },
        )
        .map(|(known, differ, _)| (known, differ))
        .reduce(
            || (0, Vec::new()),
            |(k1, mut d1), (k2, d2)| {
                d1.extend(d2);
                (k1 + k2, d1)
            },
        );
    let mut out = Changes::default();
    let mut differs: FxHashMap<&str, Stamp> = FxHashMap::default();
    for (relative, stamp, seen) in &differ {
        match seen {
            Seen::Touched => out.touched.push(relative.clone()),
            _ => out.changed.push(relative.clone()),
        }
        differs.insert(relative, *stamp);
    }
    out.changed.sort();
    out.touched.sort();
    // Each file is listed once, so when as many files were found in the manifest as it
    // has, none was removed.
    if known < manifest.files.len() {
        let mut relative = String::new();
        let now: FxHashSet<String> = listing
            .files
            .iter()
            .map(|file| {
                listing.path(file, &mut relative);
                relative.clone()
            })
            .collect();
        out.removed = manifest
            .files
            .keys()
            .filter(|k| !now.contains(k.as_str()))
            .cloned()
            .collect();
        out.removed.sort();
    }
    if differ.is_empty() && out.removed.is_empty() {
        // The manifest stays as it is.
        return out;
    }
    let removed: FxHashSet<&str> = out.removed.iter().map(String::as_str).collect();
    out.files = manifest
        .files
        .iter()
        .filter(|(path, _)| {
            !removed.contains(path.as_str()) && !differs.contains_key(path.as_str())
        })
        .map(|(path, stamp)| (path.clone(), *stamp))
        .chain(differ.iter().map(|(p, stamp, _)| (p.clone(), *stamp)))
        .collect();
    out
}

/// A file compared with what the manifest knows of it, and its stamp now.
fn stamp_now(entry: &std::fs::DirEntry, known: Option<Stamp>) -> (Seen, Stamp) {
    // Following a symlink only when there is one.
    let meta = match entry.metadata() {
        Ok(m) if m.file_type().is_symlink() => std::fs::metadata(entry.path()).ok(),
        Ok(m) => Some(m),
        Err(_) => None,
    };
    let modified = meta.as_ref().map_or(0, modified);
    let size = meta.as_ref().map_or(0, |m| m.len());
    if let Some(old) = known.filter(|old| old.modified == modified && old.size == size) {
        return (Seen::Same, old);
    }
    let hash = std::fs::read(entry.path()).map_or(0, |bytes| hash(&bytes));
    let stamp = Stamp {
        modified,
        size,
        hash,
    };
    let seen = match known {
        Some(old) if old.hash == hash && old.size == size => Seen::Touched,
        Some(_) => Seen::Changed,
        None => Seen::New,
    };
    (seen, stamp)
}

/// A file compared with its manifest line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    /// Same time and size.
    Same,
    /// Another time, the same bytes.
    Touched,
    Changed,
    New,
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn changes(root: &Path, manifest: &Manifest) -> Changes {
        compare(&Listing::of(root), manifest)
    }

    fn stamp(n: u64) -> Stamp {
        Stamp {
            modified: u128::from(n) * 1_000_000_007,
            size: n,
            hash: u64::MAX - n,
        }
    }

    #[test]
    fn manifest_round_trips_through_its_text() {
        let files = [
            ("2024/a.md".to_string(), stamp(1)),
            ("b with\ttab and spaces.md".to_string(), stamp(2)),
            ("ünïcode.md".to_string(), stamp(3)),
        ];
        let manifest = Manifest::new(42, true, files.clone());
        let text = manifest.to_text();
        assert!(text.starts_with("rollbook-search-manifest 3 "), "{text}");
        assert_eq!(Manifest::parse(&text), Some(manifest));
        let no_drafts = Manifest::new(0, false, files);
        assert_eq!(Manifest::parse(&no_drafts.to_text()), Some(no_drafts));
    }

    #[test]
    fn manifest_leaves_out_paths_it_cannot_write_and_refuses_what_it_cannot_read() {
        let manifest = Manifest::new(0, false, [("a\nb.md".to_string(), stamp(1))]);
        let read = Manifest::parse(&manifest.to_text()).expect("parses");
        assert!(read.files.is_empty());
        for bad in [
            "",
            "{\"version\":2}",
            "rollbook-search-manifest 3 0.1.0 7 maybe\n",
            "rollbook-search-manifest 3 0.1.0 7 drafts\n12\t3\tnot-a-hash\ta.md\n",
            "rollbook-search-manifest 3 0.1.0 7 drafts\n12\t3\n",
        ] {
            assert_eq!(Manifest::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn fnv_is_stable() {
        assert_eq!(hash(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(hash(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn changes_see_edits_new_and_removed_files_but_not_touches() {
        let dir = tempfile::tempdir().expect("temp");
        let content = dir.path().join("content");
        std::fs::create_dir_all(&content).expect("mkdir");
        std::fs::write(content.join("a.md"), "one").expect("write");
        std::fs::write(content.join("b.md"), "two").expect("write");
        let first = changes(dir.path(), &Manifest::new(0, false, BTreeMap::new()));
        assert!(first.removed.is_empty());
        assert_eq!(first.changed, ["a.md", "b.md"]);
        let manifest = Manifest::new(0, false, first.files);

        assert!(changes(dir.path(), &manifest).is_empty());
        // Same bytes, new time: not a change.
        std::fs::write(content.join("a.md"), "one").expect("write");
        let touched = changes(dir.path(), &manifest);
        assert!(touched.is_empty(), "{touched:?}");
        assert_eq!(touched.touched, ["a.md"]);
        let retimed = Manifest::new(0, false, touched.files);
        assert!(retimed.files["a.md"].modified != manifest.files["a.md"].modified);
        let again = changes(dir.path(), &retimed);
        assert!(again.is_empty() && again.touched.is_empty(), "{again:?}");
        std::fs::write(content.join("a.md"), "uno").expect("write");
        std::fs::remove_file(content.join("b.md")).expect("rm");
        std::fs::write(content.join("c.md"), "three").expect("write");
        let after = changes(dir.path(), &manifest);
        assert_eq!(after.changed, ["a.md", "c.md"]);
        assert_eq!(after.removed, ["b.md"]);
        // The files now: the new stamps of the changed files, none of the removed one.
        let mut now: Vec<(String, u64)> = after
            .files
            .iter()
            .map(|(p, s)| (p.clone(), s.hash))
            .collect();
        now.sort();
        assert_eq!(
            now,
            [
                ("a.md".to_string(), hash(b"uno")),
                ("c.md".to_string(), hash(b"three"))
            ]
        );
        // In subdirectories too, with their path from `content/`.
        std::fs::create_dir_all(content.join("2024/q1")).expect("mkdir");
        std::fs::write(content.join("2024/q1/d.md"), "four").expect("write");
        std::fs::write(content.join("2024/notes.txt"), "not a report").expect("write");
        let deeper = changes(dir.path(), &Manifest::new(0, false, after.files));
        assert_eq!(deeper.changed, ["2024/q1/d.md"]);
        assert!(deeper.removed.is_empty());
    }
}
