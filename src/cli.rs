//! The command line, as clap types. Nothing else in rollbook imports clap.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "rollbook",
    version,
    about = "Turns a git repository of Markdown rollback reports and postmortems into a searchable static knowledge base",
    after_help = "Exit codes: 0 success, 1 the content has errors, 2 bad usage or an environment failure."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new site: rollbook.toml, content/ with an example report, .gitignore
    Init {
        /// Directory to create the site in
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Start a new report from the rollback report template, dated today, as a draft
    New {
        /// The report's title, e.g. "Checkout 500s after 2.5.0"
        title: String,
        /// The site root (the directory holding content/)
        #[arg(long, default_value = ".")]
        root: PathBuf,
    },
    /// Build the static site
    Build(BuildArgs),
    /// Check every report and list every problem, for people, GitHub Actions or JSON
    Check(CheckArgs),
    /// Search reports, lessons and corrective actions (reindexes what changed first)
    Search(SearchArgs),
    /// Build, serve the site locally, and rebuild what changed when a file is saved
    Serve(ServeArgs),
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The site root (the directory holding content/)
    #[arg(long, default_value = ".")]
    pub root: PathBuf,
    /// The address to listen on; anything but loopback exposes drafts to the network
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: std::net::IpAddr,
    /// The port to listen on (0: any free port)
    #[arg(long, default_value_t = 1111)]
    pub port: u16,
    /// Show reports with status = "draft" (the default in serve)
    #[arg(long, overrides_with = "no_drafts")]
    pub drafts: bool,
    /// Hide drafts, as `rollbook build` does
    #[arg(long)]
    pub no_drafts: bool,
}

#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// The site root (the directory holding content/)
    #[arg(long, default_value = ".")]
    pub root: PathBuf,
    /// Where to write the site [default: the root's output_dir, public/]
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Absolute URL the site is published at, for the feed, sitemap and canonical links
    #[arg(long)]
    pub base_url: Option<String>,
    /// Include reports with status = "draft"
    #[arg(long)]
    pub drafts: bool,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The site root (the directory holding content/)
    #[arg(long, default_value = ".")]
    pub root: PathBuf,
    /// How to print problems: for a person, as GitHub Actions annotations, or as JSON
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Fail (exit 1) on warnings too
    #[arg(long)]
    pub deny_warnings: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// rustc-style: message, file:line:column, the line with a caret, help
    Human,
    /// GitHub Actions workflow commands (::error file=…)
    Github,
    /// {"summary", "diagnostics"}, documented in the README
    Json,
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Query syntax: words (any may match, more matches rank higher), \"a phrase\", +required, -excluded, field:value (service:, tag:, team:, severity:, section:root_cause, kind:, state:, owner:…), (a OR b)."
)]
pub struct SearchArgs {
    /// The query, e.g. "connection pool exhausted" or '"replica lag" +service:inventory-api'
    #[arg(allow_hyphen_values = true)]
    pub query: String,
    /// The site root (the directory holding content/)
    #[arg(long, default_value = ".")]
    pub root: PathBuf,
    /// Only this kind of hit (repeat for several)
    #[arg(long, value_enum)]
    pub kind: Vec<KindArg>,
    /// Only reports of this severity (repeat for several)
    #[arg(long)]
    pub severity: Vec<String>,
    /// Only reports about this service (repeat for several)
    #[arg(long)]
    pub service: Vec<String>,
    /// Only reports with this tag (repeat for several)
    #[arg(long)]
    pub tag: Vec<String>,
    /// Only reports of this team (repeat for several)
    #[arg(long)]
    pub team: Vec<String>,
    /// Only reports dated on or after this day (YYYY-MM-DD)
    #[arg(long, value_parser = parse_date)]
    pub since: Option<jiff::civil::Date>,
    /// Only reports dated on or before this day (YYYY-MM-DD)
    #[arg(long, value_parser = parse_date)]
    pub until: Option<jiff::civil::Date>,
    /// Only open corrective actions
    #[arg(long)]
    pub open: bool,
    /// Order of the hits: by relevance, or newest first
    #[arg(long, value_enum, default_value_t = SortArg::Relevance)]
    pub sort: SortArg,
    /// Also count the matches by kind, severity, service, tag, team and year
    #[arg(long)]
    pub facets: bool,
    /// How many hits to show
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..))]
    pub limit: u16,
    /// Print {"total", "hits": [...], "fuzzy": [...]} as JSON (documented in the README)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    Report,
    Lesson,
    Action,
    /// A recognised section of a report (summary, root cause, impact…)
    Section,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SortArg {
    Relevance,
    Date,
}

fn parse_date(text: &str) -> Result<jiff::civil::Date, String> {
    text.parse::<jiff::civil::Date>()
        .map_err(|_| format!("`{text}` is not a date; write it as YYYY-MM-DD, e.g. 2024-01-26"))
}
