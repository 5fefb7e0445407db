//! Queries the index: tantivy's query language with OR as the default operator and BM25
//! ranking, plus filters, and hits ready to print with a highlighted snippet.

use std::ops::{Bound, Range};

use jiff::civil::Date;
use serde::Serialize;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, EmptyQuery, Occur, Query, QueryParser, QueryParserError,
    RangeQuery, TermQuery,
};
use tantivy::query_grammar::{self, Delimiter, Occur as GrammarOccur, UserInputAst, UserInputLeaf};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::{DateTime, DocAddress, Index, Order, Score, Searcher, TantivyDocument, Term};

use crate::facets::FacetCounter;
use crate::within::{InSections, Words};

use crate::schema::{EXACT_FIELDS, Fields, Kind, SECTIONS, SectionSpan, date_of, day, day_text};

/// What to look for: the query text and the filters of `rollbook search`.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub text: String,
    pub kinds: Vec<Kind>,
    pub severities: Vec<String>,
    pub services: Vec<String>,
    pub tags: Vec<String>,
    pub teams: Vec<String>,
    pub since: Option<Date>,
    pub until: Option<Date>,
    /// Open actions only.
    pub open: bool,
    pub sort: Sort,
    pub limit: usize,
    /// Count the matches by kind, severity, service, tag, team and year.
    pub facets: bool,
}

/// The order of hits. Without words to rank by, the order is always newest first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Sort {
    #[default]
    Relevance,
    Date,
}

#[derive(Debug, Serialize)]
pub struct Results {
    /// Every document that matches, not only the hits shown.
    pub total: usize,
    pub hits: Vec<Hit>,
    /// Words of the query that are in no document, matched to similar words instead.
    pub fuzzy: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facets: Option<Facets>,
}

/// How many matching documents have each value, most first.
#[derive(Debug, Default, Serialize)]
pub struct Facets {
    pub kind: Vec<(String, u64)>,
    pub severity: Vec<(String, u64)>,
    pub service: Vec<(String, u64)>,
    pub tag: Vec<(String, u64)>,
    pub team: Vec<(String, u64)>,
    pub year: Vec<(String, u64)>,
}
/// One hit: the fields every kind has, then its kind's own.
#[derive(Debug, Serialize)]
pub struct Hit {
    pub kind: &'static str,
    pub score: f32,
    pub report_id: String,
    pub report_title: String,
    pub title: String,
    /// Relative to the site root, with the anchor for sections, lessons and actions.
    pub url: String,
    pub date: Option<String>,
    pub severity: String,
    pub services: Vec<String>,
    pub tags: Vec<String>,
    pub teams: Vec<String>,
    pub status: String,
    pub response: Option<String>,
    pub snippet: String,
    pub snippet_html: String,
    /// Byte ranges of the matched words in `snippet`.
    #[serde(skip)]
    pub highlights: Vec<Range<usize>>,
    #[serde(flatten)]
    pub detail: Detail,
}

