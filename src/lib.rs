//! rollbook: a git repository of Markdown rollback reports and postmortems → a searchable
//! static knowledge base.
//!
//! The data flows one way: [`load`] → [`parse`] ([`frontmatter`], [`markdown`], [`extract`])
//! → [`model`] ([`site`]) → [`render`] → [`write`].
//!
//! `rollbook serve` serves the output with [`server`], which reloads pages as [`live`] tells
//! it the rebuild loop's progress.

pub mod analysis;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod diagnostic;
pub(crate) mod extract;
pub(crate) mod fields;
pub mod freshness;
pub mod frontmatter;
pub mod hashing;
pub mod incremental;
pub mod index;
pub mod lint;
pub mod live;
pub mod load;
pub(crate) mod markdown;
pub(crate) mod memory;
pub mod model;
pub mod parse;
pub mod reindex;
pub mod related;
pub mod render;
pub mod rules;
pub mod scaffold;
pub mod sections;
pub mod server;
pub mod site;
pub mod slug;
pub mod theme;
pub mod view;
pub mod watch;
pub mod webindex;
pub mod write;

pub use rollbook_search::{analyzer, search};
