//! One thin module per subcommand. Each returns whether the content was fine; an `Err` is
//! bad usage or an environment failure (exit code 2).

pub mod build;
pub mod init;
pub mod new;

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