/// What a hit of each kind adds; in JSON its fields stand beside the common ones.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Detail {
    Report {},
    Section {
        section: Option<String>,
    },
    Lesson {
        category: Option<String>,
    },
    Action {
        owner: Option<String>,
        due: Option<String>,
        state: Option<String>,
        overdue: bool,
        ticket: Option<String>,
        #[serde(rename = "type")]
        action_type: Option<String>,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The query text is not valid: the user's to fix.
    #[error("{message}")]
    Query { message: String, help: String },
    #[error(transparent)]
    Index(#[from] tantivy::TantivyError),
}

/// How many characters a snippet has at most.
const SNIPPET_CHARS: usize = 180;

/// A query run: the documents to show, in order, before they are read.
pub struct Ranked {
    built: Built,
    pub top: Vec<Top>,
    pub total: usize,
    pub facets: Option<Facets>,
}

/// A document to show, and which of the request's queries found it.
#[derive(Debug, Clone, Copy)]
pub struct Top {
    pub score: f32,
    pub address: DocAddress,
    part: usize,
}

pub fn search(searcher: &Searcher, request: &Request, today: Date) -> Result<Results, SearchError> {
    let ranked = rank(searcher, request)?;
    hits(searcher, ranked, today)
}

/// The request as tantivy queries, with the words matched approximately: one over reports,
/// lessons and actions, one over sections, or both (`--kind section --kind lesson`).
pub struct Built {
    parts: Vec<Part>,
    /// Whether the query has words, and so scores and snippets.
    pub has_words: bool,
    pub fuzzy: Vec<String>,
    /// The words of `fuzzy` as the query looks for them: it reads the postings of the
    /// dictionary's words near them, which `query_terms` of [`Built::queries`] does not list.
    pub approximate: Vec<Approximate>,
    fields: Fields,
}

/// A word looked for with typos, in the fields searched.
pub struct Approximate {
    /// The word as indexed.
    pub stem: String,
    /// The typos allowed.
    pub distance: u8,
    pub fields: Vec<Field>,
}

/// One of a request's queries, and what its hits are.
struct Part {
    query: BooleanQuery,
    /// For the query over sections, the kinds of section asked for (indices into
    /// [`SECTIONS`]): its hits are report documents, shown as their best matching section.
    sections: Option<Vec<usize>>,
}

impl Built {
    /// The request's queries, for reading ahead what they will read.
    pub fn queries(&self) -> impl Iterator<Item = &BooleanQuery> {
        self.parts.iter().map(|part| &part.query)
    }
}

/// Runs the query: which documents match, how many, and the top ones in order.
pub fn rank(searcher: &Searcher, request: &Request) -> Result<Ranked, SearchError> {
    rank_built(searcher, request, build(searcher, request)?)
}

/// [`rank`] with the query already built. Each query's top documents are merged by score
/// (or date); ties keep each query's order, the sections' query first.
pub fn rank_built(
    searcher: &Searcher,
    request: &Request,
    built: Built,
) -> Result<Ranked, SearchError> {
    let limit = request.limit.max(1);
    let by_score = built.has_words && request.sort == Sort::Relevance;
    let mut ranked: Vec<(f64, Top)> = Vec::new();
    let mut total = 0;
    let mut counted = Vec::new();
    for (part, query) in built.queries().enumerate() {
        let facet_counter = request.facets.then_some(FacetCounter);
        let top = |score: f32, address| Top {
            score,
            address,
            part,
        };
        let (count, facets) = if by_score {
            let (docs, count, facets) = searcher.search(
                query,
                &(
                    TopDocs::with_limit(limit).order_by_score(),
                    Count,
                    facet_counter,
                ),
            )?;
            ranked.extend(docs.into_iter().map(|(s, a)| (f64::from(s), top(s, a))));
            (count, facets)
        } else {
            let (docs, count, facets) = searcher.search(
                query,
                &(
                    TopDocs::with_limit(limit).order_by_fast_field::<DateTime>("date", Order::Desc),
                    Count,
                    facet_counter,
                ),
            )?;
            ranked.extend(docs.into_iter().map(|(d, a)| {
                (
                    d.map_or(f64::MIN, |d| d.into_timestamp_secs() as f64),
                    top(0.0, a),
                )
            }));
            (count, facets)
        };
        total += count;
        if let Some(mut facets) = facets {
            if built.parts[part].sections.is_some() {
                // The documents counted are reports, each standing for its sections.
                for (kind, _) in &mut facets.kind {
                    *kind = Kind::Section.name().to_string();
                }
            }
            counted.push(facets);
        }
    }
    // Stable: equal keys keep each query's order, and the queries' order.
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    ranked.truncate(limit);
    Ok(Ranked {
        built,
        top: ranked.into_iter().map(|(_, top)| top).collect(),
        total,
        facets: request.facets.then(|| crate::facets::merge(counted)),
    })
}

/// Builds the request's queries: the user's words and filters, and the request's filters.
pub fn build(searcher: &Searcher, request: &Request) -> Result<Built, SearchError> {
    let fields = Fields::of(searcher.index())?;
    let ast = if request.text.trim().is_empty() {
        None
    } else {
        // Parsed first, so that filters in the query can be read and made required; then
        // built by the query parser as `parse_query` would.
        let ast = query_grammar::parse_query(&request.text)
            .map_err(|_| query_error(QueryParserError::SyntaxError(request.text.clone())))?;
        Some(require_filters(ast))
    };
    let mut parts = Vec::new();
    let mut fuzzy = Vec::new();
    let mut approximate = Vec::new();
    let mut has_words = false;
    if let Some(asked) = asked_sections(request, ast.as_ref())? {
        let kinds = asked.iter().fold(0u32, |kinds, &i| kinds | 1 << i);
        let words = ast.clone().and_then(without_sections);
        let user = match words {
            Some(ast) if kinds != 0 => Some(build_query(
                searcher,
                &fields,
                ast,
                Searched::Sections(kinds),
                (&mut fuzzy, &mut approximate),
            )?),
            _ => None,
        };
        has_words |= user.is_some();
        let names: Vec<String> = asked.iter().map(|&i| SECTIONS[i].to_string()).collect();
        let mut clauses = vec![
            (Occur::Must, user.unwrap_or_else(|| Box::new(AllQuery))),
            (Occur::Must, term(fields.kind, Kind::Report.name())),
            (
                Occur::Must,
                any_of(fields.section, &names).unwrap_or_else(|| Box::new(EmptyQuery)),
            ),
        ];
        clauses.extend(filters(&fields, request));
        parts.push(Part {
            query: BooleanQuery::new(clauses),
            sections: Some(asked),
        });
    }
    let others: Vec<Kind> = request
        .kinds
        .iter()
        .copied()
        .filter(|&k| k != Kind::Section)
        .collect();
    if parts.is_empty() || !others.is_empty() {
        let mut words_fuzzy = Vec::new();
        let user = match ast {
            None => None,
            Some(ast) => Some(build_query(
                searcher,
                &fields,
                ast,
                Searched::Text,
                (&mut words_fuzzy, &mut approximate),
            )?),
        };
        has_words |= user.is_some();
        for word in words_fuzzy {
            if !fuzzy.contains(&word) {
                fuzzy.push(word);
            }
        }
        parts.push(Part {
            query: combine(&fields, request, &others, user),
            sections: None,
        });
    }
    Ok(Built {
        parts,
        has_words,
        fuzzy,
        approximate,
        fields,
    })
}

/// The kinds of section a request searches, as indices into [`SECTIONS`]: those named by
/// `section:` in the query (less those excluded with `-section:`), or all of them for
/// `--kind section` or `kind:section`; None when it asks for no sections, or with `--open`
/// (which asks for actions only).
fn asked_sections(
    request: &Request,
    ast: Option<&UserInputAst>,
) -> Result<Option<Vec<usize>>, SearchError> {
    if request.open {
        return Ok(None);
    }
    let mut named = Named {
        any: request.kinds.contains(&Kind::Section),
        ..Named::default()
    };
    if let Some(ast) = ast {
        named.collect(ast, false)?;
    }
    if !named.any && named.wanted.is_empty() && named.excluded.is_empty() {
        return Ok(None);
    }
    let mut asked: Vec<usize> = match named.wanted.is_empty() {
        true => (0..SECTIONS.len()).collect(),
        false => named.wanted,
    };
    asked.sort_unstable();
    asked.dedup();
    asked.retain(|i| !named.excluded.contains(i));
    Ok(Some(asked))
}

/// The kinds of section a query names.
#[derive(Default)]
struct Named {
    /// `kind:section`: any kind.
    any: bool,
    wanted: Vec<usize>,
    excluded: Vec<usize>,
}

impl Named {
    fn collect(&mut self, ast: &UserInputAst, negated: bool) -> Result<(), SearchError> {
        match ast {
            UserInputAst::Clause(clauses) => {
                for (occur, ast) in clauses {
                    self.collect(ast, negated ^ (*occur == Some(GrammarOccur::MustNot)))?;
                }
            }
            UserInputAst::Boost(inner, _) => self.collect(inner, negated)?,
            UserInputAst::Leaf(leaf) => {
                let names: Vec<&str> = match leaf.as_ref() {
                    UserInputLeaf::Set {
                        field: Some(field),
                        elements,
                    } if field == "section" => elements.iter().map(String::as_str).collect(),
                    leaf => match leaf_field(leaf) {
                        Some(("section", Some(name))) => vec![name],
                        Some(("kind", Some("section"))) => {
                            self.any |= !negated;
                            vec![]
                        }
                        _ => vec![],
                    },
                };
                for name in names {
                    let i = SECTIONS.iter().position(|k| *k == name).ok_or_else(|| {
                        SearchError::Query {
                            message: format!(
                                "the query is not valid: no kind of section is called `{name}`"
                            ),
                            help: format!("kinds of section are {}", SECTIONS.join(", ")),
                        }
                    })?;
                    match negated {
                        true => self.excluded.push(i),
                        false => self.wanted.push(i),
                    }
                }
            }
        }
        Ok(())
    }
}

/// The query without what names sections (`section:…`, `kind:section`), which the sections'
/// query has chosen its fields by; None when nothing else is left. A query left with only
/// exclusions searches every section (`section:timeline -pool`).
fn without_sections(ast: UserInputAst) -> Option<UserInputAst> {
    fn strip(ast: UserInputAst) -> Option<UserInputAst> {
        match ast {
            UserInputAst::Clause(clauses) => {
                let kept: Vec<_> = clauses
                    .into_iter()
                    .filter_map(|(occur, ast)| strip(ast).map(|ast| (occur, ast)))
                    .collect();
                (!kept.is_empty()).then_some(UserInputAst::Clause(kept))
            }
            UserInputAst::Boost(inner, boost) => {
                strip(*inner).map(|inner| UserInputAst::Boost(Box::new(inner), boost))
            }
            UserInputAst::Leaf(leaf) => {
                let names_sections = match leaf.as_ref() {
                    UserInputLeaf::Set {
                        field: Some(field), ..
                    } => field == "section",
                    leaf => matches!(
                        leaf_field(leaf),
                        Some(("section", _)) | Some(("kind", Some("section")))
                    ),
                };
                (!names_sections).then_some(UserInputAst::Leaf(leaf))
            }
        }
    }
    match strip(ast)? {
        UserInputAst::Clause(mut clauses)
            if clauses
                .iter()
                .all(|(occur, _)| *occur == Some(GrammarOccur::MustNot)) =>
        {
            clauses.push((
                Some(GrammarOccur::Must),
                UserInputAst::Leaf(Box::new(UserInputLeaf::All)),
            ));
            Some(UserInputAst::Clause(clauses))
        }
        UserInputAst::Clause(mut clauses) if clauses.len() == 1 && clauses[0].0.is_none() => {
            clauses.pop().map(|(_, ast)| ast)
        }
        other => Some(other),
    }
}

/// Reads the ranked documents and makes hits of them, with snippets.
pub fn hits(searcher: &Searcher, ranked: Ranked, today: Date) -> Result<Results, SearchError> {
    let Built {
        parts,
        has_words,
        fuzzy,
        fields,
        ..
    } = ranked.built;
    let generator = |query: &BooleanQuery, field: Field| match has_words {
        true => SnippetGenerator::create(searcher, query, field).map(Some),
        false => Ok(None),
    };
    let snippets: Vec<Snippets> = parts
        .iter()
        .map(|part| {
            let generator = generator(&part.query, fields.body)?;
            Ok(match &part.sections {
                None => Snippets::Text(generator),
                Some(asked) => Snippets::Sections {
                    kinds: asked.iter().map(|&i| SECTIONS[i]).collect(),
                    generator,
                },
            })
        })
        .collect::<tantivy::Result<_>>()?;
    let mut hits = Vec::with_capacity(ranked.top.len());
    for top in ranked.top {
        let doc: TantivyDocument = searcher.doc(top.address)?;
        hits.push(hit(&fields, &doc, top.score, &snippets[top.part], today));
    }
    Ok(Results {
        total: ranked.total,
        hits,
        fuzzy,
        facets: ranked.facets,
    })
}

/// The fields that hold every document's words (sections' words are their report's `body`),
/// whose dictionaries a request looks its words up in.
pub fn text_fields(fields: &Fields) -> Vec<Field> {
    vec![fields.title, fields.body, fields.category]
}

/// Where a query's words are looked for.
#[derive(Clone, Copy)]
enum Searched {
    /// The text fields: [`text_fields`].
    Text,
    /// The `body` of reports, inside their sections of these kinds (a bit per index into
    /// [`SECTIONS`]).
    Sections(u32),
}

fn parser(index: &Index, fields: &Fields, searched: &[Field]) -> QueryParser {
    let mut parser = QueryParser::for_index(index, searched.to_vec());
    parser.set_field_boost(fields.title, 2.0);
    parser
}

/// The user's query as tantivy builds it, except that a word found in no document is looked
/// for with one or two typos (`conection` finds `connection`), and listed in `fuzzy`, its
/// terms in `approximate`. Over sections, its words are looked for by [`within_sections`].
fn build_query(
    searcher: &Searcher,
    fields: &Fields,
    ast: UserInputAst,
    searched: Searched,
    (fuzzy, approximate): (&mut Vec<String>, &mut Vec<Approximate>),
) -> Result<Box<dyn Query>, SearchError> {
    let index = searcher.index();
    let searched_fields = match searched {
        Searched::Text => text_fields(fields),
        Searched::Sections(_) => vec![fields.body],
    };
    let exact = parser(index, fields, &searched_fields);
    let clauses = match ast {
        UserInputAst::Clause(clauses) => clauses,
        single => vec![(None, single)],
    };
    let unknown: Vec<Option<Unknown>> = clauses
        .iter()
        .map(|(occur, ast)| match occur {
            Some(GrammarOccur::MustNot) => Ok(None),
            _ => unknown_word(searcher, fields, ast),
        })
        .collect::<Result<_, _>>()?;
    if matches!(searched, Searched::Text) && unknown.iter().all(Option::is_none) {
        return exact
            .build_query_from_user_input_ast(UserInputAst::Clause(clauses))
            .map_err(query_error);
    }
    let mut built: Vec<(Occur, Box<dyn Query>)> = Vec::with_capacity(clauses.len());
    for ((occur, ast), unknown) in clauses.into_iter().zip(unknown) {
        let query = match (unknown, searched) {
            (Some(Unknown { word, stem }), _) => {
                let distance = if word.chars().count() > 6 { 2 } else { 1 };
                approximate.push(Approximate {
                    stem: stem.clone(),
                    distance,
                    fields: searched_fields.clone(),
                });
                fuzzy.push(word);
                match searched {
                    Searched::Sections(kinds) => {
                        let field = fields.body;
                        let words = Words::Typo {
                            field,
                            word: stem,
                            distance,
                        };
                        Box::new(InSections::new(words, kinds))
                    }
                    Searched::Text => {
                        let mut typos = parser(index, fields, &searched_fields);
                        for &field in &searched_fields {
                            typos.set_field_fuzzy(field, false, distance, true);
                        }
                        typos
                            .build_query_from_user_input_ast(ast)
                            .map_err(query_error)?
                    }
                }
            }
            (None, Searched::Text) => exact
                .build_query_from_user_input_ast(ast)
                .map_err(query_error)?,
            (None, Searched::Sections(kinds)) => within_sections(&exact, fields, ast, kinds)?,
        };
        built.push((occur_of(occur), query));
    }
    Ok(Box::new(BooleanQuery::new(built)))
}

fn occur_of(occur: Option<GrammarOccur>) -> Occur {
    match occur {
        Some(GrammarOccur::Must) => Occur::Must,
        Some(GrammarOccur::MustNot) => Occur::MustNot,
        Some(GrammarOccur::Should) | None => Occur::Should,
    }
}

/// The query over sections: the words and phrases of `ast` in the `body` of reports, counted
/// only inside their sections of `kinds` ([`InSections`]); what it asks of other fields
/// (`severity:critical`, `title:pool`) as `parser` builds it.
fn within_sections(
    parser: &QueryParser,
    fields: &Fields,
    ast: UserInputAst,
    kinds: u32,
) -> Result<Box<dyn Query>, SearchError> {
    let leaf = match ast {
        UserInputAst::Clause(clauses) => {
            let clauses = clauses
                .into_iter()
                .map(|(occur, ast)| {
                    Ok((
                        occur_of(occur),
                        within_sections(parser, fields, ast, kinds)?,
                    ))
                })
                .collect::<Result<_, SearchError>>()?;
            return Ok(Box::new(BooleanQuery::new(clauses)));
        }
        UserInputAst::Boost(inner, boost) => {
            let inner = within_sections(parser, fields, *inner, kinds)?;
            return Ok(Box::new(BoostQuery::new(inner, boost.0 as Score)));
        }
        UserInputAst::Leaf(leaf) => *leaf,
    };
    let in_body = leaf_field(&leaf).is_none_or(|(field, _)| field == "body");
    match leaf {
        UserInputLeaf::Literal(literal) if in_body && !literal.prefix => {
            let mut terms: Vec<(usize, Term)> = terms(&literal.phrase)
                .into_iter()
                .map(|(position, text)| (position, Term::from_field_text(fields.body, &text)))
                .collect();
            let first = terms.first().map_or(0, |(position, _)| *position);
            let words = match terms.len() {
                0 => return Ok(Box::new(EmptyQuery)),
                1 => Words::Term(terms.remove(0).1),
                _ => Words::Phrase {
                    terms: terms.into_iter().map(|(p, t)| (p - first, t)).collect(),
                    slop: literal.slop,
                },
            };
            Ok(Box::new(InSections::new(words, kinds)))
        }
        UserInputLeaf::All | UserInputLeaf::Exists { .. } if in_body => Ok(Box::new(AllQuery)),
        _ if in_body => Err(SearchError::Query {
            message: "the query is not valid: phrase prefixes (`\"connection po\"*`), ranges, \
                sets and regular expressions of words cannot be limited to sections"
                .to_string(),
            help: "in a `section:` query, search for words and \"phrases\"".to_string(),
        }),
        leaf => parser
            .build_query_from_user_input_ast(UserInputAst::Leaf(Box::new(leaf)))
            .map_err(query_error),
    }
}

/// A bare word (no field, no quotes, not a prefix) whose stem no document has in its text.
fn unknown_word(
    searcher: &Searcher,
    fields: &Fields,
    ast: &UserInputAst,
) -> Result<Option<Unknown>, SearchError> {
    let UserInputAst::Leaf(leaf) = ast else {
        return Ok(None);
    };
    let UserInputLeaf::Literal(literal) = leaf.as_ref() else {
        return Ok(None);
    };
    if literal.field_name.is_some() || literal.prefix || literal.delimiter != Delimiter::None {
        return Ok(None);
    }
    let Some(stem) = stem(&literal.phrase) else {
        return Ok(None);
    };
    // Words of a few letters have too many neighbours one typo away.
    if stem.chars().count() < 4 {
        return Ok(None);
    }
    for field in text_fields(fields) {
        if searcher.doc_freq(&Term::from_field_text(field, &stem))? > 0 {
            return Ok(None);
        }
    }
    Ok(Some(Unknown {
        word: literal.phrase.clone(),
        stem,
    }))
}

/// A word of the query that no document has: as written, and as indexed.
struct Unknown {
    word: String,
    stem: String,
}

/// The one term that `word` is indexed as, if it is one.
fn stem(word: &str) -> Option<String> {
    match <[(usize, String); 1]>::try_from(terms(word)) {
        Ok([(_, stem)]) => Some(stem),
        Err(_) => None,
    }
}

/// The terms that `text` is indexed as, with their positions.
fn terms(text: &str) -> Vec<(usize, String)> {
    let mut analyzer = crate::analyzer::analyzer();
    let mut stream = analyzer.token_stream(text);
    let mut terms = Vec::new();
    while stream.advance() {
        let token = stream.token();
        terms.push((token.position, token.text.clone()));
    }
    terms
}

/// The user's query and the filters, all required, over reports, lessons and actions (or the
/// kinds asked for).
fn combine(
    fields: &Fields,
    request: &Request,
    kinds: &[Kind],
    user: Option<Box<dyn Query>>,
) -> BooleanQuery {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    clauses.push((Occur::Must, user.unwrap_or_else(|| Box::new(AllQuery))));
    let mut kinds: Vec<String> = kinds.iter().map(|k| k.name().to_string()).collect();
    if request.open {
        kinds = vec![Kind::Action.name().to_string()];
        clauses.push((Occur::Must, term(fields.state, "open")));
    }
    if let Some(q) = any_of(fields.kind, &kinds) {
        clauses.push((Occur::Must, q));
    }
    clauses.extend(filters(fields, request));
    BooleanQuery::new(clauses)
}

/// The request's filters, all required: severity, service, tag, team and dates.
fn filters(fields: &Fields, request: &Request) -> Vec<(Occur, Box<dyn Query>)> {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for (field, values) in [
        (fields.severity, &request.severities),
        (fields.service, &request.services),
        (fields.tag, &request.tags),
        (fields.team, &request.teams),
    ] {
        if let Some(q) = any_of(field, values) {
            clauses.push((Occur::Must, q));
        }
    }
    if request.since.is_some() || request.until.is_some() {
        let bound = |date: Option<Date>| match date {
            Some(d) => Bound::Included(Term::from_field_date(fields.date, day(d))),
            None => Bound::Unbounded,
        };
        clauses.push((
            Occur::Must,
            Box::new(RangeQuery::new(bound(request.since), bound(request.until))),
        ));
    }
    clauses
}

fn term(field: Field, value: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, value),
        IndexRecordOption::Basic,
    ))
}

