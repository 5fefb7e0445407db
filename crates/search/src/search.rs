//! Queries the index: tantivy's query language with OR as the default operator and BM25
//! ranking, plus filters, and hits ready to print with a highlighted snippet.

use std::ops::{Bound, Range};

use jiff::civil::Date;
use serde::Serialize;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, Occur, Query, QueryParser, QueryParserError, RangeQuery, TermQuery,
};
use tantivy::query_grammar::{self, Delimiter, Occur as GrammarOccur, UserInputAst, UserInputLeaf};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::{DateTime, DocAddress, Index, Order, Searcher, TantivyDocument, Term};

use crate::facets::FacetCounter;

use crate::schema::{EXACT_FIELDS, Fields, Kind, date_of, day, day_text};

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
    pub addresses: Vec<(f32, DocAddress)>,
    pub total: usize,
    pub facets: Option<Facets>,
}

pub fn search(searcher: &Searcher, request: &Request, today: Date) -> Result<Results, SearchError> {
    let ranked = rank(searcher, request)?;
    hits(searcher, ranked, today)
}

/// The request as one tantivy query, with the words matched approximately.
pub struct Built {
    pub query: BooleanQuery,
    /// Whether the query has words, and so scores and snippets.
    pub has_words: bool,
    /// Whether section documents (and their text) are searched.
    sections: bool,
    pub fuzzy: Vec<String>,
    fields: Fields,
}

/// Runs the query: which documents match, how many, and the top ones in order.
pub fn rank(searcher: &Searcher, request: &Request) -> Result<Ranked, SearchError> {
    rank_built(searcher, request, build(searcher, request)?)
}

/// [`rank`] with the query already built.
pub fn rank_built(
    searcher: &Searcher,
    request: &Request,
    built: Built,
) -> Result<Ranked, SearchError> {
    let query = &built.query;
    let limit = request.limit.max(1);
    let facet_counter = request.facets.then_some(FacetCounter);
    let (addresses, total, facets) = if built.has_words && request.sort == Sort::Relevance {
        searcher.search(
            query,
            &(
                TopDocs::with_limit(limit).order_by_score(),
                Count,
                facet_counter,
            ),
        )?
    } else {
        let (top, count, facets) = searcher.search(
            query,
            &(
                TopDocs::with_limit(limit).order_by_fast_field::<DateTime>("date", Order::Desc),
                Count,
                facet_counter,
            ),
        )?;
        (
            top.into_iter().map(|(_, a)| (0.0, a)).collect(),
            count,
            facets,
        )
    };
    Ok(Ranked {
        built,
        addresses,
        total,
        facets,
    })
}

/// Builds the request's query: the user's words and filters, and the request's filters.
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
    let sections = asks_for_sections(request, ast.as_ref());
    let mut fuzzy = Vec::new();
    let user_query: Option<Box<dyn Query>> = match ast {
        None => None,
        Some(ast) => Some(build_query(searcher, &fields, ast, sections, &mut fuzzy)?),
    };
    let query = combine(&fields, request, user_query.as_deref(), sections);
    Ok(Built {
        query,
        has_words: user_query.is_some(),
        sections,
        fuzzy,
        fields,
    })
}

/// Whether the request searches section documents: `--kind section`, or `section:…` or
/// `kind:section` in the query (not with `--open`, which asks for actions only). Their text
/// is then searched too.
pub fn searches_sections(request: &Request) -> bool {
    let ast = query_grammar::parse_query(&request.text).ok();
    asks_for_sections(request, ast.as_ref())
}

fn asks_for_sections(request: &Request, ast: Option<&UserInputAst>) -> bool {
    !request.open && (request.kinds.contains(&Kind::Section) || ast.is_some_and(names_sections))
}

/// Reads the ranked documents and makes hits of them, with snippets.
pub fn hits(searcher: &Searcher, ranked: Ranked, today: Date) -> Result<Results, SearchError> {
    let Built {
        query,
        has_words,
        sections,
        fuzzy,
        fields,
    } = ranked.built;
    let generator = |field: Field, wanted: bool| match has_words && wanted {
        true => SnippetGenerator::create(searcher, &query, field).map(Some),
        false => Ok(None),
    };
    let snippets = Snippets {
        body: generator(fields.body, true)?,
        sections: generator(fields.section_body, sections)?,
    };
    let mut hits = Vec::with_capacity(ranked.addresses.len());
    for (score, address) in ranked.addresses {
        let doc: TantivyDocument = searcher.doc(address)?;
        hits.push(hit(&fields, &doc, score, &snippets, today));
    }
    Ok(Results {
        total: ranked.total,
        hits,
        fuzzy,
        facets: ranked.facets,
    })
}

