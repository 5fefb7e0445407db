//! The `rollbook` binary: parse the command line, run the command, map the result to an exit code.

use std::process::ExitCode;

use clap::Parser;
use rollbook::cli::{Cli, Command};
use rollbook::cmd::{self, Outcome};

/// mimalloc: rendering tens of thousands of pages is allocation-heavy, and glibc's malloc
/// spent a fifth of a 10,000-report build in malloc/free under two threads.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc v3's `mimalloc.h`, which libmimalloc-sys does not name.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
const PURGE_DELAY_MS: std::ffi::c_long = 10;

/// mimalloc v3 keeps freed memory for a second before it returns it to the system. A build
/// frees the parser's working memory just before the search index is written, and the two
/// added up to the build's peak: at 10,000 reports 400-463 MiB, against 383-388 MiB with
/// mimalloc v2's delay of 10 ms, which costs about 0.4 s of system time (0 ms: 377-384 MiB
/// and 1.4 s). `MIMALLOC_PURGE_DELAY` in the environment still decides.
fn return_freed_memory_soon() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets an option's value; no memory is touched.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) };
    }
}

fn main() -> ExitCode {
    return_freed_memory_soon();
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The option's number is mimalloc's, not libmimalloc-sys's: this fails if an update of
    /// mimalloc renumbers its options. The purge delay is the option whose default is 1,000 ms.
    #[test]
    fn the_purge_delay_option_is_the_one_set() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return;
        }
        // SAFETY: reads an option's value.
        let delay = unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) };
        assert_eq!(delay, 1000);
    }
}
