//! rollbook's search engine for the browser: [`rollbook_search`] (the same query language and
//! ranking as `rollbook search`) over the chunked index that `rollbook build` writes, through
//! a read-only [`ChunkDirectory`]. Compiled to `wasm32-unknown-unknown` it runs in a Web
//! Worker (`worker.js`), which fetches chunks for it; built natively, tests drive it directly.
//!
//! A query may answer "need these chunks": the documents to show are read only once all their
//! chunks are here, so that the worker fetches them in parallel rather than one by one.

mod directory;
#[cfg(target_arch = "wasm32")]
mod host;

use std::cell::RefCell;
use std::sync::Arc;

use jiff::civil::Date;
use rollbook_search::pack;
use rollbook_search::schema::{Fields, Kind, parse_day};
use rollbook_search::search::{self, Request, SearchError, Sort};
use rollbook_search::typo::Levenshtein;
use serde::{Deserialize, Serialize};
use tantivy::postings::TermInfo;
use tantivy::query::{AutomatonWeight, Query as _};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::TokenStream as _;
use tantivy::{Index, InvertedIndexReader, Searcher, SegmentReader, TantivyDocument, Term};

pub use directory::{ChunkDirectory, Fetch};

pub struct Engine {
    directory: ChunkDirectory,
    searcher: Searcher,
    fields: Fields,
    /// The query last ranked, whose documents were still to fetch: asked again once they
    /// are here, it is not ranked again.
    waiting: RefCell<Option<(Query, search::Ranked)>>,
}

/// A query as the page sends it (see the README's "Searching in the browser").
#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
#[serde(default)]
pub struct Query {
    pub text: String,
    pub kinds: Vec<String>,
    pub severities: Vec<String>,
    pub services: Vec<String>,
    pub tags: Vec<String>,
    pub teams: Vec<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub open: bool,
    pub sort: Option<String>,
    pub limit: Option<usize>,
    pub facets: bool,
    /// The reader's day, for overdue actions: `YYYY-MM-DD`.
    pub today: Option<String>,
}

/// What a query answers.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Answer {
    /// Fetch these chunks, [`Engine::put`] them, and ask again.
    Need {
        need: Vec<String>,
    },
    Results {
        ok: bool,
        results: search::Results,
    },
    Error {
        ok: bool,
        error: Problem,
    },
}

#[derive(Debug, Serialize)]
pub struct Problem {
    pub message: String,
    pub help: String,
}

impl Problem {
    fn new(message: impl Into<String>, help: impl Into<String>) -> Problem {
        Problem {
            message: message.into(),
            help: help.into(),
        }
    }
}

impl Answer {
    fn error(message: impl Into<String>, help: impl Into<String>) -> Answer {
        Answer::Error {
            ok: false,
            error: Problem::new(message, help),
        }
    }
}

impl Engine {
    /// Opens the index from its open pack; other bytes come through `fetch`.
    pub fn open(pack_bytes: &[u8], fetch: Fetch) -> Result<Engine, String> {
        let directory = ChunkDirectory::open(pack_bytes, fetch)?;
        let index = Index::open(directory.clone())
            .map_err(|e| format!("cannot open the search index: {e}"))?;
        let searcher =
            pack::open(&index).map_err(|e| format!("cannot open the search index: {e}"))?;
        let fields =
            Fields::of(&index).map_err(|e| format!("cannot open the search index: {e}"))?;
        Ok(Engine {
            directory,
            searcher,
            fields,
            waiting: RefCell::default(),
        })
    }

    /// A chunk the host fetched because an answer needed it, as stored.
    pub fn put(&self, name: &str, stored: &[u8]) -> Result<(), String> {
        self.directory.put(name, stored)
    }

    pub fn query(&self, query: &Query) -> Answer {
        let request = match request(query) {
            Ok(request) => request,
            Err(error) => return Answer::Error { ok: false, error },
        };
        let today = query
            .today
            .as_deref()
            .and_then(parse_day)
            .unwrap_or(Date::constant(1970, 1, 1));
        let waiting = self.waiting.take();
        let ranked = match waiting {
            Some((asked, ranked)) if asked == *query => ranked,
            _ => {
                if let Some(need) = self.prefetch_words(&request) {
                    return Answer::Need { need };
                }
                let built = match search::build(&self.searcher, &request) {
                    Ok(built) => built,
                    Err(e) => return failure(e),
                };
                if let Some(need) = self.prefetch_postings(&built) {
                    return Answer::Need { need };
                }
                match search::rank_built(&self.searcher, &request, built) {
                    Ok(ranked) => ranked,
                    Err(e) => return failure(e),
                }
            }
        };
        // Try to read the documents without fetching: what is missing is fetched together.
        self.directory.defer();
        for top in &ranked.top {
            let _ = self.searcher.doc::<TantivyDocument>(top.address);
        }
        let need = self.directory.deferred();
        if !need.is_empty() {
            *self.waiting.borrow_mut() = Some((query.clone(), ranked));
            return Answer::Need { need };
        }
        match search::hits(&self.searcher, ranked, today) {
            Ok(results) => Answer::Results { ok: true, results },
            Err(e) => failure(e),
        }
    }