/// Any of the values (a flag given several times), or nothing when there are none.
fn any_of(field: Field, values: &[String]) -> Option<Box<dyn Query>> {
    match values {
        [] => None,
        [one] => Some(term(field, one)),
        many => Some(Box::new(BooleanQuery::new(
            many.iter()
                .map(|v| (Occur::Should, term(field, v)))
                .collect(),
        ))),
    }
}

/// The field of a query leaf, and its word for a single term.
fn leaf_field(leaf: &UserInputLeaf) -> Option<(&str, Option<&str>)> {
    match leaf {
        UserInputLeaf::Literal(literal) => literal
            .field_name
            .as_deref()
            .map(|f| (f, Some(literal.phrase.as_str()))),
        UserInputLeaf::Range { field, .. }
        | UserInputLeaf::Set { field, .. }
        | UserInputLeaf::Regex { field, .. } => field.as_deref().map(|f| (f, None)),
        UserInputLeaf::Exists { field } => Some((field.as_str(), None)),
        UserInputLeaf::All => None,
    }
}

fn is_exact_filter(ast: &UserInputAst) -> bool {
    match ast {
        UserInputAst::Leaf(leaf) => {
            leaf_field(leaf).is_some_and(|(field, _)| EXACT_FIELDS.contains(&field))
        }
        _ => false,
    }
}