/// The fields that hold every document's words (sections' words are also in their report's).
fn text_fields(fields: &Fields) -> [Field; 3] {
    [fields.title, fields.body, fields.category]
}

/// The fields that words without a field name are looked for in: [`text_fields`], and
/// sections' text when the request searches sections.
pub fn searched_fields(fields: &Fields, sections: bool) -> Vec<Field> {
    let mut searched = text_fields(fields).to_vec();
    if sections {
        searched.push(fields.section_body);
    }
    searched
}

fn parser(index: &Index, fields: &Fields, sections: bool) -> QueryParser {
    let mut parser = QueryParser::for_index(index, searched_fields(fields, sections));
    parser.set_field_boost(fields.title, 2.0);
    parser
}

/// The user's query as tantivy builds it, except that a word found in no document is looked
/// for with one or two typos (`conection` finds `connection`), and listed in `fuzzy`.
fn build_query(
    searcher: &Searcher,
    fields: &Fields,
    ast: UserInputAst,
    sections: bool,
    fuzzy: &mut Vec<String>,
) -> Result<Box<dyn Query>, SearchError> {
    let index = searcher.index();
    let exact = parser(index, fields, sections);
    let clauses = match ast {
        UserInputAst::Clause(clauses) => clauses,
        single => vec![(None, single)],
    };
    let unknown: Vec<bool> = clauses
        .iter()
        .map(|(occur, ast)| match occur {
            Some(GrammarOccur::MustNot) => Ok(false),
            _ => is_unknown_word(searcher, fields, ast),
        })
        .collect::<Result<_, _>>()?;
    if !unknown.contains(&true) {
        return exact
            .build_query_from_user_input_ast(UserInputAst::Clause(clauses))
            .map_err(query_error);
    }
    let mut approximate = parser(index, fields, sections);
    let mut long_words = parser(index, fields, sections);
    for field in searched_fields(fields, sections) {
        approximate.set_field_fuzzy(field, false, 1, true);
        long_words.set_field_fuzzy(field, false, 2, true);
    }
    let mut built: Vec<(Occur, Box<dyn Query>)> = Vec::with_capacity(clauses.len());
    for ((occur, ast), unknown) in clauses.into_iter().zip(unknown) {
        let query = if unknown {
            let word = match &ast {
                UserInputAst::Leaf(leaf) => match leaf.as_ref() {
                    UserInputLeaf::Literal(literal) => literal.phrase.clone(),
                    _ => String::new(),
                },
                _ => String::new(),
            };
            let parser = if word.chars().count() > 6 {
                &long_words
            } else {
                &approximate
            };
            fuzzy.push(word);
            parser.build_query_from_user_input_ast(ast)
        } else {
            exact.build_query_from_user_input_ast(ast)
        }
        .map_err(query_error)?;
        let occur = match occur {
            Some(GrammarOccur::Must) => Occur::Must,
            Some(GrammarOccur::MustNot) => Occur::MustNot,
            Some(GrammarOccur::Should) | None => Occur::Should,
        };
        built.push((occur, query));
    }
    Ok(Box::new(BooleanQuery::new(built)))
}

