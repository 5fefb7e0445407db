//! One thin module per subcommand. Each returns whether the content was fine; an `Err` is
//! bad usage or an environment failure (exit code 2).

pub mod build;
pub mod check;
pub mod init;
pub mod new;
pub mod search;
pub mod serve;

use std::path::{Path, PathBuf};

use crate::diagnostic::Diagnostic;

/// How a command ended when it could do its job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// The content has errors; they have been printed (exit code 1).
    ContentErrors,
}

/// True when progress bars and colour make sense: a terminal, and not in CI.
pub fn interactive() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal()
        && std::env::var_os("CI").is_none_or(|v| v.is_empty() || v == "false")
}

/// The two streams a command writes to.
#[derive(Debug, Clone, Copy)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Colour on a terminal only, and never when `NO_COLOR` is set (no-color.org) or in CI.
pub fn color(stream: Stream) -> bool {
    use std::io::IsTerminal;
    let terminal = match stream {
        Stream::Stdout => std::io::stdout().is_terminal(),
        Stream::Stderr => std::io::stderr().is_terminal(),
    };
    terminal
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var_os("CI").is_none_or(|v| v.is_empty() || v == "false")
}

/// `s` for counts other than one: "1 warning", "2 warnings".
pub fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `./public` → `public`: paths as a person would type them.
pub fn tidy(path: &Path) -> PathBuf {
    path.components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect()
}

/// A path as a person would type it from the current directory.
pub fn display_path(path: &Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    let shown: PathBuf = path
        .strip_prefix(&cwd)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| path.to_path_buf());
    shown.display().to_string()
}

/// Diagnostics name files relative to the site root; messages name them from the current
/// directory, so that `file:line` opens from the terminal and GitHub finds them in the
/// repository when the site is a sub-directory of it.
pub fn relative_to_cwd(diagnostics: &[Diagnostic], root: &Path) -> Vec<Diagnostic> {
    let cwd = std::env::current_dir().ok();
    let root = match &cwd {
        Some(cwd) if root.is_relative() => cwd.join(root),
        _ => root.to_path_buf(),
    };
    diagnostics
        .iter()
        .map(|d| {
            let full = tidy(&root.join(&d.file));
            let file = cwd
                .as_deref()
                .and_then(|cwd| full.strip_prefix(cwd).ok())
                .map_or(full.clone(), Path::to_path_buf);
            Diagnostic { file, ..d.clone() }
        })
        .collect()
}

/// The build date: `SOURCE_DATE_EPOCH` when set (reproducible builds), otherwise today, in UTC.
pub fn today() -> anyhow::Result<jiff::civil::Date> {
    use anyhow::Context as _;
    let now = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(value) if !value.trim().is_empty() => {
            let seconds: i64 = value.trim().parse().with_context(|| {
                format!("SOURCE_DATE_EPOCH must be a number of seconds, not {value:?}")
            })?;
            jiff::Timestamp::from_second(seconds).context("SOURCE_DATE_EPOCH is out of range")?
        }
        _ => jiff::Timestamp::now(),
    };
    Ok(now.to_zoned(jiff::tz::TimeZone::UTC).date())
}