    /// The chunks a query will read are found without reading them, in two rounds, each
    /// fetched in parallel (whatever they miss is fetched when read). First the dictionary
    /// blocks of the query's words, which building the query reads.
    fn prefetch_words(&self, request: &Request) -> Option<Vec<String>> {
        self.directory.defer();
        let fields = search::text_fields(&self.fields);
        let mut analyzer = rollbook_search::analyzer::analyzer();
        let mut stream = analyzer.token_stream(&request.text);
        while stream.advance() {
            let word = &stream.token().text;
            for &field in &fields {
                let _ = self.searcher.doc_freq(&Term::from_field_text(field, word));
            }
        }
        Some(self.directory.deferred()).filter(|need| !need.is_empty())
    }

    /// Then the postings of the built queries' terms and the norms of their fields.
    fn prefetch_postings(&self, built: &search::Built) -> Option<Vec<String>> {
        self.directory.defer();
        let mut read = |term: &Term, positions: bool| {
            let option = match positions {
                true => IndexRecordOption::WithFreqsAndPositions,
                false => IndexRecordOption::WithFreqs,
            };
            for segment in self.searcher.segment_readers() {
                read_postings(segment, term.field(), option, |inverted| {
                    inverted
                        .get_term_info(term)
                        .ok()
                        .flatten()
                        .into_iter()
                        .collect()
                });
            }
        };
        for query in built.queries() {
            query.query_terms(&mut read);
        }
        // A word with a typo reads the postings of the words near it in the dictionary, as
        // tantivy's fuzzy query finds them.
        for word in &built.approximate {
            let automaton = Arc::new(Levenshtein::new(&word.stem, word.distance));
            for &field in &word.fields {
                let weight = AutomatonWeight::<Levenshtein>::new(field, Arc::clone(&automaton));
                for segment in self.searcher.segment_readers() {
                    read_postings(segment, field, IndexRecordOption::WithFreqs, |_| {
                        weight.get_match_term_infos(segment).unwrap_or_default()
                    });
                }
            }
        }
        Some(self.directory.deferred()).filter(|need| !need.is_empty())
    }
}

/// Reads the norms of `field` in `segment` and the postings of the terms `infos` finds in
/// its inverted index, for what they fetch; reads that fail are the directory's to note.
fn read_postings(
    segment: &SegmentReader,
    field: Field,
    option: IndexRecordOption,
    infos: impl FnOnce(&InvertedIndexReader) -> Vec<TermInfo>,
) {
    let _ = segment.get_fieldnorms_reader(field);
    if let Ok(inverted) = segment.inverted_index(field) {
        for info in infos(&inverted) {
            let _ = inverted.read_postings_from_terminfo(&info, option);
        }
    }
}

fn failure(e: SearchError) -> Answer {
    match e {
        SearchError::Query { message, help } => Answer::error(message, help),
        SearchError::Index(e) => Answer::error(
            format!("the search index could not be read: {e}"),
            "reload the page; if it persists, rebuild the site",
        ),
    }
}

fn request(query: &Query) -> Result<Request, Problem> {
    let date = |text: &Option<String>, name: &str| -> Result<Option<Date>, Problem> {
        match text.as_deref().filter(|t| !t.is_empty()) {
            None => Ok(None),
            Some(t) => parse_day(t).map(Some).ok_or_else(|| {
                Problem::new(
                    format!("`{t}` is not a date"),
                    format!("write {name} as YYYY-MM-DD"),
                )
            }),
        }
    };
    let mut kinds = Vec::with_capacity(query.kinds.len());
    for name in &query.kinds {
        kinds.push(Kind::from_name(name).ok_or_else(|| {
            Problem::new(
                format!("`{name}` is not a kind"),
                "kinds are report, section, lesson and action",
            )
        })?);
    }
    Ok(Request {
        text: query.text.clone(),
        kinds,
        severities: query.severities.clone(),
        services: query.services.clone(),
        tags: query.tags.clone(),
        teams: query.teams.clone(),
        since: date(&query.since, "since")?,
        until: date(&query.until, "until")?,
        open: query.open,
        sort: match query.sort.as_deref() {
            Some("date") => Sort::Date,
            _ => Sort::Relevance,
        },
        limit: query.limit.unwrap_or(10).clamp(1, 1000),
        facets: query.facets,
    })
}
