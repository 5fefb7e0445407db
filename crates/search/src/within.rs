//! Words looked for inside some kinds of section of reports (`section:root_cause pool`).
//!
//! A report's sections are not indexed a second time. Its document keeps where each section
//! lies among the positions of its `body` (`section_positions`, see
//! [`crate::schema::section_value`]), and these queries read the `body` postings with their
//! positions and count only the occurrences inside the sections asked for. A report with a
//! word twice in its root cause and nowhere else in a section is then a root cause hit with a
//! term frequency of 2, as if its root cause were a field of its own.

use std::ops::Range;

use tantivy::fieldnorm::FieldNormReader;
use tantivy::postings::{Postings, SegmentPostings};
use tantivy::query::{
    AutomatonWeight, Bm25Weight, EnableScoring, Explanation, Query, Scorer, Weight,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, DocSet, Score, SegmentReader, TERMINATED, TantivyError, Term};

use crate::schema::{SECTION_POSITIONS, section_of_value};
use crate::typo::Levenshtein;

/// What is looked for, all in one text field (`body`).
#[derive(Clone)]
pub enum Words {
    /// A word, as indexed.
    Term(Term),
    /// Words at these positions from the first; with a slop, each may be that many positions
    /// off its place.
    Phrase {
        terms: Vec<(usize, Term)>,
        slop: u32,
    },
    /// Any word of `field`'s dictionary at most `distance` typos from `word` (as indexed).
    /// Scored 1, as tantivy scores the words a fuzzy query finds.
    Typo {
        field: Field,
        word: String,
        distance: u8,
    },
}

impl Words {
    fn field(&self) -> Option<Field> {
        match self {
            Words::Term(term) => Some(term.field()),
            Words::Phrase { terms, .. } => terms.first().map(|(_, term)| term.field()),
            Words::Typo { field, .. } => Some(*field),
        }
    }
}

/// [`Words`] inside a report's sections of the kinds in `kinds` (a bit per index into
/// [`crate::schema::SECTIONS`]).
#[derive(Clone)]
pub struct InSections {
    words: Words,
    kinds: u32,
}

/// Only the name: the engine in the browser has no use for more, and each word costs it bytes.
impl std::fmt::Debug for InSections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InSections")
    }
}

impl InSections {
    pub fn new(words: Words, kinds: u32) -> InSections {
        InSections { words, kinds }
    }
}

impl Query for InSections {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let bm25 = match (scoring, &self.words) {
            (
                EnableScoring::Enabled {
                    statistics_provider,
                    ..
                },
                Words::Term(term),
            ) => Some(Bm25Weight::for_terms(
                statistics_provider,
                std::slice::from_ref(term),
            )?),
            (
                EnableScoring::Enabled {
                    statistics_provider,
                    ..
                },
                Words::Phrase { terms, .. },
            ) => {
                let terms: Vec<Term> = terms.iter().map(|(_, t)| t.clone()).collect();
                Some(Bm25Weight::for_terms(statistics_provider, &terms)?)
            }
            _ => None,
        };
        Ok(Box::new(InSectionsWeight {
            words: self.words.clone(),
            kinds: self.kinds,
            bm25,
        }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        match &self.words {
            Words::Term(term) => visitor(term, true),
            Words::Phrase { terms, .. } => terms.iter().for_each(|(_, t)| visitor(t, true)),
            Words::Typo { .. } => {}
        }
    }
}

struct InSectionsWeight {
    words: Words,
    kinds: u32,
    /// None when scoring is off, and for typos (scored 1).
    bm25: Option<Bm25Weight>,
}

impl Weight for InSectionsWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        Ok(Box::new(self.matches(reader, boost)?))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut matches = self.matches(reader, 1.0)?;
        if matches.seek(doc) != doc {
            return Err(TantivyError::InvalidArgument(
                "the document does not match".into(),
            ));
        }
        Ok(Explanation::new("words inside sections", matches.score()))
    }
}

