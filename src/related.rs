//! Related reports, from the index's term statistics. Each report is represented by its most
//! distinctive terms (the body's and title's stemmed terms, weighted by tf-idf over report
//! documents, the 30 heaviest kept), and reports are compared by the cosine similarity of
//! those vectors: what tantivy's more-like-this does one query at a time, done for every
//! report at once from the postings. Shared tags play no part in the choice; they only
//! explain it.

use std::collections::HashMap;
use std::path::Path;

use rayon::prelude::*;
use tantivy::postings::Postings;
use tantivy::schema::IndexRecordOption;
use tantivy::{DocSet, Index, TERMINATED, Term};

use crate::index::{Fields, Kind};
use crate::model::Report;

/// How many related reports a report lists.
pub const LIMIT: usize = 5;
/// Terms kept per report.
const TERMS: usize = 30;
/// Reports kept per term when comparing.
const LIST_LIMIT: usize = 256;
/// Below this similarity, reports are not related.
const MIN_SCORE: f32 = 0.05;
/// Title terms count this many times their frequency.
const TITLE_WEIGHT: u32 = 2;

/// A related report: its position in the site's reports, and why it is related.
#[derive(Debug, Clone, PartialEq)]
pub struct Related {
    pub report: usize,
    pub reason: String,
}

/// For each report (in the order given), up to [`LIMIT`] related reports, most similar first.
pub fn compute(index_dir: &Path, reports: &[Report]) -> tantivy::Result<Vec<Vec<Related>>> {
    let index = Index::open_in_dir(index_dir)?;
    let fields = Fields::of(&index)?;
    let reader = index
        .reader_builder()
        .reload_policy(tantivy::ReloadPolicy::Manual)
        .try_into()?;
    let searcher = reader.searcher();
    let by_id: HashMap<&str, usize> = reports
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i))
        .collect();

    // Term frequencies per report, with terms numbered across segments.
    let mut terms: Vec<String> = Vec::new();
    let mut term_ids: HashMap<Vec<u8>, u32> = HashMap::new();
    // (term, frequency) per report: a plain list, merged below; a map per report cost 70 MB
    // at 10,000 reports, at the build's peak.
    let mut counts: Vec<Vec<(u32, u32)>> = vec![Vec::new(); reports.len()];
    for segment in searcher.segment_readers() {
        let max_doc = segment.max_doc() as usize;
        let mut report_of: Vec<Option<usize>> = vec![None; max_doc];
        let kinds = segment.inverted_index(fields.kind)?;
        let report_term = Term::from_field_text(fields.kind, Kind::Report.name());
        let ids = segment.fast_fields().str("report")?;
        if let (Some(mut postings), Some(ids)) = (
            kinds.read_postings(&report_term, IndexRecordOption::Basic)?,
            ids,
        ) {
            let alive = segment.alive_bitset();
            let mut id = String::new();
            let mut doc = postings.doc();
            while doc != TERMINATED {
                if alive.is_none_or(|a| a.is_alive(doc))
                    && let Some(ord) = ids.term_ords(doc).next()
                {
                    id.clear();
                    if ids.ord_to_str(ord, &mut id)? {
                        report_of[doc as usize] = by_id.get(id.as_str()).copied();
                    }
                }
                doc = postings.advance();
            }
        }
        for (field, weight) in [(fields.body, 1), (fields.title, TITLE_WEIGHT)] {
            let inverted = segment.inverted_index(field)?;
            let mut stream = inverted.terms().stream()?;
            while stream.advance() {
                let key = stream.key();
                // Numbers and two-letter words ("13", "ui") say little about a failure.
                if key.len() < 3 || key.iter().all(u8::is_ascii_digit) {
                    continue;
                }
                let mut postings = inverted
                    .read_postings_from_terminfo(stream.value(), IndexRecordOption::WithFreqs)?;
                let mut id = None;
                let mut doc = postings.doc();
                while doc != TERMINATED {
                    if let Some(report) = report_of[doc as usize] {
                        let term = *id.get_or_insert_with(|| {
                            *term_ids.entry(key.to_vec()).or_insert_with(|| {
                                terms.push(String::from_utf8_lossy(key).into_owned());
                                (terms.len() - 1) as u32
                            })
                        });
                        counts[report].push((term, postings.term_freq() * weight));
                    }
                    doc = postings.advance();
                }
            }
        }
    }

    // A term can come from the body and the title: one entry each, summed.
    counts.par_iter_mut().for_each(|report| {
        report.sort_unstable_by_key(|&(t, _)| t);
        report.dedup_by(|next, kept| {
            let same = next.0 == kept.0;
            if same {
                kept.1 += next.1;
            }
            same
        });
        report.shrink_to_fit();
    });
    let n = reports.len();
    let mut df = vec![0u32; terms.len()];
    for report in &counts {
        for &(term, _) in report {
            df[term as usize] += 1;
        }
    }
    // A term in only one report relates nothing; one in most reports says nothing.
    let max_df = ((n as f32 * 0.5) as u32).max(2);
    let vectors: Vec<Vec<(u32, f32)>> = counts
        .par_iter()
        .map(|report| {
            let mut v: Vec<(u32, f32)> = report
                .iter()
                .filter(|(t, _)| (2..=max_df).contains(&df[*t as usize]))
                .map(|&(t, tf)| {
                    let idf = ((n as f32 + 1.0) / df[t as usize] as f32).ln();
                    (t, (1.0 + (tf as f32).ln()) * idf)
                })
                .collect();
            v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            v.truncate(TERMS);
            let norm = v.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
            if norm > 0.0 {
                for (_, w) in &mut v {
                    *w /= norm;
                }
            }
            v
        })
        .collect();
    let mut lists: Vec<Vec<(usize, f32)>> = vec![Vec::new(); terms.len()];
    for (report, v) in vectors.iter().enumerate() {
        for &(t, w) in v {
            lists[t as usize].push((report, w));
        }
    }
    // Only the reports where a term weighs most can be related through it: cutting each list
    // to its heaviest entries bounds the work on large sites with a small vocabulary.
    lists.par_iter_mut().for_each(|list| {
        if list.len() > LIST_LIMIT {
            list.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            list.truncate(LIST_LIMIT);
        }
    });

    Ok((0..n)
        .into_par_iter()
        .map_init(
            || vec![0f32; n],
            |scores, d| {
                let mut touched = Vec::new();
                for &(t, w) in &vectors[d] {
                    for &(other, w2) in &lists[t as usize] {
                        if other == d {
                            continue;
                        }
                        if scores[other] == 0.0 {
                            touched.push(other);
                        }
                        scores[other] += w * w2;
                    }
                }
                let mut best: Vec<(usize, f32)> = touched
                    .iter()
                    .map(|&o| (o, scores[o]))
                    .filter(|&(_, s)| s >= MIN_SCORE)
                    .collect();
                for &o in &touched {
                    scores[o] = 0.0;
                }
                // Most similar first; ties go to the newer report (reports are newest first).
                best.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                best.truncate(LIMIT);
                best.into_iter()
                    .map(|(other, _)| Related {
                        report: other,
                        reason: reason(reports, &vectors, &terms, d, other),
                    })
                    .collect()
            },
        )
        .collect())
}

