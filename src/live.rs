//! The state of `rollbook serve`'s rebuild loop as the server's pages see it: which build the
//! output directory holds (a generation number that every rebuild or failed rebuild raises)
//! and, when the last edit broke the content, the problems to show over the last good site.
//!
//! The rebuild loop writes it; every live-reload connection waits on it. A mutex and a
//! condition variable are enough: a generation changes a few times a minute at most.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// What a page needs to know about the build it shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// Raised by every finished rebuild, good or bad; pages reload when it changes.
    pub generation: u64,
    /// The problems of the last rebuild, as `rollbook check` prints them without colour;
    /// `None` when the content built.
    pub problems: Option<String>,
}

#[derive(Debug)]
struct State {
    snapshot: Snapshot,
    closed: bool,
}

/// Shared between the rebuild loop and the server (in an `Arc`).
#[derive(Debug)]
pub struct Live {
    state: Mutex<State>,
    changed: Condvar,
}

impl Default for Live {
    fn default() -> Live {
        Live::new()
    }
}

impl Live {
    /// Generation 0, no problems: the state before the first rebuild.
    pub fn new() -> Live {
        Live {
            state: Mutex::new(State {
                snapshot: Snapshot {
                    generation: 0,
                    problems: None,
                },
                closed: false,
            }),
            changed: Condvar::new(),
        }
    }

    /// The state, even if a thread panicked while holding the lock: every update below is a
    /// single assignment, so a poisoned state is still a consistent one, and the server must
    /// keep serving rather than panic in turn.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A rebuild finished and the output holds the new site.
    pub fn rebuilt(&self) {
        self.advance(None);
    }

    /// A rebuild found problems (plain text, as `rollbook check` prints them, no colour); the
    /// output still holds the last good site, and pages show the problems over it.
    pub fn failed(&self, problems: String) {
        self.advance(Some(problems));
    }

    fn advance(&self, problems: Option<String>) {
        let mut state = self.lock();
        state.snapshot.generation = state.snapshot.generation.saturating_add(1);
        state.snapshot.problems = problems;
        drop(state);
        self.changed.notify_all();
    }

    pub fn snapshot(&self) -> Snapshot {
        self.lock().snapshot.clone()
    }

    /// Blocks until generation > `seen` (returns Some(new snapshot)), or the timeout passes
    /// (None), or close() was called (None).
    ///
    /// A generation that is already newer returns at once, so a rebuild that finished
    /// between a caller's snapshot and this call is not missed.
    pub fn wait_newer(&self, seen: u64, timeout: Duration) -> Option<Snapshot> {
        // A timeout too large to add to now waits as long as it can, one day at a time.
        let deadline = Instant::now().checked_add(timeout);
        let mut state = self.lock();
        loop {
            if state.closed {
                return None;
            }
            if state.snapshot.generation > seen {
                return Some(state.snapshot.clone());
            }
            let left = match deadline {
                Some(deadline) => deadline.saturating_duration_since(Instant::now()),
                None => Duration::from_secs(24 * 60 * 60),
            };
            if left.is_zero() {
                return None;
            }
            // Spurious wake-ups and notifications for other waiters loop back to the checks.
            state = match self.changed.wait_timeout(state, left) {
                Ok((state, _)) => state,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }

    /// The server is shutting down: every waiter returns, now and from now on.
    pub fn close(&self) {
        self.lock().closed = true;
        self.changed.notify_all();
    }

    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    const LONG: Duration = Duration::from_secs(10);

    #[test]
    fn starts_at_generation_zero_with_no_problems() {
        let live = Live::new();
        assert_eq!(
            live.snapshot(),
            Snapshot {
                generation: 0,
                problems: None
            }
        );
        assert!(!live.is_closed());
    }

    #[test]
    fn a_failed_rebuild_keeps_its_problems_until_the_next_good_one() {
        let live = Live::new();
        live.failed("content/a.md:3:1: error: no title".into());
        assert_eq!(
            live.snapshot(),
            Snapshot {
                generation: 1,
                problems: Some("content/a.md:3:1: error: no title".into())
            }
        );
        live.rebuilt();
        assert_eq!(
            live.snapshot(),
            Snapshot {
                generation: 2,
                problems: None
            }
        );
    }

    #[test]
    fn wait_newer_returns_when_a_rebuild_finishes() {
        let live = Arc::new(Live::new());
        let waiter = {
            let live = Arc::clone(&live);
            std::thread::spawn(move || live.wait_newer(0, LONG))
        };
        // Give the waiter time to block; the result is the same if it has not yet.
        std::thread::sleep(Duration::from_millis(50));
        let started = Instant::now();
        live.rebuilt();
        let woke = waiter.join().expect("waiter thread");
        assert_eq!(
            woke,
            Some(Snapshot {
                generation: 1,
                problems: None
            })
        );
        assert!(started.elapsed() < LONG / 2, "woken, not timed out");
    }

    #[test]
    fn wait_newer_returns_at_once_for_a_generation_already_newer() {
        let live = Live::new();
        live.failed("broken".into());
        let seen = live.wait_newer(0, LONG).map(|s| s.generation);
        assert_eq!(seen, Some(1));
    }

    #[test]
    fn wait_newer_times_out_without_a_rebuild() {
        let live = Live::new();
        let started = Instant::now();
        assert_eq!(live.wait_newer(0, Duration::from_millis(100)), None);
        assert!(started.elapsed() >= Duration::from_millis(100));
        // The same generation again is not newer.
        live.rebuilt();
        assert_eq!(live.wait_newer(1, Duration::from_millis(10)), None);
    }

    #[test]
    fn close_wakes_every_waiter_for_good() {
        let live = Arc::new(Live::new());
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let live = Arc::clone(&live);
                std::thread::spawn(move || live.wait_newer(0, LONG))
            })
            .collect();
        std::thread::sleep(Duration::from_millis(50));
        let started = Instant::now();
        live.close();
        for waiter in waiters {
            assert_eq!(waiter.join().expect("waiter thread"), None);
        }
        assert!(started.elapsed() < LONG / 2, "woken, not timed out");
        assert!(live.is_closed());
        // Closed stays closed, even once a newer generation exists.
        live.rebuilt();
        assert_eq!(live.wait_newer(0, LONG), None);
    }

    #[test]
    fn a_huge_timeout_does_not_overflow() {
        let live = Live::new();
        live.rebuilt();
        assert!(live.wait_newer(0, Duration::MAX).is_some());
    }
}