impl InSectionsWeight {
    /// Every document of the segment that matches, with its score: the few thousand report
    /// documents of a word are read once, in order.
    fn matches(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Matches> {
        let Some(field) = self.words.field() else {
            return Ok(Matches::default());
        };
        let inverted = reader.inverted_index(field)?;
        let places = reader.fast_fields().u64(SECTION_POSITIONS)?;
        let sections = |doc: DocId| -> Vec<Range<u32>> {
            let asked = places
                .values_for_doc(doc)
                .map(section_of_value)
                .filter(|(kind, _)| self.kinds & (1 << kind) != 0)
                .map(|(_, range)| range);
            union(asked.collect())
        };
        let option = IndexRecordOption::WithFreqsAndPositions;
        // By document: its score, if it matches.
        let mut scores: Vec<Option<Score>> = vec![None; reader.max_doc() as usize];
        if let Words::Phrase { terms, slop } = &self.words {
            let mut postings = Vec::with_capacity(terms.len());
            for (offset, term) in terms {
                match inverted.read_postings(term, option)? {
                    Some(p) => postings.push((*offset as u32, p)),
                    None => return Ok(Matches::default()),
                }
            }
            let mut target = 0;
            while let Some(doc) = next_common(&mut postings, target) {
                let ranges = sections(doc);
                let freq = phrase_freq(&mut postings, *slop, &ranges);
                if freq > 0 {
                    scores[doc as usize] = Some(self.score(&ranges, freq) * boost);
                }
                target = doc + 1;
            }
        } else {
            let infos = match &self.words {
                Words::Typo { word, distance, .. } => {
                    AutomatonWeight::new(field, Levenshtein::new(word, *distance))
                        .get_match_term_infos(reader)?
                }
                Words::Term(term) => inverted.get_term_info(term)?.into_iter().collect(),
                Words::Phrase { .. } => Vec::new(),
            };
            let mut positions = Vec::new();
            for info in infos {
                let mut postings = inverted.read_postings_from_terminfo(&info, option)?;
                while postings.doc() != TERMINATED {
                    let doc = postings.doc();
                    let ranges = sections(doc);
                    positions.clear();
                    if !ranges.is_empty() {
                        postings.positions(&mut positions);
                    }
                    let freq = positions.iter().filter(|&&p| within(&ranges, p)).count();
                    if freq > 0 {
                        // A typo's words are scored 1, whichever of them a document has.
                        scores[doc as usize] = Some(self.score(&ranges, freq as u32) * boost);
                    }
                    postings.advance();
                }
            }
        }
        let docs = (0..).zip(scores).filter_map(|(doc, s)| Some((doc, s?)));
        Ok(Matches {
            docs: docs.collect(),
            at: 0,
        })
    }

    /// BM25 over the asked sections' words: their length is the norm. 1 without BM25 weights
    /// (scoring off, or words with a typo).
    fn score(&self, ranges: &[Range<u32>], freq: u32) -> Score {
        let Some(bm25) = &self.bm25 else {
            return 1.0;
        };
        let length: u32 = ranges.iter().map(|r| r.end - r.start).sum();
        bm25.score(fieldnorm_id(length), freq)
    }
}

/// The next document at or after `target` that every posting list has, with each list on it.
fn next_common(postings: &mut [(u32, SegmentPostings)], mut target: DocId) -> Option<DocId> {
    'again: loop {
        for (_, p) in postings.iter_mut() {
            let doc = if p.doc() < target {
                p.seek(target)
            } else {
                p.doc()
            };
            if doc == TERMINATED {
                return None;
            }
            if doc > target {
                target = doc;
                continue 'again;
            }
        }
        return Some(target);
    }
}

