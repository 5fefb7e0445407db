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