/// A bare word (no field, no quotes, not a prefix) whose stem no document has in its text.
fn is_unknown_word(
    searcher: &Searcher,
    fields: &Fields,
    ast: &UserInputAst,
) -> Result<bool, SearchError> {
    let UserInputAst::Leaf(leaf) = ast else {
        return Ok(false);
    };
    let UserInputLeaf::Literal(literal) = leaf.as_ref() else {
        return Ok(false);
    };
    if literal.field_name.is_some() || literal.prefix || literal.delimiter != Delimiter::None {
        return Ok(false);
    }
    let mut analyzer = crate::analyzer::analyzer();
    let mut stream = analyzer.token_stream(&literal.phrase);
    let mut stems = Vec::new();
    while stream.advance() {
        stems.push(stream.token().text.clone());
    }
    let [stem] = stems.as_slice() else {
        return Ok(false);
    };
    // Words of a few letters have too many neighbours one typo away.
    if stem.chars().count() < 4 {
        return Ok(false);
    }
    for field in text_fields(fields) {
        if searcher.doc_freq(&Term::from_field_text(field, stem))? > 0 {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The user's query and the filters, all required; section documents only when asked for.
fn combine(
    fields: &Fields,
    request: &Request,
    user: Option<&dyn Query>,
    sections: bool,
) -> BooleanQuery {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    match user {
        Some(q) => clauses.push((Occur::Must, q.box_clone())),
        None => clauses.push((Occur::Must, Box::new(AllQuery))),
    }
    let mut kinds: Vec<&str> = request.kinds.iter().map(|k| k.name()).collect();
    if request.open {
        kinds = vec![Kind::Action.name()];
        clauses.push((Occur::Must, term(fields.state, "open")));
    }
    if !sections {
        clauses.push((Occur::MustNot, term(fields.kind, Kind::Section.name())));
    }
    for (field, values) in [
        (fields.kind, kinds.iter().map(|s| s.to_string()).collect()),
        (fields.severity, request.severities.clone()),
        (fields.service, request.services.clone()),
        (fields.tag, request.tags.clone()),
        (fields.team, request.teams.clone()),
    ] {
        if let Some(q) = any_of(field, &values) {
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
    BooleanQuery::new(clauses)
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

/// Whether the query asks for section documents: `section:…` or `kind:section` anywhere.
fn names_sections(ast: &UserInputAst) -> bool {
    match ast {
        UserInputAst::Clause(clauses) => clauses.iter().any(|(_, a)| names_sections(a)),
        UserInputAst::Boost(inner, _) => names_sections(inner),
        UserInputAst::Leaf(leaf) => matches!(
            leaf_field(leaf),
            Some(("section", _)) | Some(("kind", Some("section")))
        ),
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
    let body = string(doc, fields.text).unwrap_or_default();
    let generator = match kind {
        Kind::Section => snippets.sections.as_ref(),
        _ => snippets.body.as_ref(),
    };
    let (snippet, highlights, snippet_html) = match generator {
        Some(generator) => {
            let mut generator_snippet = generator.snippet(&body);
            if generator_snippet.is_empty() {
                lead(&body)
            } else {
                generator_snippet.set_snippet_prefix_postfix("<b>", "</b>");
                let html = generator_snippet.to_html();
                let fragment = generator_snippet.fragment().to_string();
                let ranges = generator_snippet.highlighted().to_vec();
                (fragment, ranges, html)
            }
        }
        None => lead(&body),
    };
    let date = doc
        .get_first(fields.date)
        .and_then(|v| v.as_datetime())
        .and_then(date_of);
    let due = doc
        .get_first(fields.due)
        .and_then(|v| v.as_datetime())
        .and_then(date_of);
    let state = string(doc, fields.state);
    Hit {
        kind: kind.name(),
        score,
        report_id: string(doc, fields.report).unwrap_or_default(),
        report_title: string(doc, fields.report_title).unwrap_or_default(),
        // Lessons and actions have only their text.
        title: string(doc, fields.title).unwrap_or_else(|| body.clone()),
        url: string(doc, fields.url).unwrap_or_default(),
        date: date.map(day_text),
        severity: string(doc, fields.severity).unwrap_or_default(),
        services: strings(doc, fields.service),
        tags: strings(doc, fields.tag),
        teams: strings(doc, fields.team),
        status: string(doc, fields.status).unwrap_or_default(),
        response: string(doc, fields.response),
        snippet,
        snippet_html,
        highlights,
        detail: match kind {
            Kind::Report => Detail::Report {},
            Kind::Section => Detail::Section {
                section: string(doc, fields.section),
            },
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
    }
}

/// Snippet makers for a query with words: sections' words are in a field of their own.
struct Snippets {
    body: Option<SnippetGenerator>,
    sections: Option<SnippetGenerator>,
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

    fn mentions_field(text: &str, field: &str) -> bool {
        assert_eq!(field, "section");
        names_sections(&parsed(text))
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
    fn field_mentions_are_found() {
        assert!(mentions_field("+section:root_cause pool", "section"));
        assert!(!mentions_field("sections pool", "section"));
    }
}
