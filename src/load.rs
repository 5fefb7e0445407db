//! Walks `content/` and reads every report's Markdown file.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use walkdir::WalkDir;

use crate::diagnostic::Diagnostic;

/// One Markdown file under `content/`, read and normalised (no BOM, `\n` line endings).
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Relative to the site root, for messages: `content/2024/checkout.md`.
    pub path: PathBuf,
    /// Relative to `content/`, with `/` separators: `2024/checkout.md`.
    pub content_path: String,
    pub text: String,
    /// What the file was when it was read, to tell later whether it changed.
    pub stamp: crate::freshness::Stamp,
}

/// Why `content/` could not be walked at all (an environment problem, not a content one).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{0} has no content/ directory (run `rollbook init` to create a site)")]
    NoContent(PathBuf),
    #[error("cannot walk {path}: {source}")]
    Walk {
        path: PathBuf,
        source: walkdir::Error,
    },
}

/// The Markdown files under `root/content/`, sorted by path, and the ones that could not be read.
pub fn load_content(root: &Path) -> Result<(Vec<SourceFile>, Vec<Diagnostic>), LoadError> {
    let content = root.join("content");
    if !content.is_dir() {
        return Err(LoadError::NoContent(root.to_path_buf()));
    }
    let mut paths = Vec::new();
    let mut diagnostics = Vec::new();
    let walker = WalkDir::new(&content)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
    for entry in walker {
        let entry = match entry {
            Ok(entry) => entry,
            // A dangling symlink or an unreadable directory below content/ is one problem
            // among others; only content/ itself failing stops everything.
            Err(source) if source.depth() > 0 && source.path().is_some() => {
                let path = source.path().unwrap_or(&content);
                let shown = path.strip_prefix(root).unwrap_or(path);
                let reason = source
                    .io_error()
                    .map_or_else(|| source.to_string(), ToString::to_string);
                diagnostics.push(
                    Diagnostic::file_error(
                        shown,
                        "unreadable-file",
                        format!("cannot read {}: {reason}", shown.display()),
                    )
                    .with_help("fix or remove it: a symlink must point at an existing file inside the repository, and directories must be readable"),
                );
                continue;
            }
            Err(source) => {
                return Err(LoadError::Walk {
                    path: content.clone(),
                    source,
                });
            }
        };
        let is_markdown =
            entry.file_type().is_file() && entry.path().extension().is_some_and(|ext| ext == "md");
        if is_markdown {
            paths.push(entry.into_path());
        }
    }
    let results: Vec<Result<SourceFile, Box<Diagnostic>>> = paths
        .par_iter()
        .map(|path| read_source(root, &content, path))
        .collect();
    let mut files = Vec::with_capacity(results.len());
    for result in results {
        match result {
            Ok(file) => files.push(file),
            Err(d) => diagnostics.push(*d),
        }
    }
    files.sort_by(|a, b| a.content_path.cmp(&b.content_path));
    Ok((files, diagnostics))
}

/// One report file, by its path relative to `content/` (for reindexing a changed file).
pub fn read_one(root: &Path, content_path: &str) -> Result<SourceFile, Box<Diagnostic>> {
    let content = root.join("content");
    read_source(root, &content, &content.join(content_path))
}

fn read_source(root: &Path, content: &Path, path: &Path) -> Result<SourceFile, Box<Diagnostic>> {
    let shown = path.strip_prefix(root).unwrap_or(path).to_path_buf();
    let content_path = slash_path(path.strip_prefix(content).unwrap_or(path));
    // One open for the metadata and the bytes: the stamp must describe what was read.
    let read = std::fs::File::open(path).and_then(|mut file| {
        let meta = file.metadata()?;
        let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
        std::io::Read::read_to_end(&mut file, &mut bytes)?;
        Ok((meta, bytes))
    });
    let (meta, bytes) = read.map_err(|e| {
        Box::new(
            Diagnostic::file_error(
                &shown,
                "unreadable-file",
                format!("cannot read the file: {e}"),
            )
            .with_help("check the file's permissions"),
        )
    })?;
    let stamp = crate::freshness::Stamp::of(&meta, &bytes);
    let text = String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let line = bytes[..offset].iter().filter(|b| **b == b'\n').count() + 1;
        let mut d = Diagnostic::file_error(
            &shown,
            "not-utf8",
            format!("the file is not valid UTF-8 (first bad byte at offset {offset})"),
        )
        .with_help("save the file as UTF-8");
        d.line = line;
        d.end_line = line;
        Box::new(d)
    })?;
    Ok(SourceFile {
        path: shown,
        content_path,
        text: normalize_text(text),
        stamp,
    })
}

/// A relative path as rollbook names it everywhere (ids, URLs, messages): `/` between its
/// parts on every platform.
pub fn slash_path(path: &Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Drops a UTF-8 byte order mark and turns CRLF line endings into LF.
pub fn normalize_text(text: String) -> String {
    let text = match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    };
    if text.contains('\r') {
        text.replace("\r\n", "\n")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bom_and_crlf_are_normalised() {
        let text = normalize_text("\u{feff}+++\r\ntitle = \"x\"\r\n+++\r\n".to_string());
        assert_eq!(text, "+++\ntitle = \"x\"\n+++\n");
    }
}
