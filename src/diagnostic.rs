//! Diagnostics: a problem at a file, line and column, with help, and how to print it.

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// An environment error a command prints for a person: its message and, when there is one,
/// what to do about it.
pub trait Helpful: std::fmt::Display + Sized {
    fn help(&self) -> Option<String>;

    /// The error with its help line, as the command prints it.
    fn with_help(self) -> anyhow::Error {
        let help = self
            .help()
            .map(|h| format!("\n  help: {h}"))
            .unwrap_or_default();
        anyhow::anyhow!("{self}{help}")
    }
}

/// One problem found in the content. Positions are 1-based; columns count characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub severity: Severity,
    pub rule: &'static str,
    pub message: String,
    pub help: Option<String>,
    /// The text of the line the problem starts on, for the caret display.
    #[serde(skip)]
    pub source_line: Option<String>,
}

impl Diagnostic {
    /// A problem with a whole file rather than a place in it.
    pub fn file_error(file: &Path, rule: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            file: file.to_path_buf(),
            line: 1,
            column: 1,
            end_line: 1,
            end_column: 1,
            severity: Severity::Error,
            rule,
            message: message.into(),
            help: None,
            source_line: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn warning(mut self) -> Self {
        self.severity = Severity::Warning;
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Sort key: file, then position, then rule, so output is stable run to run.
    pub fn sort_key(&self) -> (&Path, usize, usize, &'static str) {
        (&self.file, self.line, self.column, self.rule)
    }

    /// rustc-style text: the message, the place, the source line with a caret, the help.
    pub fn render_human(&self, color: bool) -> String {
        let paint = Paint { on: color };
        let (label, tone) = match self.severity {
            Severity::Error => ("error", RED),
            Severity::Warning => ("warning", YELLOW),
        };
        let mut out = String::new();
        // Writing to a String cannot fail, so `format!` and `push_str` are enough.
        out.push_str(&format!(
            "{}{}\n",
            paint.text(&format!("{label}[{}]", self.rule), tone),
            paint.text(&format!(": {}", self.message), BOLD)
        ));
        let gutter = self.line.to_string().len();
        let pad = " ".repeat(gutter);
        out.push_str(&format!(
            "{pad}{} {}:{}:{}\n",
            paint.text("-->", BLUE),
            self.file.display(),
            self.line,
            self.column
        ));
        if let Some(line) = &self.source_line {
            let shown: String = line.chars().take(200).collect();
            let width = if self.end_line == self.line && self.end_column > self.column {
                self.end_column - self.column
            } else {
                1
            };
            let caret_pad: String = shown
                .chars()
                .take(self.column.saturating_sub(1))
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            let bar = paint.text("|", BLUE);
            out.push_str(&format!("{pad} {bar}\n"));
            out.push_str(&format!(
                "{} {bar} {shown}\n",
                paint.text(&self.line.to_string(), BLUE)
            ));
            out.push_str(&format!(
                "{pad} {bar} {caret_pad}{}\n",
                paint.text(&"^".repeat(width.min(80)), tone)
            ));
        }
        if let Some(help) = &self.help {
            out.push_str(&format!("{pad} {} {help}\n", paint.text("= help:", BOLD)));
        }
        out
    }

    /// A GitHub Actions workflow command, so the problem shows on the pull request's diff.
    pub fn render_github(&self) -> String {
        let command = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut message = self.message.clone();
        if let Some(help) = &self.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        format!(
            "::{command} file={},line={},col={},endLine={},endColumn={},title={}::{}",
            github_property(&self.file.display().to_string()),
            self.line,
            self.column,
            self.end_line,
            self.end_column.max(self.column),
            github_property(self.rule),
            github_data(&message)
        )
    }
}

/// Workflow command data: `%`, CR and LF escaped.
fn github_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Workflow command properties: as data, plus `:` and `,`.
fn github_property(text: &str) -> String {
    github_data(text).replace(':', "%3A").replace(',', "%2C")
}

const RED: &str = "\x1b[1;31m";
const YELLOW: &str = "\x1b[1;33m";
const BLUE: &str = "\x1b[1;34m";
const BOLD: &str = "\x1b[1m";

/// ANSI colour when it is on, plain text otherwise.
struct Paint {
    on: bool,
}

impl Paint {
    fn text(&self, text: &str, style: &str) -> String {
        if self.on {
            format!("{style}{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// Maps byte offsets in a file's text to 1-based lines and character columns.
pub struct LineIndex<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, line_starts }
    }

    /// (line, column) of a byte offset, both 1-based.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&start| start <= offset) - 1;
        let start = self.line_starts[line];
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line + 1, column + 1)
    }

    pub fn line_text(&self, line: usize) -> Option<&'a str> {
        let start = *self.line_starts.get(line.checked_sub(1)?)?;
        let end = self
            .line_starts
            .get(line)
            .map_or(self.text.len(), |&next| next - 1);
        self.text.get(start..end)
    }