/// How many times the phrase is inside one of `ranges`, all its words.
fn phrase_freq(postings: &mut [(u32, SegmentPostings)], slop: u32, ranges: &[Range<u32>]) -> u32 {
    // A document without the sections asked for (a lesson, an action) reads no positions.
    if ranges.is_empty() {
        return 0;
    }
    let lists: Vec<(u32, Vec<u32>)> = postings
        .iter_mut()
        .map(|(offset, p)| {
            let mut positions = Vec::new();
            p.positions(&mut positions);
            (*offset, positions)
        })
        .collect();
    let Some(((first_offset, firsts), rest)) = lists.split_first() else {
        return 0;
    };
    let near = |list: &[u32], place: i64| {
        // The first position at or after `place - slop`, and whether it is close enough.
        let from = list.partition_point(|&p| i64::from(p) < place - i64::from(slop));
        list.get(from)
            .filter(|&&p| (i64::from(p) - place).abs() <= i64::from(slop))
            .copied()
    };
    let mut freq = 0;
    for &start in firsts {
        let Some(range) = ranges.iter().find(|r| r.contains(&start)) else {
            continue;
        };
        let base = i64::from(start) - i64::from(*first_offset);
        let all = rest.iter().all(|(offset, list)| {
            near(list, base + i64::from(*offset)).is_some_and(|p| range.contains(&p))
        });
        freq += u32::from(all);
    }
    freq
}

fn within(ranges: &[Range<u32>], position: u32) -> bool {
    ranges.iter().any(|r| r.contains(&position))
}

/// Ranges merged where they overlap (a root cause holds its trigger), in order. Sections that
/// only touch stay apart: a phrase is not found across two.
fn union(mut ranges: Vec<Range<u32>>) -> Vec<Range<u32>> {
    // A report has a few sections, indexed in the order of their headings: sorted by insertion.
    for i in 1..ranges.len() {
        let mut j = i;
        while j > 0 && ranges[j - 1].start > ranges[j].start {
            ranges.swap(j - 1, j);
            j -= 1;
        }
    }
    let mut merged: Vec<Range<u32>> = Vec::with_capacity(ranges.len());
    for range in ranges {
        match merged.last_mut() {
            Some(last) if range.start < last.end => last.end = last.end.max(range.end),
            _ => merged.push(range),
        }
    }
    merged
}

/// The norm code tantivy would store for a field of `length` words: the largest whose length
/// is at most it.
fn fieldnorm_id(length: u32) -> u8 {
    let (mut low, mut high) = (0u16, 255u16);
    while low < high {
        let mid = (low + high).div_ceil(2);
        if FieldNormReader::id_to_fieldnorm(mid as u8) <= length {
            low = mid;
        } else {
            high = mid - 1;
        }
    }
    low as u8
}

/// The matching documents of a segment, in order, with their scores.
#[derive(Default)]
struct Matches {
    docs: Vec<(DocId, Score)>,
    at: usize,
}

impl DocSet for Matches {
    fn advance(&mut self) -> DocId {
        self.at = (self.at + 1).min(self.docs.len());
        self.doc()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        self.at += self.docs[self.at..].partition_point(|&(doc, _)| doc < target);
        self.doc()
    }

    fn doc(&self) -> DocId {
        self.docs.get(self.at).map_or(TERMINATED, |&(doc, _)| doc)
    }

    fn size_hint(&self) -> u32 {
        (self.docs.len() - self.at) as u32
    }
}

impl Scorer for Matches {
    fn score(&mut self) -> Score {
        self.docs.get(self.at).map_or(0.0, |&(_, score)| score)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_sections_are_counted_once() {
        assert_eq!(
            union(vec![10..20, 0..5, 12..15, 18..30]),
            vec![0..5, 10..30]
        );
        assert_eq!(union(vec![5..9, 0..5]), vec![0..5, 5..9]);
        assert_eq!(union(vec![]), Vec::<Range<u32>>::new());
    }

    #[test]
    fn norm_codes_are_tantivys() {
        for length in [0, 1, 2, 39, 40, 41, 100, 1_000, 12_345, u32::MAX] {
            let id = fieldnorm_id(length);
            assert!(FieldNormReader::id_to_fieldnorm(id) <= length, "{length}");
            if id < 255 {
                assert!(
                    FieldNormReader::id_to_fieldnorm(id + 1) > length,
                    "{length}"
                );
            }
        }
    }
}
