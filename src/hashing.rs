//! Where the hash maps of tera's values get their keys.
//!
//! Every map in a template's context is an `IndexMap` with aHash's `RandomState`, and a
//! 10,000-report build creates tens of millions of them. aHash derives each map's keys from
//! one process-wide atomic counter, which the rendering threads then take turns to own: its
//! cache line moved between the cores for every map, about 1% of the build's time. Here each
//! thread counts on its own, from an address that is its own; the keys are still mixed with
//! aHash's per-process random seeds, so maps still differ from each other and between runs.

use std::cell::Cell;

/// A seed per map from a counter of the calling thread.
struct ThreadCounters;

impl ahash::random_state::RandomSource for ThreadCounters {
    fn gen_hasher_seed(&self) -> usize {
        thread_local! {
            static NEXT: Cell<usize> = const { Cell::new(0) };
        }
        NEXT.with(|next| {
            let mut seed = next.get();
            if seed == 0 {
                // The thread's own cell: no two running threads share its address.
                seed = next as *const Cell<usize> as usize;
            }
            next.set(seed.wrapping_add(1));
            seed
        })
    }
}

/// Makes aHash seed maps from per-thread counters. Call it first thing: it takes effect only
/// before the process's first map.
pub fn seed_maps_per_thread() {
    // Err: a map was made first, and aHash keeps its default source, which is correct too.
    let _ = ahash::random_state::set_random_source(ThreadCounters);
}

#[cfg(test)]
mod tests {
    use ahash::random_state::RandomSource;

    use super::*;

    #[test]
    fn every_map_gets_a_seed_of_its_own() {
        let here: Vec<usize> = (0..3).map(|_| ThreadCounters.gen_hasher_seed()).collect();
        let there: Vec<usize> =
            std::thread::spawn(|| (0..3).map(|_| ThreadCounters.gen_hasher_seed()).collect())
                .join()
                .expect("the other thread seeds its maps");
        let mut all: Vec<usize> = here.iter().chain(&there).copied().collect();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 6, "{here:?} {there:?}");
    }
}