    /// A diagnostic pointing at `span` (byte offsets into this text).
    pub fn diagnostic(
        &self,
        file: &Path,
        span: Range<usize>,
        rule: &'static str,
        message: impl Into<String>,
    ) -> Diagnostic {
        let (line, column) = self.position(span.start);
        let (end_line, end_column) = self.position(span.end.max(span.start));
        Diagnostic {
            file: file.to_path_buf(),
            line,
            column,
            end_line,
            end_column,
            severity: Severity::Error,
            rule,
            message: message.into(),
            help: None,
            source_line: self.line_text(line).map(str::to_owned),
        }
    }
}

/// The valid value nearest to a misspelt one, if any is close enough to be a likely typo.
pub fn nearest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let input = input.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&input, &c.to_lowercase()), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// Prints diagnostics for a person on stderr, in the order given.
pub fn print_human(diagnostics: &[Diagnostic], color: bool) {
    for d in diagnostics {
        eprintln!("{}", d.render_human(color));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_characters() {
        let text = "ab\ncdé\nf";
        let index = LineIndex::new(text);
        assert_eq!(index.position(0), (1, 1));
        assert_eq!(index.position(3), (2, 1));
        assert_eq!(index.position(7), (2, 4)); // after the two-byte é
        assert_eq!(index.position(8), (3, 1));
        assert_eq!(index.line_text(2), Some("cdé"));
        assert_eq!(index.line_text(3), Some("f"));
        assert_eq!(index.line_text(4), None);
    }

    #[test]
    fn nearest_suggests_close_values_only() {
        let keys = ["severity", "services", "summary"];
        assert_eq!(nearest("severty", keys), Some("severity"));
        assert_eq!(nearest("servces", keys), Some("services"));
        assert_eq!(nearest("zzz", keys), None);
    }

    #[test]
    fn human_rendering_points_at_the_span() {
        let text = "+++\nsevrity = \"high\"\n+++\n";
        let index = LineIndex::new(text);
        let d = index
            .diagnostic(
                Path::new("content/a.md"),
                4..11,
                "unknown-key",
                "unknown key `sevrity`",
            )
            .with_help("did you mean `severity`?");
        let out = d.render_human(false);
        assert!(
            out.contains("error[unknown-key]: unknown key `sevrity`"),
            "{out}"
        );
        assert!(out.contains("--> content/a.md:2:1"), "{out}");
        assert!(out.contains("2 | sevrity = \"high\""), "{out}");
        assert!(out.contains("| ^^^^^^^\n"), "{out}");
        assert!(out.contains("= help: did you mean `severity`?"), "{out}");
    }

    #[test]
    fn colour_is_only_added_when_asked_for() {
        let text = "x\n";
        let d = LineIndex::new(text).diagnostic(Path::new("a.md"), 0..1, "r", "m");
        assert!(!d.render_human(false).contains('\x1b'));
        assert!(d.render_human(true).contains("\x1b[1;31merror[r]\x1b[0m"));
    }

    #[test]
    fn github_commands_escape_their_fields() {
        let text = "x\n";
        let d = LineIndex::new(text)
            .diagnostic(
                Path::new("content/a,b.md"),
                0..1,
                "unknown-key",
                "50% off: no",
            )
            .with_help("fix\nit")
            .warning();
        assert_eq!(
            d.render_github(),
            "::warning file=content/a%2Cb.md,line=1,col=1,endLine=1,endColumn=2,title=unknown-key::50%25 off: no%0Ahelp: fix%0Ait"
        );
    }
}