/// One line: the services and tags the two reports share, then the terms that weigh most in
/// both.
fn reason(
    reports: &[Report],
    vectors: &[Vec<(u32, f32)>],
    terms: &[String],
    ia: usize,
    ib: usize,
) -> String {
    let (a, b) = (&reports[ia].meta, &reports[ib].meta);
    let mut parts = Vec::new();
    for (what, x, y) in [
        ("service", &a.services, &b.services),
        ("tag", &a.tags, &b.tags),
    ] {
        let shared: Vec<&str> = x
            .iter()
            .filter(|v| y.contains(v))
            .map(String::as_str)
            .collect();
        if !shared.is_empty() {
            let s = if shared.len() == 1 { "" } else { "s" };
            parts.push(format!("same {what}{s}: {}", shared.join(", ")));
        }
    }
    let weights: HashMap<u32, f32> = vectors[ib].iter().copied().collect();
    let mut common: Vec<(u32, f32)> = vectors[ia]
        .iter()
        .filter_map(|&(t, w)| weights.get(&t).map(|w2| (t, w * w2)))
        .collect();
    common.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
    let stems: Vec<&str> = common
        .iter()
        .take(3)
        .map(|(t, _)| terms[*t as usize].as_str())
        .collect();
    if !stems.is_empty() {
        let words = surface_words(&reports[ia], &stems);
        parts.push(format!("both mention {}", words.join(", ")));
    }
    parts.join("; ")
}

/// Words of the report as written for stemmed terms ("migrat" → "migration"), found in its
/// title and text; the stem itself when none starts with it.
fn surface_words(report: &Report, stems: &[&str]) -> Vec<String> {
    let mut found: Vec<Option<String>> = vec![None; stems.len()];
    let texts = [report.meta.title.as_str(), report.html.as_str()];
    'texts: for text in texts {
        for word in text.split(|c: char| !c.is_alphanumeric()) {
            if word.is_empty() {
                continue;
            }
            let lower = word.to_lowercase();
            for (i, stem) in stems.iter().enumerate() {
                if found[i].is_none() && lower.starts_with(stem) {
                    found[i] = Some(lower.clone());
                }
            }
            if found.iter().all(Option::is_some) {
                break 'texts;
            }
        }
    }
    found
        .into_iter()
        .zip(stems)
        .map(|(word, stem)| word.unwrap_or_else(|| stem.to_string()))
        .collect()
}
