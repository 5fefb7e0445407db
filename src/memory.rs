//! Freed memory back to the system where a build's stages end.
//!
//! mimalloc keeps freed memory for a second before it returns it (its purge delay), so that a
//! program that frees and allocates again reuses it instead of faulting in fresh pages. That
//! is what the index writer does: each segment's memory is freed at a commit and the next
//! segment's allocated at once. With a delay of 10 ms, the kernel zeroed those pages afresh
//! for every segment, an eighth of the writer threads' time. But where a stage ends, what it
//! freed and what the next stage allocates would be counted together for that second, and
//! the build's peak memory is such a moment. So the delay stays mimalloc's, and the stages'
//! ends return freed memory at once.

/// Returns the memory freed so far to the system: the pages freed on each thread of rayon's
/// pool and on this one, and mimalloc's arenas (which are the process's).
pub fn release_freed() {
    rayon::broadcast(|_| collect());
    collect();
}

fn collect() {
    // SAFETY: asks mimalloc to free what it holds unused; no memory in use is touched.
    unsafe { libmimalloc_sys::mi_collect(true) };
}
