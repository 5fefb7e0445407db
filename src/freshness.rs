//! Whether the search index still matches the content: a manifest beside the index records
//! each report file's modification time, size and hash, and the configuration it was built
//! with. `rollbook search` compares it with the files on disk and reindexes what changed.

use std::collections::BTreeMap;
use std::path::Path;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Beside the index, relative to the output directory.
pub const MANIFEST: &str = "search/manifest.json";

const VERSION: u32 = 2;

/// A file as it was read: modification time (nanoseconds since the epoch), size and hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub version: u32,
    pub rollbook: String,
    /// Hash of `rollbook.toml` (0 without one): another configuration means another index.
    pub config: u64,
    /// Whether drafts are in the index.
    pub drafts: bool,
    /// Report files by their path relative to `content/`.
    pub files: BTreeMap<String, Stamp>,
}

impl Manifest {
    pub fn new(config: u64, drafts: bool, files: BTreeMap<String, Stamp>) -> Manifest {
        Manifest {
            version: VERSION,
            rollbook: env!("CARGO_PKG_VERSION").to_string(),
            config,
            drafts,
            files,
        }
    }

    pub fn read(output: &Path) -> Option<Manifest> {
        let text = std::fs::read_to_string(output.join(MANIFEST)).ok()?;
        serde_json::from_str(&text).ok()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
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
    /// New or changed files, relative to `content/`.
    pub changed: Vec<String>,
    pub removed: Vec<String>,
    /// Every file now, with its stamp (the manifest's for the files whose time and size match).
    pub files: BTreeMap<String, Stamp>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty() && self.removed.is_empty()
    }
}

/// Compares `content/` with the manifest: a file whose time and size match is unchanged
/// without being read; otherwise its hash decides (a `touch` is not a change). This runs
/// before every search, so the files are listed with plain `read_dir` and stat'ed in
/// parallel: on 10,000 reports the stat calls are most of a search's time.
pub fn changes(root: &Path, manifest: &Manifest) -> Changes {
    let content = root.join("content");
    let mut found = Vec::new();
    list_markdown(&content, "", &mut found);
    let stamped: Vec<(String, Stamp, bool)> = found
        .into_par_iter()
        .map(|(relative, entry)| {
            let path = entry.path();
            // Relative to the open directory (one path component to resolve), following a
            // symlink only when there is one.
            let meta = match entry.metadata() {
                Ok(m) if m.file_type().is_symlink() => std::fs::metadata(&path).ok(),
                Ok(m) => Some(m),
                Err(_) => None,
            };
            let modified = meta.as_ref().map_or(0, modified);
            let size = meta.as_ref().map_or(0, |m| m.len());
            let known = manifest.files.get(&relative).copied();
            match known {
                Some(old) if old.modified == modified && old.size == size => (relative, old, false),
                _ => {
                    let hash = std::fs::read(&path).map_or(0, |bytes| hash(&bytes));
                    let changed = known.is_none_or(|old| old.hash != hash || old.size != size);
                    let stamp = Stamp {
                        modified,
                        size,
                        hash,
                    };
                    (relative, stamp, changed)
                }
            }
        })
        .collect();
    let mut out = Changes::default();
    for (relative, stamp, changed) in stamped {
        if changed {
            out.changed.push(relative.clone());
        }
        out.files.insert(relative, stamp);
    }
    out.changed.sort();
    out.removed = manifest
        .files
        .keys()
        .filter(|k| !out.files.contains_key(*k))
        .cloned()
        .collect();
    out
}

/// Every `*.md` below `dir` (following symlinks, skipping hidden entries), as the path
/// relative to `content/` with `/` and its directory entry.
fn list_markdown(dir: &Path, prefix: &str, out: &mut Vec<(String, std::fs::DirEntry)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let relative = if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}/{name}")
        };
        let is_dir = match entry.file_type() {
            Ok(t) if t.is_symlink() => path.is_dir(),
            Ok(t) => t.is_dir(),
            Err(_) => false,
        };
        if is_dir {
            list_markdown(&path, &relative, out);
        } else if name.ends_with(".md") {
            out.push((relative, entry));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(first.changed, ["a.md", "b.md"]);
        let manifest = Manifest::new(0, false, first.files);

        assert!(changes(dir.path(), &manifest).is_empty());
        // Same bytes, new time: not a change.
        std::fs::write(content.join("a.md"), "one").expect("write");
        let touched = changes(dir.path(), &manifest);
        assert!(touched.is_empty(), "{touched:?}");
        std::fs::write(content.join("a.md"), "uno").expect("write");
        std::fs::remove_file(content.join("b.md")).expect("rm");
        std::fs::write(content.join("c.md"), "three").expect("write");
        let after = changes(dir.path(), &manifest);
        assert_eq!(after.changed, ["a.md", "c.md"]);
        assert_eq!(after.removed, ["b.md"]);
    }
}
