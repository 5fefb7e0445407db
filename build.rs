//! Links the `rollbook` binary as a position-dependent executable on Linux.
//!
//! `rollbook search` is a short process run by hand, where start-up is part of the answer's
//! time. As a PIE, the dynamic loader first patched about 100,000 relocations (vtables and
//! tables of pointers in tantivy, tera and clap), touching ~220 pages: 4.4 ms of CPU before
//! `main`. Resolved at link time instead, `rollbook --version` takes 2.3 ms. The code is memory
//! safe Rust, and `serve` listens on loopback only by default, so the lost address
//! randomisation of the executable's own image is a small price.
fn main() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
