//! The `rollbook` binary: parse the command line, run the command, map the result to an exit code.

use std::process::ExitCode;

use clap::Parser;
use rollbook::cli::{Cli, Command};
use rollbook::cmd::{self, Outcome};

/// mimalloc: rendering tens of thousands of pages is allocation-heavy, and glibc's malloc
/// spent a fifth of a 10,000-report build in malloc/free under two threads.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    rollbook::hashing::seed_maps_per_thread();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Init { dir } => cmd::init::run(&dir),
        Command::New { title, root } => cmd::new::run(&title, &root),
        Command::Build(args) => cmd::build::run(&args),
        Command::Check(args) => cmd::check::run(&args),
        Command::Search(args) => cmd::search::run(&args),
        Command::Serve(args) => cmd::serve::run(&args),
    };
    match result {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::ContentErrors) => ExitCode::from(1),
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