/// `severity:critical pool` means critical reports about pools, not "either": with OR as the
/// default operator a bare `field:value` on an exact field would only add to the score.
/// Such clauses at the top level become required, unless they are joined with AND or OR
/// (which give them an operator of their own) or carry `+` or `-` already.
pub fn require_filters(ast: UserInputAst) -> UserInputAst {
    match ast {
        UserInputAst::Clause(clauses) => UserInputAst::Clause(
            clauses
                .into_iter()
                .map(|(occur, a)| match occur {
                    None if is_exact_filter(&a) => (Some(GrammarOccur::Must), a),
                    _ => (occur, a),
                })
                .collect(),
        ),
        single if is_exact_filter(&single) => {
            UserInputAst::Clause(vec![(Some(GrammarOccur::Must), single)])
        }
        other => other,
    }
}

fn query_error(e: tantivy::query::QueryParserError) -> SearchError {
    use tantivy::query::QueryParserError as E;
    let help = match &e {
        E::FieldDoesNotExist(_) => format!(
            "fields are {}, title, body, category, date and due",
            EXACT_FIELDS.join(", ")
        ),
        E::AllButQueryForbidden => {
            "add a word to search for: `-word` only excludes, e.g. `pool -redis`".to_string()
        }
        E::FieldNotIndexed(_) => "search the text fields (title, body, category) or the exact fields".to_string(),
        _ => "use words, \"a phrase\", +required, -excluded, field:value or (a OR b); quote special characters".to_string(),
    };
    SearchError::Query {
        message: format!("the query is not valid: {e}"),
        help,
    }
}

