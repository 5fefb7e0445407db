//! rollbook's search, shared by the command line and the engine that runs in the browser, so
//! that both have one query language and one ranking: the index's [`schema`], its
//! [`analyzer`] and [`search`] itself, with [`within`] for queries over sections.

pub mod analyzer;
pub mod facets;
pub mod pack;
pub mod schema;
pub mod search;
pub mod typo;
pub mod within;
