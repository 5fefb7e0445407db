//! The embedded default theme and a site's overrides: the only module that builds a Tera.
//!
//! Theme templates are registered as `theme/NAME` and the site's `templates/NAME` as `NAME`;
//! Tera's fallback prefix makes `NAME` resolve to the site's file when there is one and to the
//! theme's otherwise, so a site template can `{% extends "theme/NAME" %}` and override one block.

use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};
use tera::{Context, Tera};
use walkdir::WalkDir;

use crate::diagnostic::Diagnostic;
use crate::load::slash_path;

static DEFAULT_THEME: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/themes/default");

const PREFIX: &str = "theme/";

/// The templates of one build, ready to render.
pub struct Theme {
    tera: Tera,
}

/// A static file to copy into the output.
pub struct StaticFile {
    /// Path in the output, with `/` separators.
    pub path: String,
    pub bytes: Vec<u8>,
}

impl Theme {
    /// The default theme with the overrides in `root/templates/`.
    pub fn load(root: &Path) -> Result<Theme, Vec<Diagnostic>> {
        let mut sources: Vec<(String, String)> = Vec::new();
        if let Some(templates) = DEFAULT_THEME.get_dir("templates") {
            for file in templates.files() {
                let name = slash_path(file.path().strip_prefix("templates").unwrap_or(file.path()));
                let text = file.contents_utf8().unwrap_or_default().to_string();
                sources.push((format!("{PREFIX}{name}"), text));
            }
        }
        let mut diagnostics = Vec::new();
        let site_templates = root.join("templates");
        for (name, path) in files_under(&site_templates) {
            match std::fs::read_to_string(&path) {
                Ok(text) => sources.push((name, text)),
                Err(e) => diagnostics.push(Diagnostic::file_error(
                    path.strip_prefix(root).unwrap_or(&path),
                    "unreadable-file",
                    format!("cannot read the template: {e}"),
                )),
            }
        }
        if !diagnostics.is_empty() {
            return Err(diagnostics);
        }
        let mut tera = Tera::new();
        let template_error = |e: tera::Error| {
            vec![Diagnostic::file_error(Path::new("templates"), "template", format!("the templates do not compile: {}", error_chain(&e)))
                .with_help("fix the template named in the message; theme templates are reachable as theme/NAME")]
        };
        tera.set_fallback_prefixes([PREFIX])
            .map_err(template_error)?;
        tera.add_raw_templates(sources).map_err(template_error)?;
        Ok(Theme { tera })
    }

    /// A value every template sees, set once rather than per page.
    pub fn set_global(&mut self, key: &'static str, value: &impl serde::Serialize) {
        self.tera.global_context().insert(key, value);
    }

    /// Renders `template` at the end of `out`.
    pub fn render_to(
        &self,
        template: &str,
        context: &Context,
        out: &mut Vec<u8>,
    ) -> Result<(), String> {
        self.tera
            .render_to(template, context, out)
            .map_err(|e| format!("cannot render {template}: {}", error_chain(&e)))
    }
}

/// The theme's static files, then the site's `static/` (which wins on a clash).
pub fn static_files(root: &Path) -> Result<Vec<StaticFile>, Vec<Diagnostic>> {
    let mut files: Vec<StaticFile> = Vec::new();
    if let Some(dir) = DEFAULT_THEME.get_dir("static") {
        collect_embedded(dir, &mut files);
    }
    let mut diagnostics = Vec::new();
    let site_static = root.join("static");
    for (name, path) in files_under(&site_static) {
        match std::fs::read(&path) {
            Ok(bytes) => {
                files.retain(|f| f.path != name);
                files.push(StaticFile { path: name, bytes });
            }
            Err(e) => diagnostics.push(Diagnostic::file_error(
                path.strip_prefix(root).unwrap_or(&path),
                "unreadable-file",
                format!("cannot read the static file: {e}"),
            )),
        }
    }
    if diagnostics.is_empty() {
        Ok(files)
    } else {
        Err(diagnostics)
    }
}

fn collect_embedded(dir: &Dir<'static>, files: &mut Vec<StaticFile>) {
    for file in dir.files() {
        let path = slash_path(file.path().strip_prefix("static").unwrap_or(file.path()));
        files.push(StaticFile {
            path,
            bytes: file.contents().to_vec(),
        });
    }
    for sub in dir.dirs() {
        collect_embedded(sub, files);
    }
}

/// Files below `dir` as (path relative to `dir` with `/`, full path), sorted; none if absent.
fn files_under(dir: &Path) -> Vec<(String, PathBuf)> {
    if !dir.is_dir() {
        return Vec::new();
    }
    WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| {
            let rel = slash_path(e.path().strip_prefix(dir).unwrap_or(e.path()));
            (rel, e.into_path())
        })
        .collect()
}

/// Tera's error and its causes in one line, for a person.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}