fn strings(doc: &TantivyDocument, field: Field) -> Vec<String> {
    doc.get_all(field)
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

fn string(doc: &TantivyDocument, field: Field) -> Option<String> {
    doc.get_first(field)
        .and_then(|v| v.as_str().map(str::to_string))
}

fn hit(
    fields: &Fields,
    doc: &TantivyDocument,
    score: f32,
    snippets: &Snippets,
    today: Date,
) -> Hit {
    let kind = string(doc, fields.kind)
        .and_then(|k| Kind::from_name(&k))
        .unwrap_or(Kind::Report);
    let text = string(doc, fields.text).unwrap_or_default();
    let url = string(doc, fields.url).unwrap_or_default();
    let date = doc
        .get_first(fields.date)
        .and_then(|v| v.as_datetime())
        .and_then(date_of);
    let due = doc
        .get_first(fields.due)
        .and_then(|v| v.as_datetime())
        .and_then(date_of);
    let state = string(doc, fields.state);
    let mut hit = Hit {
        kind: kind.name(),
        score,
        report_id: string(doc, fields.report).unwrap_or_default(),
        report_title: string(doc, fields.report_title).unwrap_or_default(),
        // Lessons and actions have only their text.
        title: string(doc, fields.title).unwrap_or_else(|| text.clone()),
        url,
        date: date.map(day_text),
        severity: string(doc, fields.severity).unwrap_or_default(),
        services: strings(doc, fields.service),
        tags: strings(doc, fields.tag),
        teams: strings(doc, fields.team),
        status: string(doc, fields.status).unwrap_or_default(),
        response: string(doc, fields.response),
        snippet: String::new(),
        snippet_html: String::new(),
        highlights: Vec::new(),
        detail: match kind {
            Kind::Report | Kind::Section => Detail::Report {},
            Kind::Lesson => Detail::Lesson {
                category: string(doc, fields.category),
            },
            Kind::Action => Detail::Action {
                owner: string(doc, fields.owner),
                due: due.map(day_text),
                overdue: state.as_deref() == Some("open") && due.is_some_and(|d| d < today),
                state,
                ticket: string(doc, fields.ticket),
                action_type: string(doc, fields.action_type),
            },
        },
    };
    let snippet = match snippets {
        Snippets::Text(generator) => generator
            .as_ref()
            .and_then(|g| snippet(g, &text))
            .unwrap_or_else(|| lead(&text)),
        Snippets::Sections { kinds, generator } => {
            let asked: Vec<SectionSpan> = doc
                .get_all(fields.section_spans)
                .filter_map(|v| v.as_str().and_then(SectionSpan::from_stored))
                .filter(|span| text.get(span.range.clone()).is_some())
                .filter(|span| kinds.contains(&span.kind.as_str()))
                .collect();
            // The first section of the kinds asked for that has the query's words, else the
            // first of those kinds.
            let best = asked
                .iter()
                .find_map(|span| {
                    let snippet = snippet(generator.as_ref()?, &text[span.range.clone()])?;
                    Some((span, snippet))
                })
                .or_else(|| {
                    let span = asked.first()?;
                    Some((span, lead(&text[span.range.clone()])))
                });
            hit.kind = Kind::Section.name();
            match best {
                Some((span, snippet)) => {
                    hit.title = span.title.clone();
                    hit.url = format!("{}#{}", hit.url, span.anchor);
                    hit.detail = Detail::Section {
                        section: Some(span.kind.clone()),
                    };
                    snippet
                }
                None => {
                    hit.detail = Detail::Section { section: None };
                    lead(&text)
                }
            }
        }
    };
    (hit.snippet, hit.highlights, hit.snippet_html) = snippet;
    hit
}

/// The snippet maker of a query with words, and for sections the kinds asked for.
enum Snippets {
    Text(Option<SnippetGenerator>),
    Sections {
        kinds: Vec<&'static str>,
        generator: Option<SnippetGenerator>,
    },
}

/// The part of `text` with the query's words, highlighted; None if it has none of them.
fn snippet(
    generator: &SnippetGenerator,
    text: &str,
) -> Option<(String, Vec<Range<usize>>, String)> {
    let mut snippet = generator.snippet(text);
    if snippet.is_empty() {
        return None;
    }
    snippet.set_snippet_prefix_postfix("<b>", "</b>");
    let html = snippet.to_html();
    Some((
        snippet.fragment().to_string(),
        snippet.highlighted().to_vec(),
        html,
    ))
}

/// The start of a text as a snippet, when no word of the query is in it.
fn lead(body: &str) -> (String, Vec<Range<usize>>, String) {
    let mut end = body.len().min(SNIPPET_CHARS);
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    let text = body[..end].replace('\n', " ");
    let html = html_escape(&text);
    (text, Vec::new(), html)
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn require_filters(text: &str) -> UserInputAst {
        super::require_filters(query_grammar::parse_query(text).expect("valid"))
    }

    /// The query as tantivy parses it, to compare with a rewritten one.
    fn parsed(text: &str) -> UserInputAst {
        query_grammar::parse_query(text).expect("valid")
    }

    /// The kinds of section a query asks for, by name.
    fn asked(text: &str, kinds: &[Kind]) -> Option<Vec<&'static str>> {
        let request = Request {
            kinds: kinds.to_vec(),
            ..Request::default()
        };
        asked_sections(&request, Some(&parsed(text)))
            .expect("known kinds")
            .map(|asked| asked.into_iter().map(|i| SECTIONS[i]).collect())
    }

    #[test]
    fn exact_field_clauses_become_required() {
        assert_eq!(
            require_filters("severity:critical pool"),
            parsed("+severity:critical pool")
        );
        assert_eq!(
            require_filters("+tag:x -service:y"),
            parsed("+tag:x -service:y")
        );
        assert_eq!(
            require_filters("service:a OR service:b pool"),
            parsed("service:a OR service:b pool")
        );
        assert_eq!(
            require_filters("(service:a pool) \"tag:x\""),
            parsed("(service:a pool) \"tag:x\"")
        );
        assert_eq!(require_filters("title:pool"), parsed("title:pool"));
    }

    #[test]
    fn the_kinds_of_section_asked_for_are_found() {
        assert_eq!(asked("sections pool", &[]), None);
        assert_eq!(asked("pool", &[Kind::Lesson]), None);
        assert_eq!(
            asked("+section:root_cause pool", &[]),
            Some(vec!["root_cause"])
        );
        assert_eq!(
            asked("(section:trigger OR section:root_cause) pool", &[]),
            Some(vec!["trigger", "root_cause"])
        );
        let all_but_timeline: Vec<&str> =
            SECTIONS.into_iter().filter(|k| *k != "timeline").collect();
        assert_eq!(asked("-section:timeline pool", &[]), Some(all_but_timeline));
        assert_eq!(asked("kind:section pool", &[]), Some(SECTIONS.to_vec()));
        assert_eq!(asked("pool", &[Kind::Section]), Some(SECTIONS.to_vec()));
        assert_eq!(asked("-kind:section pool", &[]), None);
        let open = Request {
            open: true,
            ..Request::default()
        };
        let ast = parsed("section:root_cause pool");
        assert_eq!(asked_sections(&open, Some(&ast)).ok(), Some(None));
        let unknown = asked_sections(&Request::default(), Some(&parsed("section:rootcause")));
        assert!(
            matches!(&unknown, Err(SearchError::Query { help, .. }) if help.contains("root_cause")),
            "an unknown kind of section is the user's to fix"
        );
    }

    #[test]
    fn what_names_sections_leaves_the_query() {
        let stripped = |text: &str| without_sections(require_filters(text));
        assert_eq!(stripped("section:root_cause pool"), Some(parsed("pool")));
        assert_eq!(
            stripped("kind:section \"replica lag\" -redis"),
            Some(parsed("\"replica lag\" -redis"))
        );
        assert_eq!(stripped("section:root_cause"), None);
        assert_eq!(
            format!("{:?}", stripped("(section:a OR section:b) +pool")),
            "Some((+pool))"
        );
        // Exclusions alone exclude from every section of the kinds asked for.
        assert_eq!(stripped("section:timeline -pool"), Some(parsed("-pool +*")));
    }
}
