//! Related reports, from the reports' term statistics. Each report is represented by its most
//! distinctive terms (the body's and title's stemmed terms, weighted by tf-idf over report
//! documents, the 30 heaviest kept), and reports are compared by the cosine similarity of
//! those vectors: what tantivy's more-like-this does one query at a time, done for every
//! report at once. Shared tags play no part in the choice; they only explain it.
//!
//! A build reads the term frequencies from the index's postings ([`compute`]). `rollbook serve`
//! keeps what related reports are computed from ([`Similarity`]) and updates it when a report
//! changes, tokenizing that report's text as the index does, without waiting for the index.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use rayon::prelude::*;
use tantivy::postings::Postings;
use tantivy::schema::IndexRecordOption;
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{DocSet, Searcher, TERMINATED, Term};

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
/// An update re-weighs every report whose weights an edit changed when there are at most
/// this many (on a small site, all of them); beyond it, only those it must (see
/// [`Similarity::update`]), so that one edit costs milliseconds on a large site.
const REWEIGH_LIMIT: usize = 64;

/// Bounds on the work: the reports compared per term, the reports re-weighed per update.
/// Tests lower them to reach, on a small site, what only a large one reaches.
#[derive(Debug, Clone, Copy)]
struct Limits {
    list: usize,
    reweigh: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            list: LIST_LIMIT,
            reweigh: REWEIGH_LIMIT,
        }
    }
}

/// A related report: its position in the site's reports, and why it is related.
#[derive(Debug, Clone, PartialEq)]
pub struct Related {
    pub report: usize,
    /// Shared with the similarity's state: handing the lists out after every edit copies no text.
    pub reason: Arc<str>,
}

/// For each report (in the order given), up to [`LIMIT`] related reports, most similar first.
pub fn compute(searcher: &Searcher, reports: &[Report]) -> tantivy::Result<Vec<Vec<Related>>> {
    Similarity::build_from(searcher, reports).map(|(_, related)| related)
}

/// A report's term frequencies: (term, frequency), sorted by term.
type Counts = Vec<(u32, u32)>;
/// A report's heaviest terms: (term, normalised weight), heaviest first.
type Vector = Vec<(u32, f32)>;

/// What related reports are computed from, kept so that one report's edit updates them.
///
/// Reports are held in slots, found by id, so that a report keeps its slot when the site's
/// order changes; positions in the site's list are only used to break ties (the newer report
/// first) and to answer [`Similarity::related`].
pub struct Similarity {
    vocabulary: Vocabulary,
    /// Per term: how many reports have it.
    df: Vec<u32>,
    /// How many reports the site has: the idf weights count them.
    reports: usize,
    slots: HashMap<String, usize>,
    /// Per slot; `None` once its report is removed.
    profiles: Vec<Option<Profile>>,
    /// Slots of removed reports, for reports added later.
    free: Vec<usize>,
    /// Per term: the reports whose vector has it, heaviest first (ties: the newer report).
    /// Only the first [`LIST_LIMIT`] are compared; the others are kept so that one can move up
    /// when a report leaves.
    holders: Vec<Vec<(usize, f32)>>,
    /// Per term in at most [`Similarity::rare_df`] reports: the reports whose text has it.
    /// The reports an update re-weighs beyond the edited ones are those of rare terms (one
    /// that starts or stops relating reports, or the few of a small change), and looking
    /// them up in every report's counts cost more than the rest of an update.
    rare: HashMap<u32, Vec<usize>>,
    /// Per slot: the slots whose related list has it.
    listed_by: Vec<Vec<usize>>,
    /// Per slot: the similarity another report must reach to enter its related list (ties
    /// aside), so that an update can tell without reading the list.
    bar: Vec<f32>,
    /// The slot at each position of the site's list at the last build or update, and each
    /// slot's position then (`usize::MAX` for none): the next list is matched against it.
    order: Vec<usize>,
    last_position: Vec<usize>,
    limits: Limits,
    /// The index's analyzer, for the text of edited reports.
    analyzer: TextAnalyzer,
}

/// One report's part in the similarity.
struct Profile {
    id: String,
    counts: Counts,
    vector: Vector,
    related: Vec<Link>,
}

/// A related report by slot, with the similarity that ranked it (which tells an update whether
/// another report now beats it).
struct Link {
    slot: usize,
    score: f32,
    reason: Arc<str>,
}

/// Terms by number. Numbers follow the order in which a build meets terms in the index's
/// dictionaries; terms that first appear in an update come after. They break ties between
/// equal weights.
#[derive(Default)]
struct Vocabulary {
    terms: Vec<String>,
    numbers: HashMap<String, u32>,
}

impl Vocabulary {
    fn number(&mut self, term: &str) -> u32 {
        if let Some(&number) = self.numbers.get(term) {
            return number;
        }
        let number = self.terms.len() as u32;
        self.terms.push(term.to_string());
        self.numbers.insert(term.to_string(), number);
        number
    }

    /// Numbers the terms in `order` (old numbers, each once) from 0; the new number of each
    /// old one.
    fn renumber(&mut self, order: &[u32]) -> Vec<u32> {
        let mut renumbered = vec![0; order.len()];
        for (new, &old) in order.iter().enumerate() {
            renumbered[old as usize] = new as u32;
        }
        for number in self.numbers.values_mut() {
            *number = renumbered[*number as usize];
        }
        let mut terms = std::mem::take(&mut self.terms);
        self.terms = order
            .iter()
            .map(|&old| std::mem::take(&mut terms[old as usize]))
            .collect();
        renumbered
    }

    fn text(&self, term: u32) -> &str {
        &self.terms[term as usize]
    }

    fn len(&self) -> usize {
        self.terms.len()
    }
}

/// What an update is about: where each slot's report now is in the site's list (`usize::MAX`
/// for none), the slots whose text is new, and those of removed reports.
struct Edit {
    position: Vec<usize>,
    edited: Vec<usize>,
    gone: Vec<usize>,
}

/// Reports whose place in the compared head of some term's list changed, other than the
/// re-weighed ones: their similarity to every report of that term changed with it.
#[derive(Default)]
struct Moves {
    risen: Vec<usize>,
    fallen: Vec<usize>,
}

impl Similarity {
    /// The cold build, from an index in one segment or several: same results as [`compute`],
    /// plus the state. `related` is in the order of `reports`.
    pub fn build_from(
        searcher: &Searcher,
        reports: &[Report],
    ) -> tantivy::Result<(Similarity, Vec<Vec<Related>>)> {
        Similarity::build_with(searcher, reports, Limits::default())
    }

    fn build_with(
        searcher: &Searcher,
        reports: &[Report],
        limits: Limits,
    ) -> tantivy::Result<(Similarity, Vec<Vec<Related>>)> {
        let (vocabulary, counts) = read_counts(searcher, reports)?;
        let mut similarity = Similarity::from_counts(vocabulary, counts, reports, limits);
        similarity.rank_all(reports);
        let related = similarity.related(reports);
        Ok((similarity, related))
    }

    /// After reports changed: `reports` is the site's new full list (new order, new content;
    /// added reports are in it, removed ones are not); `changed` are the ids of reports whose
    /// text is new or changed, `removed` the ids of reports that are gone. Returns the ids of
    /// every report whose related list (the ids in it, their order, or a reason text) changed,
    /// including the changed reports themselves and reports that listed a removed or changed
    /// report (their pages show its title).
    ///
    /// `reports` decides: a report it has that the state does not is taken as added, one the
    /// state has that it lacks as removed, and an id both in `removed` and in `reports` as
    /// changed (removed, then added again).
    ///
    /// The index is not read: changed reports are tokenized as the index tokenizes them. The
    /// result is what a cold build over the same reports gives, except that when an edit
    /// changes the weights of more than `REWEIGH_LIMIT` (64) reports (a common word's
    /// document frequency moved, or the number of reports changed, which moves every idf),
    /// only the changed reports and those that gain or lose a term (its document frequency
    /// crossed 2) are re-weighed; the others keep slightly stale idf weights until the next
    /// cold build (`build_from` again, once the index has caught up), and a term that became too
    /// common (in more than half the reports) stays in their vectors. Everything that follows
    /// from the weights is exact: every report whose ranking the re-weighed reports can change
    /// is ranked again. Ties between equal weights may also break differently for a term new
    /// to the site. On the generated 10,000-report corpus, one edit costs about 4 ms, after
    /// which 22 of 9,693 lists differ from a cold build's (7 in which reports they hold); the
    /// drift grows with edits until the next cold build.
    pub fn update(
        &mut self,
        reports: &[Report],
        changed: &[&str],
        removed: &[&str],
    ) -> HashSet<String> {
        let edit = self.follow(reports, changed, removed);
        let previous_reports = std::mem::replace(&mut self.reports, reports.len());
        if edit.edited.is_empty() && edit.gone.is_empty() {
            self.remember_order(edit.position);
            return HashSet::new();
        }
        let slots = self.profiles.len();
        // Their pages show the edited or removed report's card: rendered again either way.
        let showing = self.listers(edit.edited.iter().chain(&edit.gone));
        let old_df = self.recount(&edit, reports);
        let reweighed = self.to_reweigh(&edit.edited, &old_df, previous_reports);
        let moves = self.reweigh(&reweighed, &edit.gone, &edit.position);

        let mut risen = reweighed.clone();
        risen.extend(&moves.risen);
        let mut rerank = reweighed.clone();
        rerank.extend(self.listers(risen.iter().chain(&edit.gone).chain(&moves.fallen)));
        rerank.extend(self.drawn(&risen, &edit.position));
        rerank.sort_unstable();
        rerank.dedup();
        let relisted = self.rerank(&rerank, &marks(slots, &reweighed), reports, &edit.position);
        for &slot in &edit.gone {
            self.listed_by[slot].clear();
            self.free.push(slot);
        }

        let answer = edit
            .edited
            .iter()
            .chain(&showing)
            .chain(&relisted)
            .filter_map(|&slot| self.profile(slot).map(|p| p.id.clone()))
            .collect();
        self.remember_order(edit.position);
        answer
    }

    /// Every report's related reports, in the order of `reports` (indices into `reports`),
    /// from the current state.
    pub fn related(&self, reports: &[Report]) -> Vec<Vec<Related>> {
        let (position, _) = self.positions(reports);
        reports
            .iter()
            .enumerate()
            .map(|(i, report)| {
                let profile = self
                    .slots
                    .get(report.id.as_str())
                    // With two reports of one id (an error the site reports), the last has it.
                    .filter(|&&slot| position[slot] == i)
                    .and_then(|&slot| self.profile(slot));
                let Some(profile) = profile else {
                    return Vec::new();
                };
                profile
                    .related
                    .iter()
                    .filter(|link| position[link.slot] != usize::MAX)
                    .map(|link| Related {
                        report: position[link.slot],
                        reason: link.reason.clone(),
                    })
                    .collect()
            })
            .collect()
    }

    /// The state of a cold build: a slot per report at its position, the vectors, the lists.
    fn from_counts(
        vocabulary: Vocabulary,
        counts: Vec<Counts>,
        reports: &[Report],
        limits: Limits,
    ) -> Similarity {
        let n = reports.len();
        let mut slots = HashMap::with_capacity(n);
        for (i, report) in reports.iter().enumerate() {
            slots.insert(report.id.clone(), i);
        }
        let df = document_frequencies(&counts, vocabulary.len());
        let profiles: Vec<Option<Profile>> = counts
            .into_par_iter()
            .zip(reports.par_iter())
            .enumerate()
            .map(|(i, (counts, report))| {
                // Of two reports with one id, the index's postings went to the last.
                (slots.get(report.id.as_str()) == Some(&i)).then(|| Profile {
                    id: report.id.clone(),
                    vector: vector(&counts, &df, n),
                    counts,
                    related: Vec::new(),
                })
            })
            .collect();
        let free = (0..n).filter(|&i| profiles[i].is_none()).collect();
        let mut holders: Vec<Vec<(usize, f32)>> = vec![Vec::new(); vocabulary.len()];
        for (slot, profile) in profiles.iter().enumerate() {
            for &(t, w) in profile.iter().flat_map(|p| &p.vector) {
                holders[t as usize].push((slot, w));
            }
        }
        // Slots are positions here.
        holders
            .par_iter_mut()
            .for_each(|list| list.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0))));
        let rare_df = rare_df(limits);
        let mut rare: HashMap<u32, Vec<usize>> = HashMap::new();
        for (slot, profile) in profiles.iter().enumerate() {
            for &(t, _) in profile.iter().flat_map(|p| &p.counts) {
                if df[t as usize] <= rare_df {
                    rare.entry(t).or_default().push(slot);
                }
            }
        }
        let last_position: Vec<usize> = (0..n)
            .map(|i| if profiles[i].is_some() { i } else { usize::MAX })
            .collect();
        Similarity {
            vocabulary,
            df,
            reports: n,
            slots,
            profiles,
            free,
            holders,
            rare,
            listed_by: vec![Vec::new(); n],
            bar: vec![MIN_SCORE; n],
            order: (0..n).collect(),
            last_position,
            limits,
            analyzer: crate::analyzer::analyzer(),
        }
    }

    fn profile(&self, slot: usize) -> Option<&Profile> {
        self.profiles.get(slot).and_then(Option::as_ref)
    }

    /// Where each slot's report is in `reports` (`usize::MAX` for none; of two reports with
    /// one id, the last has it), and the positions of reports the state does not know.
    /// `reports` is walked in step with the order of the last update, comparing ids, and ids
    /// are looked up only where the two orders part: hashing every id cost more than the
    /// rest of an update.
    fn positions(&self, reports: &[Report]) -> (Vec<usize>, Vec<usize>) {
        let mut position = vec![usize::MAX; self.profiles.len()];
        let mut unknown = Vec::new();
        let mut next = 0;
        for (i, report) in reports.iter().enumerate() {
            let in_step = self
                .order
                .get(next)
                .copied()
                .filter(|&slot| self.profile(slot).is_some_and(|p| p.id == report.id));
            match in_step.or_else(|| self.slots.get(report.id.as_str()).copied()) {
                Some(slot) => {
                    position[slot] = i;
                    if let Some(&before) = self.last_position.get(slot)
                        && before != usize::MAX
                    {
                        next = before + 1;
                    }
                }
                None => unknown.push(i),
            }
        }
        (position, unknown)
    }

    /// Keeps the site's order for the next update to walk in step with.
    fn remember_order(&mut self, position: Vec<usize>) {
        let mut order = vec![usize::MAX; self.reports];
        for (slot, &at) in position.iter().enumerate() {
            if let Some(entry) = order.get_mut(at) {
                *entry = slot;
            }
        }
        self.order = order;
        self.last_position = position;
    }

    /// Ranks every report, as a build does.
    fn rank_all(&mut self, reports: &[Report]) {
        let position: Vec<usize> = (0..self.profiles.len()).collect();
        let related: Vec<Vec<Link>> = (0..self.profiles.len())
            .into_par_iter()
            .map_init(
                || Scratch::new(position.len()),
                |scratch, slot| {
                    let best = self.rank(slot, &position, scratch);
                    self.links(slot, best, reports, &position, None)
                },
            )
            .collect();
        for (slot, links) in related.into_iter().enumerate() {
            self.set_related(slot, links);
        }
    }

    /// Replaces a report's related list, keeping who lists whom and its bar in step.
    fn set_related(&mut self, slot: usize, links: Vec<Link>) {
        let Some(profile) = self.profiles[slot].as_mut() else {
            return;
        };
        for link in &profile.related {
            self.listed_by[link.slot].retain(|&lister| lister != slot);
        }
        for link in &links {
            self.listed_by[link.slot].push(slot);
        }
        self.bar[slot] = match links.get(LIMIT - 1) {
            Some(weakest) => weakest.score,
            None => MIN_SCORE,
        };
        profile.related = links;
    }

    /// The reports most similar to `slot`'s, up to [`LIMIT`], with their similarity: most
    /// similar first, ties to the newer report.
    fn rank(&self, slot: usize, position: &[usize], scratch: &mut Scratch) -> Vec<(usize, f32)> {
        let Some(profile) = self.profile(slot) else {
            return Vec::new();
        };
        let Scratch { scores, touched } = scratch;
        touched.clear();
        for &(t, w) in &profile.vector {
            for &(other, w2) in self.holders[t as usize].iter().take(self.limits.list) {
                if other == slot {
                    continue;
                }
                if scores[other] == 0.0 {
                    touched.push(other);
                }
                scores[other] += w * w2;
            }
        }
        // Most reports touch thousands, of which five are kept: each is compared with the
        // weakest kept so far, and only a better one is placed. Positions are distinct, so
        // the order is total and this keeps what sorting them all would put first.
        let before = |a: &(usize, f32), b: &(usize, f32)| {
            b.1.total_cmp(&a.1).then(position[a.0].cmp(&position[b.0])) == Ordering::Less
        };
        let mut best: Vec<(usize, f32)> = Vec::with_capacity(LIMIT + 1);
        for &other in touched.iter() {
            let candidate = (other, std::mem::take(&mut scores[other]));
            if candidate.1 < MIN_SCORE
                || (best.len() == LIMIT && !best.last().is_some_and(|w| before(&candidate, w)))
            {
                continue;
            }
            let at = best.partition_point(|kept| before(kept, &candidate));
            best.insert(at, candidate);
            best.truncate(LIMIT);
        }
        best
    }

    /// `slot`'s related links for the ranked reports. A reason is kept from the current list
    /// when neither report was re-weighed (`reweighed`), since it depends only on the two
    /// reports' text and vectors; otherwise it is written afresh. The words of every fresh
    /// reason are looked up in one reading of the report's text, not one per related report.
    fn links(
        &self,
        slot: usize,
        best: Vec<(usize, f32)>,
        reports: &[Report],
        position: &[usize],
        reweighed: Option<&[bool]>,
    ) -> Vec<Link> {
        let Some(profile) = self.profile(slot) else {
            return Vec::new();
        };
        // The stems of the fresh reasons, each once: a fresh reason holds its stems' indices.
        let mut stems: Vec<&str> = Vec::new();
        let chosen: Vec<(usize, f32, Reason)> = best
            .into_iter()
            .filter_map(|(other, score)| {
                let kept = reweighed
                    .filter(|marked| !marked[slot] && !marked[other])
                    .and_then(|_| profile.related.iter().find(|l| l.slot == other));
                let reason = match kept {
                    Some(link) => Reason::Kept(link.reason.clone()),
                    None => {
                        let a = reports.get(position[slot])?;
                        let b = reports.get(position[other])?;
                        let shared = shared_stems(
                            &profile.vector,
                            &self.profile(other)?.vector,
                            &self.vocabulary,
                        );
                        let at = shared
                            .into_iter()
                            .map(|stem| {
                                stems.iter().position(|&s| s == stem).unwrap_or_else(|| {
                                    stems.push(stem);
                                    stems.len() - 1
                                })
                            })
                            .collect();
                        Reason::Fresh(a, b, at)
                    }
                };
                Some((other, score, reason))
            })
            .collect();
        let words = match reports.get(position[slot]) {
            Some(report) if !stems.is_empty() => surface_words(report, &stems),
            _ => Vec::new(),
        };
        chosen
            .into_iter()
            .map(|(other, score, chosen)| Link {
                slot: other,
                score,
                reason: match chosen {
                    Reason::Kept(reason) => reason,
                    Reason::Fresh(a, b, at) => {
                        let words: Vec<&str> = at.iter().map(|&i| words[i].as_str()).collect();
                        Arc::from(reason(a, b, &words))
                    }
                },
            })
            .collect()
    }

    /// Finds the slots of `reports`: new ids get one (and count as edited), and known ids
    /// missing from `reports` are the removed reports.
    fn follow(&mut self, reports: &[Report], changed: &[&str], removed: &[&str]) -> Edit {
        let (mut position, unknown) = self.positions(reports);
        let mut edited = Vec::new();
        for i in unknown {
            let id = reports[i].id.as_str();
            let slot = match self.slots.get(id) {
                Some(&slot) => slot,
                None => {
                    let slot = self.allocate(id);
                    edited.push(slot);
                    slot
                }
            };
            position.resize(self.profiles.len(), usize::MAX);
            position[slot] = i;
        }
        for id in changed.iter().chain(removed) {
            if let Some(&slot) = self.slots.get(*id)
                && position[slot] != usize::MAX
            {
                edited.push(slot);
            }
        }
        edited.sort_unstable();
        edited.dedup();
        let gone = (0..self.profiles.len())
            .filter(|&slot| self.profiles[slot].is_some() && position[slot] == usize::MAX)
            .collect();
        Edit {
            position,
            edited,
            gone,
        }
    }

    /// A slot for a new report, empty until it is counted.
    fn allocate(&mut self, id: &str) -> usize {
        let profile = Profile {
            id: id.to_string(),
            counts: Vec::new(),
            vector: Vec::new(),
            related: Vec::new(),
        };
        let slot = match self.free.pop() {
            Some(slot) => {
                self.profiles[slot] = Some(profile);
                self.bar[slot] = MIN_SCORE;
                self.last_position[slot] = usize::MAX;
                slot
            }
            None => {
                self.profiles.push(Some(profile));
                self.listed_by.push(Vec::new());
                self.bar.push(MIN_SCORE);
                self.last_position.push(usize::MAX);
                self.profiles.len() - 1
            }
        };
        self.slots.insert(id.to_string(), slot);
        slot
    }

    /// Brings the term frequencies up to date: removed reports' terms stop counting, edited
    /// reports are tokenized afresh. Returns each term whose document frequency changed, with
    /// its frequency before.
    fn recount(&mut self, edit: &Edit, reports: &[Report]) -> HashMap<u32, u32> {
        let mut old_df: HashMap<u32, u32> = HashMap::new();
        let mut became_rare = Vec::new();
        for &slot in &edit.gone {
            let Some(profile) = self.profiles[slot].as_mut() else {
                continue;
            };
            let lost: Vec<u32> = std::mem::take(&mut profile.counts)
                .into_iter()
                .map(|(t, _)| t)
                .collect();
            self.count_terms(slot, &lost, &[], &mut old_df, &mut became_rare);
        }
        for &slot in &edit.edited {
            let Some(report) = reports.get(edit.position[slot]) else {
                continue;
            };
            let frequencies = term_frequencies(&mut self.analyzer, report);
            let counts = counts_of(&frequencies, &mut self.vocabulary);
            self.df.resize(self.vocabulary.len(), 0);
            self.holders.resize_with(self.vocabulary.len(), Vec::new);
            let Some(profile) = self.profiles[slot].as_mut() else {
                continue;
            };
            let old = std::mem::replace(&mut profile.counts, counts);
            let (lost, gained) = difference(&old, &profile.counts);
            self.count_terms(slot, &lost, &gained, &mut old_df, &mut became_rare);
        }
        became_rare.sort_unstable();
        became_rare.dedup();
        for t in became_rare {
            if (1..=self.rare_df()).contains(&self.df[t as usize]) {
                let holders = self.scan_holders(t);
                self.rare.insert(t, holders);
            }
        }
        old_df.retain(|&t, old| self.df[t as usize] != *old);
        old_df
    }

    /// Counts the terms a report lost and gained in the document frequencies and the rare
    /// terms' reports, noting each term's frequency before and the terms that became rare
    /// (whose reports are then looked for once).
    fn count_terms(
        &mut self,
        slot: usize,
        lost: &[u32],
        gained: &[u32],
        old_df: &mut HashMap<u32, u32>,
        became_rare: &mut Vec<u32>,
    ) {
        let rare_df = self.rare_df();
        for &t in lost {
            let df = &mut self.df[t as usize];
            old_df.entry(t).or_insert(*df);
            *df -= 1;
            if *df == rare_df {
                became_rare.push(t);
            } else if *df < rare_df
                && let Some(holders) = self.rare.get_mut(&t)
            {
                holders.retain(|&holder| holder != slot);
                if holders.is_empty() {
                    self.rare.remove(&t);
                }
            }
        }
        for &t in gained {
            let df = &mut self.df[t as usize];
            old_df.entry(t).or_insert(*df);
            *df += 1;
            if *df <= rare_df {
                self.rare.entry(t).or_default().push(slot);
            } else if *df == rare_df + 1 {
                self.rare.remove(&t);
            }
        }
    }

    /// Up to this document frequency, a term's reports are kept in [`Similarity::rare`].
    fn rare_df(&self) -> u32 {
        rare_df(self.limits)
    }

    /// The reports whose vectors are computed again: the edited ones; those that have a term
    /// which starts or stops relating reports (its document frequency crossed 2), since that
    /// adds or drops a term rather than re-weighing one; and every report whose weights
    /// changed (all of them when the number of reports changed) when that is at most
    /// [`REWEIGH_LIMIT`] reports.
    fn to_reweigh(
        &self,
        edited: &[usize],
        old_df: &HashMap<u32, u32>,
        previous_reports: usize,
    ) -> Vec<usize> {
        let live = || (0..self.profiles.len()).filter(|&slot| self.profiles[slot].is_some());
        let mut terms: Vec<u32> = old_df.keys().copied().collect();
        terms.sort_unstable();
        // How many reports a cold build would weigh differently (at most: a report with two
        // of the terms counts twice).
        let changed_weights = if self.reports != previous_reports {
            live().count()
        } else {
            terms.iter().map(|&t| self.df[t as usize] as usize).sum()
        };
        let mut reweigh = if changed_weights > self.limits.reweigh {
            terms.retain(|t| (self.df[*t as usize] < 2) != (old_df[t] < 2));
            self.having(&terms)
        } else if self.reports != previous_reports {
            live().collect()
        } else {
            self.having(&terms)
        };
        reweigh.extend(edited);
        reweigh.sort_unstable();
        reweigh.dedup();
        reweigh
    }

    /// The reports whose text has one of `terms`.
    fn having(&self, terms: &[u32]) -> Vec<usize> {
        let mut having = Vec::new();
        for &t in terms {
            match self.rare.get(&t) {
                Some(holders) => having.extend(holders),
                // A term too common for the index (many edited reports gained it at once).
                None if self.df[t as usize] > 0 => having.extend(self.scan_holders(t)),
                None => {}
            }
        }
        having
    }

    /// The reports whose text has `term`, found in every report's counts.
    fn scan_holders(&self, term: u32) -> Vec<usize> {
        self.profiles
            .par_iter()
            .enumerate()
            .filter(|(_, profile)| {
                profile
                    .as_ref()
                    .is_some_and(|p| p.counts.binary_search_by_key(&term, |&(t, _)| t).is_ok())
            })
            .map(|(slot, _)| slot)
            .collect()
    }

    /// Computes the re-weighed reports' vectors and moves them in the term lists, takes the
    /// removed reports out, and returns the other reports that moved into or out of a list's
    /// compared head.
    fn reweigh(&mut self, reweighed: &[usize], gone: &[usize], position: &[usize]) -> Moves {
        let vectors: Vec<Vector> = reweighed
            .iter()
            .map(|&slot| {
                self.profile(slot)
                    .map_or_else(Vec::new, |p| vector(&p.counts, &self.df, self.reports))
            })
            .collect();
        let mut terms: Vec<u32> = reweighed
            .iter()
            .chain(gone)
            .filter_map(|&slot| self.profile(slot))
            .flat_map(|p| p.vector.iter().map(|&(t, _)| t))
            .chain(vectors.iter().flatten().map(|&(t, _)| t))
            .collect();
        terms.sort_unstable();
        terms.dedup();
        let before = self.heads(&terms);

        for &slot in reweighed.iter().chain(gone) {
            let Some(profile) = self.profiles[slot].as_mut() else {
                continue;
            };
            for &(t, _) in &std::mem::take(&mut profile.vector) {
                self.holders[t as usize].retain(|&(holder, _)| holder != slot);
            }
        }
        for &slot in gone {
            self.set_related(slot, Vec::new());
            if let Some(profile) = self.profiles[slot].take() {
                self.slots.remove(&profile.id);
            }
        }
        for (&slot, vector) in reweighed.iter().zip(vectors) {
            for &(t, w) in &vector {
                let list = &mut self.holders[t as usize];
                let at = list.partition_point(|&(other, w2)| {
                    w2.total_cmp(&w).is_gt() || (w2 == w && position[other] < position[slot])
                });
                list.insert(at, (slot, w));
            }
            if let Some(profile) = self.profiles[slot].as_mut() {
                profile.vector = vector;
            }
        }

        let after = self.heads(&terms);
        let skip = marks(self.profiles.len(), reweighed.iter().chain(gone));
        let mut moves = Moves::default();
        for (before, after) in before.iter().zip(&after) {
            let entered = after.iter().filter(|s| before.binary_search(s).is_err());
            let left = before.iter().filter(|s| after.binary_search(s).is_err());
            moves.risen.extend(entered.filter(|&&s| !skip[s]));
            moves.fallen.extend(left.filter(|&&s| !skip[s]));
        }
        moves.risen.sort_unstable();
        moves.risen.dedup();
        moves.fallen.sort_unstable();
        moves.fallen.dedup();
        moves
    }

    /// For each term, the slots at the head of its list (the ones compared), sorted.
    fn heads(&self, terms: &[u32]) -> Vec<Vec<usize>> {
        terms
            .iter()
            .map(|&t| {
                let mut head: Vec<usize> = self.holders[t as usize]
                    .iter()
                    .take(self.limits.list)
                    .map(|&(slot, _)| slot)
                    .collect();
                head.sort_unstable();
                head
            })
            .collect()
    }

    /// The reports whose related list has one of these.
    fn listers<'a>(&self, listed: impl IntoIterator<Item = &'a usize>) -> Vec<usize> {
        let mut listers: Vec<usize> = listed
            .into_iter()
            .flat_map(|&slot| &self.listed_by[slot])
            .copied()
            .collect();
        listers.sort_unstable();
        listers.dedup();
        listers
    }

    /// The reports that a risen report (more similar to some reports than before) may now
    /// enter: its similarity to each report that shares a compared term with it, where that
    /// beats the report's weakest related report, or the report lists fewer than [`LIMIT`].
    fn drawn(&self, risen: &[usize], position: &[usize]) -> Vec<usize> {
        let mut scores = vec![0f32; self.profiles.len()];
        let mut touched = Vec::new();
        let mut drawn = Vec::new();
        for &slot in risen {
            let Some(profile) = self.profile(slot) else {
                continue;
            };
            // Its weights where it is compared: at the head of the term's list.
            let compared: HashMap<u32, f32> = profile
                .vector
                .iter()
                .filter(|&&(t, _)| {
                    let mut head = self.holders[t as usize].iter().take(self.limits.list);
                    head.any(|&(holder, _)| holder == slot)
                })
                .copied()
                .collect();
            // Summed term by term from the lists, which is quick, but not in the order
            // `rank` sums: a report close to its bar is scored again the way `rank` does.
            for (&t, &w) in &compared {
                for &(other, w2) in &self.holders[t as usize] {
                    if other == slot {
                        continue;
                    }
                    if scores[other] == 0.0 {
                        touched.push(other);
                    }
                    scores[other] += w * w2;
                }
            }
            for other in touched.drain(..) {
                let rough = std::mem::take(&mut scores[other]);
                if rough < self.bar[other] * 0.999 {
                    continue;
                }
                let Some(candidate) = self.profile(other) else {
                    continue;
                };
                let score = candidate
                    .vector
                    .iter()
                    .filter_map(|(t, w)| compared.get(t).map(|w2| w * w2))
                    .fold(0.0, |sum, x| sum + x);
                if enters(candidate, slot, score, position) {
                    drawn.push(other);
                }
            }
        }
        drawn
    }

    /// Ranks these reports again; returns those whose list (its reports or reasons) changed.
    fn rerank(
        &mut self,
        slots: &[usize],
        reweighed: &[bool],
        reports: &[Report],
        position: &[usize],
    ) -> Vec<usize> {
        let lists: Vec<Vec<Link>> = slots
            .par_iter()
            .map_init(
                || Scratch::new(self.profiles.len()),
                |scratch, &slot| {
                    let best = self.rank(slot, position, scratch);
                    self.links(slot, best, reports, position, Some(reweighed))
                },
            )
            .collect();
        let mut relisted = Vec::new();
        for (&slot, links) in slots.iter().zip(lists) {
            let Some(profile) = self.profile(slot) else {
                continue;
            };
            let same = profile.related.len() == links.len()
                && profile
                    .related
                    .iter()
                    .zip(&links)
                    .all(|(a, b)| a.slot == b.slot && a.reason == b.reason);
            if !same {
                relisted.push(slot);
            }
            self.set_related(slot, links);
        }
        relisted
    }
}

/// What ranking a report needs, kept from one report to the next on a thread: a score per
/// slot (zero, and left so by [`Similarity::rank`]), and the slots a ranking scored.
struct Scratch {
    scores: Vec<f32>,
    touched: Vec<usize>,
}

impl Scratch {
    fn new(slots: usize) -> Scratch {
        Scratch {
            scores: vec![0.0; slots],
            touched: Vec::new(),
        }
    }
}

/// Whether a report with this similarity would enter `profile`'s related list (not already
/// in it).
fn enters(profile: &Profile, other: usize, score: f32, position: &[usize]) -> bool {
    if score < MIN_SCORE || profile.related.iter().any(|l| l.slot == other) {
        return false;
    }
    match profile.related.last() {
        Some(weakest) if profile.related.len() >= LIMIT => {
            score > weakest.score
                || (score == weakest.score && position[other] < position[weakest.slot])
        }
        _ => true,
    }
}

/// Up to this document frequency, a term's reports are kept: enough for every term whose
/// reports an update may re-weigh.
fn rare_df(limits: Limits) -> u32 {
    limits.reweigh.max(2) as u32
}

/// The terms of `old` that `new` lacks, and those of `new` that `old` lacks.
fn difference(old: &Counts, new: &Counts) -> (Vec<u32>, Vec<u32>) {
    let (mut lost, mut gained) = (Vec::new(), Vec::new());
    let (mut a, mut b) = (old.iter().peekable(), new.iter().peekable());
    loop {
        match (a.peek(), b.peek()) {
            (Some(&&(x, _)), Some(&&(y, _))) if x == y => {
                a.next();
                b.next();
            }
            (Some(&&(x, _)), Some(&&(y, _))) if x < y => {
                lost.push(x);
                a.next();
            }
            (Some(_), Some(&&(y, _))) => {
                gained.push(y);
                b.next();
            }
            (Some(&&(x, _)), None) => {
                lost.push(x);
                a.next();
            }
            (None, Some(&&(y, _))) => {
                gained.push(y);
                b.next();
            }
            (None, None) => return (lost, gained),
        }
    }
}

/// One flag per slot, set for the given ones.
fn marks<'a>(slots: usize, marked: impl IntoIterator<Item = &'a usize>) -> Vec<bool> {
    let mut marks = vec![false; slots];
    for &slot in marked {
        marks[slot] = true;
    }
    marks
}

/// Each report's term frequencies (in the order of `reports`), read from the postings of its
/// report document in the index.
fn read_counts(
    searcher: &Searcher,
    reports: &[Report],
) -> tantivy::Result<(Vocabulary, Vec<Counts>)> {
    let fields = Fields::of(searcher.index())?;
    let by_id: HashMap<&str, usize> = reports
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i))
        .collect();

    let mut vocabulary = Vocabulary::default();
    // Whether each term was met in a body (else in titles only).
    let mut in_body: Vec<bool> = Vec::new();
    // (term, frequency) per report: a plain list, merged below; a map per report cost 70 MB
    // at 10,000 reports, at the build's peak.
    let mut counts: Vec<Counts> = vec![Vec::new(); reports.len()];
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
                if !is_telling(key) {
                    continue;
                }
                let mut postings = inverted
                    .read_postings_from_terminfo(stream.value(), IndexRecordOption::WithFreqs)?;
                let mut term = None;
                let mut doc = postings.doc();
                while doc != TERMINATED {
                    if let Some(report) = report_of[doc as usize] {
                        let term = *term.get_or_insert_with(|| {
                            let term = vocabulary.number(&String::from_utf8_lossy(key));
                            in_body.resize(vocabulary.len(), false);
                            in_body[term as usize] |= field == fields.body;
                            term
                        });
                        counts[report].push((term, postings.term_freq() * weight));
                    }
                    doc = postings.advance();
                }
            }
        }
    }

    // Numbered as one segment's dictionaries meet the terms: the bodies' in order, then those
    // only in titles, in order. The index may be read while its segments are merged, and how
    // documents are shared out between segments differs from build to build.
    let mut order: Vec<u32> = (0..vocabulary.len() as u32).collect();
    order.sort_unstable_by(|&a, &b| {
        let key = |t: u32| (!in_body[t as usize], vocabulary.text(t));
        key(a).cmp(&key(b))
    });
    let renumbered = vocabulary.renumber(&order);
    // A term can come from the body and the title: one entry each, summed.
    counts.par_iter_mut().for_each(|report| {
        for (term, _) in report.iter_mut() {
            *term = renumbered[*term as usize];
        }
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
    Ok((vocabulary, counts))
}

/// Numbers and two-letter words ("13", "ui") say little about a failure.
fn is_telling(term: &[u8]) -> bool {
    term.len() >= 3 && !term.iter().all(u8::is_ascii_digit)
}

/// A report's term frequencies as its report document's postings hold them: the text the
/// index puts in the document's `title` and `body` fields, tokenized by the index's analyzer,
/// terms that say little left out and title terms counted [`TITLE_WEIGHT`] times. This is
/// what lets an update agree with a build without reading the index.
fn term_frequencies(analyzer: &mut TextAnalyzer, report: &Report) -> HashMap<String, u32> {
    let (title, body) = crate::index::report_text(report);
    let mut frequencies: HashMap<String, u32> = HashMap::new();
    for (text, weight) in [(body.as_str(), 1), (title, TITLE_WEIGHT)] {
        let mut stream = analyzer.token_stream(text);
        while stream.advance() {
            let term = &stream.token().text;
            if !is_telling(term.as_bytes()) {
                continue;
            }
            match frequencies.get_mut(term) {
                Some(count) => *count += weight,
                None => {
                    frequencies.insert(term.clone(), weight);
                }
            }
        }
    }
    frequencies
}

/// Term frequencies by term number, numbering terms the vocabulary does not have yet.
fn counts_of(frequencies: &HashMap<String, u32>, vocabulary: &mut Vocabulary) -> Counts {
    let mut counts: Counts = frequencies
        .iter()
        .map(|(term, &count)| (vocabulary.number(term), count))
        .collect();
    counts.sort_unstable_by_key(|&(t, _)| t);
    counts
}

/// How many reports have each term.
fn document_frequencies(counts: &[Counts], terms: usize) -> Vec<u32> {
    let mut df = vec![0u32; terms];
    for report in counts {
        for &(term, _) in report {
            df[term as usize] += 1;
        }
    }
    df
}

/// A report's tf-idf vector over `reports` reports: its [`TERMS`] heaviest terms, normalised.
fn vector(counts: &Counts, df: &[u32], reports: usize) -> Vector {
    let n = reports as f32;
    let mut v: Vector = counts
        .iter()
        .filter(|(t, _)| relates(df[*t as usize], reports))
        .map(|&(t, tf)| {
            let idf = ((n + 1.0) / df[t as usize] as f32).ln();
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
}

/// Whether a term in `df` of `reports` reports can relate them: one in only one report
/// relates nothing; one in most reports says nothing.
fn relates(df: u32, reports: usize) -> bool {
    let max_df = ((reports as f32 * 0.5) as u32).max(2);
    (2..=max_df).contains(&df)
}

/// Why a related report is listed: the reason it had, or the two reports and the stems they
/// share (indices into those looked up in the first one's text), whose words are to be found.
enum Reason<'a> {
    Kept(Arc<str>),
    Fresh(&'a Report, &'a Report, Vec<usize>),
}

/// The (up to three) stems that weigh most in both vectors.
fn shared_stems<'v>(va: &Vector, vb: &Vector, vocabulary: &'v Vocabulary) -> Vec<&'v str> {
    let weights: HashMap<u32, f32> = vb.iter().copied().collect();
    let mut common: Vec<(u32, f32)> = va
        .iter()
        .filter_map(|&(t, w)| weights.get(&t).map(|w2| (t, w * w2)))
        .collect();
    common.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
    common
        .iter()
        .take(3)
        .map(|&(t, _)| vocabulary.text(t))
        .collect()
}

/// One line: the services and tags the two reports share, then the words of the terms that
/// weigh most in both.
fn reason(a: &Report, b: &Report, words: &[&str]) -> String {
    let mut parts = Vec::new();
    for (what, x, y) in [
        ("service", &a.meta.services, &b.meta.services),
        ("tag", &a.meta.tags, &b.meta.tags),
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
    if !words.is_empty() {
        parts.push(format!("both mention {}", words.join(", ")));
    }
    parts.join("; ")
}

/// Words of the report as written for stemmed terms ("migrat" → "migration"), found in its
/// title and text; the stem itself when none starts with it.
fn surface_words(report: &Report, stems: &[&str]) -> Vec<String> {
    let mut found: Vec<Option<String>> = vec![None; stems.len()];
    // A word is compared only with the stems that start with its first letter: most words
    // start with none, and the text is read once for all of a report's related reports.
    let firsts: Vec<u8> = stems.iter().map(|s| first_byte(s)).collect();
    let mut starting = [false; 256];
    for &b in &firsts {
        starting[usize::from(b)] = true;
    }
    let texts = [report.meta.title.as_str(), report.html.as_str()];
    let mut missing = stems.len();
    'texts: for text in texts {
        for word in text.split(|c: char| !c.is_alphanumeric()) {
            if word.is_empty() {
                continue;
            }
            let first = first_byte(word);
            // A word that is not ASCII may lowercase to any letter: compared with every stem.
            let ascii = word.as_bytes()[0].is_ascii();
            if ascii && !starting[usize::from(first)] {
                continue;
            }
            for (i, stem) in stems.iter().enumerate() {
                if found[i].is_none()
                    && (!ascii || firsts[i] == first)
                    && starts_lowercased(word, stem)
                {
                    found[i] = Some(word.to_lowercase());
                    missing -= 1;
                }
            }
            if missing == 0 {
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

/// The first byte of `word`, lowercased if it is ASCII (0 for none).
fn first_byte(word: &str) -> u8 {
    word.as_bytes().first().map_or(0, u8::to_ascii_lowercase)
}

/// Whether `word`, lowercased, starts with `stem`. Most words are ASCII, compared in place:
/// lowercasing every word read into a new string took longer than ranking the reports.
fn starts_lowercased(word: &str, stem: &str) -> bool {
    if word.is_ascii() {
        word.len() >= stem.len()
            && word.as_bytes()[..stem.len()].eq_ignore_ascii_case(stem.as_bytes())
    } else {
        word.to_lowercase().starts_with(stem)
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use tantivy::Index;

    use super::*;
    use crate::config::Config;
    use crate::load::SourceFile;
    use crate::parse::{Purpose, parse_report};

    /// A searcher over the index in `index_dir`.
    fn open(index_dir: &Path) -> tantivy::Result<Searcher> {
        crate::index::searcher(&Index::open_in_dir(index_dir)?)
    }

    /// A report parsed from Markdown as a build parses it.
    fn report(id: &str, date: &str, title: &str, tags: &[&str], body: &str) -> Report {
        let tags: Vec<String> = tags.iter().map(|t| format!("{t:?}")).collect();
        let text = format!(
            "+++\ntitle = {title:?}\ndate = {date}\nseverity = \"high\"\ntags = [{}]\n+++\n\n{body}\n",
            tags.join(", ")
        );
        let file = SourceFile {
            path: PathBuf::from(format!("content/{id}.md")),
            content_path: format!("{id}.md"),
            text,
            stamp: Default::default(),
        };
        let parsed = parse_report(
            &file,
            &Config::default(),
            jiff::civil::date(2026, 1, 1),
            Purpose::Build,
        );
        parsed.report.expect("the fixture parses")
    }

    /// The reports in the site's order (newest first).
    fn ordered(reports: Vec<Report>) -> Vec<Report> {
        let severities = Config::default().severities;
        crate::model::Site::new(reports, &severities, jiff::civil::date(2026, 1, 1)).reports
    }

    const POOL: &str = "2024-01-26-pool";
    const CHECKOUT: &str = "2024-06-10-checkout";
    const EDGE: &str = "2024-03-02-edge";

    /// The edge report, dated `date`.
    fn edge(date: &str) -> Report {
        report(
            EDGE,
            date,
            "Edge proxy handshake failures",
            &["tls"],
            "## Summary\n\nThe edge proxy served an expired certificate after the rotation job \
             failed; every TLS handshake from older clients failed.",
        )
    }
    const LOGIN: &str = "2025-02-18-login";
    const CART: &str = "2024-09-10-cart";
    const STAMPEDE: &str = "2025-04-09-stampede";
    const RESOLVER: &str = "2023-11-03-resolver";
    const DISCOVERY: &str = "2025-07-22-discovery";

    /// Eight reports, two by two about the same failure.
    fn site() -> Vec<Report> {
        ordered(vec![
            report(
                POOL,
                "2024-01-26",
                "Payment errors after payments-api 2.5.0",
                &["database"],
                "## Summary\n\nThe Hikari connection pool was exhausted: a nested transaction held \
                 a second connection and requests waited until the deadlock timed out.\n\n\
                 ## Root cause\n\nPool size too small for nested transactions.",
            ),
            report(
                CHECKOUT,
                "2024-06-10",
                "Checkout timeouts from connection pool exhaustion",
                &["database"],
                "## Summary\n\nCheckout threads waited on the Hikari pool; every connection was \
                 held by a slow transaction, so the pool stayed exhausted.",
            ),
            edge("2024-03-02"),
            report(
                LOGIN,
                "2025-02-18",
                "Expired certificate broke mobile login",
                &["tls"],
                "## Summary\n\nThe login certificate expired because its renewal reminder went to \
                 a deleted mailbox; mobile clients refused the handshake.",
            ),
            report(
                CART,
                "2024-09-10",
                "Stale cart totals after promo flag",
                &["cache"],
                "## Summary\n\nRedis kept stale cart entries after the promo flag flipped, because \
                 cache invalidation skipped keys with a long TTL.",
            ),
            report(
                STAMPEDE,
                "2025-04-09",
                "Cache stampede after Redis failover",
                &["cache"],
                "## Summary\n\nAfter the Redis failover every cache key expired at once and the \
                 stampede of misses overloaded the database replicas.",
            ),
            report(
                RESOLVER,
                "2023-11-03",
                "Resolver timeouts in Kubernetes",
                &["dns"],
                "## Summary\n\nPods timed out resolving names: the ndots setting sent every lookup \
                 through five search domains before CoreDNS answered.",
            ),
            report(
                DISCOVERY,
                "2025-07-22",
                "Service discovery broke after CoreDNS upgrade",
                &["dns"],
                "## Summary\n\nThe CoreDNS upgrade dropped the stub domain, so service discovery \
                 records stopped resolving for internal names.",
            ),
        ])
    }

    /// `DISCOVERY` rewritten about an expired certificate.
    fn discovery_about_certificates() -> Report {
        report(
            DISCOVERY,
            "2025-07-22",
            "Service discovery broke after CoreDNS upgrade",
            &["dns"],
            "## Summary\n\nThe service mesh certificate expired: its rotation job failed, and \
             every TLS handshake between services failed until the certificate was renewed.",
        )
    }

    /// A cold build: a fresh index of `reports`, and the state and lists built from it.
    fn cold(reports: &[Report], limits: Limits) -> (Similarity, Vec<Vec<Related>>) {
        let dir = tempfile::tempdir().expect("temp dir");
        crate::index::create(dir.path(), reports).expect("index");
        Similarity::build_with(&open(dir.path()).expect("open"), reports, limits)
            .expect("similarity")
    }

    fn position(reports: &[Report], id: &str) -> usize {
        reports.iter().position(|r| r.id == id).expect(id)
    }

    /// The ids of a report's related reports.
    fn related_ids<'a>(reports: &'a [Report], related: &[Vec<Related>], id: &str) -> Vec<&'a str> {
        related[position(reports, id)]
            .iter()
            .map(|r| reports[r.report].id.as_str())
            .collect()
    }

    fn replaced(reports: &[Report], edited: Report) -> Vec<Report> {
        let mut reports: Vec<Report> = reports
            .iter()
            .filter(|r| r.id != edited.id)
            .cloned()
            .collect();
        reports.push(edited);
        ordered(reports)
    }

    /// What an update must keep true whatever its shortcuts: the counts are the site's, each
    /// term's list holds exactly the vectors that have it in order, and every stored related
    /// list is what ranking its report afresh from the state gives, reasons included.
    fn assert_consistent(similarity: &Similarity, reports: &[Report]) {
        let (position, unknown) = similarity.positions(reports);
        assert!(unknown.is_empty());
        let mut analyzer = crate::analyzer::analyzer();
        let live: Vec<usize> = (0..similarity.profiles.len())
            .filter(|&s| similarity.profiles[s].is_some())
            .collect();
        assert_eq!(live.len(), reports.len());
        let mut df = vec![0u32; similarity.vocabulary.len()];
        for &slot in &live {
            let profile = similarity.profile(slot).expect("live");
            let report = &reports[position[slot]];
            assert_eq!(profile.id, report.id);
            let counts: HashMap<&str, u32> = profile
                .counts
                .iter()
                .map(|&(t, c)| (similarity.vocabulary.text(t), c))
                .collect();
            let tokenized = term_frequencies(&mut analyzer, report);
            let tokenized: HashMap<&str, u32> =
                tokenized.iter().map(|(t, &c)| (t.as_str(), c)).collect();
            assert_eq!(counts, tokenized, "{}", report.id);
            for &(t, _) in &profile.counts {
                df[t as usize] += 1;
            }
        }
        assert_eq!(df, similarity.df);
        let mut rare: HashMap<u32, Vec<usize>> = HashMap::new();
        for &slot in &live {
            for &(t, _) in &similarity.profile(slot).expect("live").counts {
                if df[t as usize] <= similarity.rare_df() {
                    rare.entry(t).or_default().push(slot);
                }
            }
        }
        let mut kept = similarity.rare.clone();
        for holders in kept.values_mut() {
            holders.sort_unstable();
        }
        assert_eq!(kept, rare);
        for (t, list) in similarity.holders.iter().enumerate() {
            let mut expected: Vec<(usize, f32)> = live
                .iter()
                .filter_map(|&s| {
                    let vector = &similarity.profile(s).expect("live").vector;
                    vector
                        .iter()
                        .find(|&&(term, _)| term as usize == t)
                        .map(|&(_, w)| (s, w))
                })
                .collect();
            expected.sort_by(|a, b| b.1.total_cmp(&a.1).then(position[a.0].cmp(&position[b.0])));
            assert_eq!(
                list,
                &expected,
                "list of {:?}",
                similarity.vocabulary.text(t as u32)
            );
        }
        let mut scratch = Scratch::new(similarity.profiles.len());
        for &slot in &live {
            let profile = similarity.profile(slot).expect("live");
            let best = similarity.rank(slot, &position, &mut scratch);
            let fresh = similarity.links(slot, best, reports, &position, None);
            let summary = |links: &[Link]| -> Vec<(String, f32, String)> {
                links
                    .iter()
                    .map(|l| {
                        (
                            similarity.profile(l.slot).expect("listed").id.clone(),
                            l.score,
                            l.reason.to_string(),
                        )
                    })
                    .collect()
            };
            assert_eq!(
                summary(&profile.related),
                summary(&fresh),
                "related to {}",
                profile.id
            );
            let bar = profile
                .related
                .get(LIMIT - 1)
                .map_or(MIN_SCORE, |l| l.score);
            assert_eq!(similarity.bar[slot], bar, "bar of {}", profile.id);
            let mut listers: Vec<usize> = live
                .iter()
                .copied()
                .filter(|&d| {
                    similarity
                        .profile(d)
                        .expect("live")
                        .related
                        .iter()
                        .any(|l| l.slot == slot)
                })
                .collect();
            let mut listed_by = similarity.listed_by[slot].clone();
            listers.sort_unstable();
            listed_by.sort_unstable();
            assert_eq!(listed_by, listers, "listers of {}", profile.id);
        }
    }

    #[test]
    fn build_gives_what_compute_gives() {
        let reports = site();
        let dir = tempfile::tempdir().expect("temp dir");
        crate::index::create(dir.path(), &reports).expect("index");
        let computed = compute(&open(dir.path()).expect("open"), &reports).expect("compute");
        let (similarity, built) =
            Similarity::build_from(&open(dir.path()).expect("open"), &reports).expect("build");
        assert_eq!(built, computed);
        assert_eq!(similarity.related(&reports), computed);
        // The pairs find each other, for the reason they share.
        assert_eq!(related_ids(&reports, &built, POOL)[0], CHECKOUT);
        assert_eq!(related_ids(&reports, &built, EDGE)[0], LOGIN);
        let reason = &built[position(&reports, POOL)][0].reason;
        assert!(
            reason.starts_with("same tag: database; both mention "),
            "{reason}"
        );
        assert_consistent(&similarity, &reports);
    }

    #[test]
    fn many_segments_give_what_one_gives() {
        // Each report in a segment of its own, in reverse order: the terms are met in another
        // order than in one segment, as while `rollbook build` merges them.
        let reports = site();
        let dir = tempfile::tempdir().expect("temp dir");
        let (schema, fields) = Fields::schema();
        let index = Index::create_in_dir(dir.path(), schema).expect("index");
        crate::analyzer::register(&index);
        let mut writer = index
            .writer_with_num_threads(1, 15_000_000)
            .expect("writer");
        writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
        for report in reports.iter().rev() {
            crate::index::add_report(&writer, &fields, report).expect("add");
            writer.commit().expect("commit");
        }
        let many = open(dir.path()).expect("open");
        assert_eq!(many.segment_readers().len(), reports.len());
        let from_many = compute(&many, &reports).expect("compute");
        let segments = index.searchable_segment_ids().expect("segments");
        writer.merge(&segments).wait().expect("merge");
        writer.wait_merging_threads().expect("merged");
        let one = open(dir.path()).expect("open");
        assert_eq!(one.segment_readers().len(), 1);
        assert_eq!(from_many, compute(&one, &reports).expect("compute"));
        let vocabulary = |searcher| read_counts(searcher, &reports).expect("counts").0.terms;
        assert_eq!(vocabulary(&many), vocabulary(&one));
    }

    #[test]
    fn surface_words_are_the_first_words_of_each_stem_as_written() {
        let report = report(
            "2024-01-01-a",
            "2024-01-01",
            "Migrations stalled",
            &[],
            "The MIGRATION locked the Überlastung table; replicas lagged, then lagging stopped.",
        );
        assert_eq!(
            surface_words(&report, &["migrat", "überlast", "lag", "happi"]),
            ["migrations", "überlastung", "lagged", "happi"],
            "the title first, then the text, lowercased; a stem no word starts with is itself"
        );
        assert!(starts_lowercased("MIGRATION", "migrat"));
        assert!(!starts_lowercased("mig", "migrat"));
        assert!(!starts_lowercased("Uberlast", "überlast"));
        assert!(starts_lowercased("ÜBERLAST", "überlast"));
    }

    #[test]
    fn tokenizing_gives_the_counts_of_the_postings() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut sites = vec![root.to_path_buf()];
        sites.extend(["basic", "search"].map(|name| root.join("tests/fixtures").join(name)));
        for site in sites {
            let config = Config::load(&site).unwrap_or_else(|_| panic!("{}", site.display()));
            let options = crate::analysis::Options {
                today: jiff::civil::date(2026, 1, 1),
                drafts: true,
                purpose: Purpose::Build,
            };
            let analysis =
                crate::analysis::analyze(&site, &config, &options, &crate::analysis::Hooks::NONE)
                    .expect("analysis");
            let reports = analysis.site.reports;
            assert!(reports.len() >= 4, "{}", site.display());
            let dir = tempfile::tempdir().expect("temp dir");
            crate::index::create(dir.path(), &reports).expect("index");
            let (vocabulary, counts) =
                read_counts(&open(dir.path()).expect("open"), &reports).expect("postings");
            let mut analyzer = crate::analyzer::analyzer();
            for (report, counts) in reports.iter().zip(&counts) {
                let from_postings: HashMap<String, u32> = counts
                    .iter()
                    .map(|&(t, c)| (vocabulary.text(t).to_string(), c))
                    .collect();
                let tokenized = term_frequencies(&mut analyzer, report);
                assert!(!tokenized.is_empty(), "{}", report.id);
                assert_eq!(tokenized, from_postings, "{}", report.id);
            }
        }
    }

    #[test]
    fn an_edit_that_makes_a_report_similar_to_another_relists_both() {
        let reports = site();
        let (mut similarity, before) = cold(&reports, Limits::default());
        assert!(!related_ids(&reports, &before, DISCOVERY).contains(&EDGE));
        assert!(!related_ids(&reports, &before, EDGE).contains(&DISCOVERY));

        let edited = replaced(&reports, discovery_about_certificates());
        let changed = similarity.update(&edited, &[DISCOVERY], &[]);
        let after = similarity.related(&edited);
        let (_, fresh) = cold(&edited, Limits::default());
        assert_eq!(
            related_ids(&edited, &after, DISCOVERY)[..2],
            [EDGE, LOGIN],
            "{after:?}"
        );
        assert_eq!(
            after[position(&edited, DISCOVERY)],
            fresh[position(&edited, DISCOVERY)]
        );
        // A small site is re-weighed whole: the same as a cold build, every list.
        assert_eq!(after, fresh);
        assert!(related_ids(&edited, &after, EDGE).contains(&DISCOVERY));
        for id in [DISCOVERY, EDGE, LOGIN] {
            assert!(changed.contains(id), "{id} in {changed:?}");
        }
        // Every report whose list changed is in the answer, and nothing else but those that
        // listed the edited report.
        for (i, report) in edited.iter().enumerate() {
            let old = &before[position(&reports, &report.id)];
            let listed_it = old.iter().any(|r| reports[r.report].id == DISCOVERY);
            let same = old.len() == after[i].len()
                && old.iter().zip(&after[i]).all(|(a, b)| {
                    reports[a.report].id == edited[b.report].id && a.reason == b.reason
                });
            assert_eq!(
                changed.contains(&report.id),
                !same || listed_it || report.id == DISCOVERY,
                "{}",
                report.id
            );
        }
        assert_consistent(&similarity, &edited);
    }

    #[test]
    fn a_removed_report_leaves_every_list() {
        let reports = site();
        let (mut similarity, before) = cold(&reports, Limits::default());
        let listers: Vec<&str> = reports
            .iter()
            .zip(&before)
            .filter(|(_, related)| related.iter().any(|r| reports[r.report].id == CHECKOUT))
            .map(|(report, _)| report.id.as_str())
            .collect();
        assert!(listers.contains(&POOL));

        let remaining: Vec<Report> = reports
            .iter()
            .filter(|r| r.id != CHECKOUT)
            .cloned()
            .collect();
        let changed = similarity.update(&remaining, &[], &[CHECKOUT]);
        let after = similarity.related(&remaining);
        for (report, related) in remaining.iter().zip(&after) {
            assert!(
                related.iter().all(|r| r.report < remaining.len()),
                "{}",
                report.id
            );
            assert!(!related_ids(&remaining, &after, &report.id).contains(&CHECKOUT));
        }
        for id in listers {
            assert!(changed.contains(id), "{id} in {changed:?}");
        }
        assert!(!changed.contains(CHECKOUT));
        assert_eq!(after, cold(&remaining, Limits::default()).1);
        assert_consistent(&similarity, &remaining);
    }

    #[test]
    fn an_added_report_is_ranked_and_listed() {
        let reports: Vec<Report> = site().into_iter().filter(|r| r.id != STAMPEDE).collect();
        let (mut similarity, before) = cold(&reports, Limits::default());
        assert!(!related_ids(&reports, &before, CART).is_empty());

        let all = site();
        let changed = similarity.update(&all, &[STAMPEDE], &[]);
        let after = similarity.related(&all);
        assert_eq!(related_ids(&all, &after, STAMPEDE)[0], CART);
        assert_eq!(related_ids(&all, &after, CART)[0], STAMPEDE);
        assert!(
            changed.contains(STAMPEDE) && changed.contains(CART),
            "{changed:?}"
        );
        assert_eq!(after, cold(&all, Limits::default()).1);
        assert_consistent(&similarity, &all);
    }

    #[test]
    fn an_update_without_changes_changes_nothing() {
        let reports = site();
        let (mut similarity, before) = cold(&reports, Limits::default());
        assert!(similarity.update(&reports, &[], &[]).is_empty());
        assert_eq!(similarity.related(&reports), before);
    }

    #[test]
    fn an_edit_that_moves_a_report_keeps_the_lists_in_site_order() {
        let reports = site();
        let (mut similarity, _) = cold(&reports, Limits::default());
        // Now the newest report: positions shift, slots do not.
        let moved = edge("2026-01-01");
        let edited = replaced(&reports, moved);
        assert_eq!(edited[0].id, EDGE);
        let changed = similarity.update(&edited, &[EDGE], &[]);
        assert!(
            changed.contains(EDGE) && changed.contains(LOGIN),
            "{changed:?}"
        );
        assert_eq!(
            similarity.related(&edited),
            cold(&edited, Limits::default()).1
        );
        assert_consistent(&similarity, &edited);
    }

    /// A report's vector by term text, to compare two states' vectors.
    fn vector_of(similarity: &Similarity, id: &str) -> Vec<(String, f32)> {
        let slot = similarity.slots[id];
        let profile = similarity.profile(slot).expect(id);
        profile
            .vector
            .iter()
            .map(|&(t, w)| (similarity.vocabulary.text(t).to_string(), w))
            .collect()
    }

    #[test]
    fn a_term_that_starts_relating_reports_reweighs_the_report_that_had_it() {
        // No re-weighing beyond what an update must, as on a large site.
        let limits = Limits {
            list: LIST_LIMIT,
            reweigh: 0,
        };
        let reports = site();
        let (mut similarity, _) = cold(&reports, limits);
        // Only the edge report mentions a rotation: the term relates nothing yet.
        assert!(
            !vector_of(&similarity, EDGE)
                .iter()
                .any(|(t, _)| t == "rotat")
        );

        let edited = replaced(&reports, discovery_about_certificates());
        similarity.update(&edited, &[DISCOVERY], &[]);
        let (fresh, _) = cold(&edited, limits);
        assert!(
            vector_of(&similarity, EDGE)
                .iter()
                .any(|(t, _)| t == "rotat")
        );
        assert_eq!(vector_of(&similarity, EDGE), vector_of(&fresh, EDGE));
        assert_eq!(
            vector_of(&similarity, DISCOVERY),
            vector_of(&fresh, DISCOVERY)
        );
        // The checkout report shares a more common term with the edit ("every"): it keeps
        // its old weights.
        assert_ne!(
            vector_of(&similarity, CHECKOUT),
            vector_of(&fresh, CHECKOUT)
        );
        assert_consistent(&similarity, &edited);
    }

    /// Words for generated reports: enough of them that reports share some and not others.
    const WORDS: [&str; 60] = [
        "connection",
        "pool",
        "exhausted",
        "certificate",
        "expired",
        "handshake",
        "redis",
        "cache",
        "stampede",
        "resolver",
        "coredns",
        "timeout",
        "deadlock",
        "transaction",
        "replica",
        "lag",
        "migration",
        "schema",
        "index",
        "rebuild",
        "latency",
        "queue",
        "backlog",
        "webhook",
        "consumer",
        "partition",
        "kafka",
        "broker",
        "rollback",
        "canary",
        "release",
        "feature",
        "flag",
        "promo",
        "cart",
        "checkout",
        "payment",
        "gateway",
        "proxy",
        "keepalive",
        "socket",
        "memory",
        "leak",
        "garbage",
        "collector",
        "thread",
        "starvation",
        "disk",
        "quota",
        "throttling",
        "retry",
        "storm",
        "circuit",
        "breaker",
        "dashboard",
        "alert",
        "pager",
        "runbook",
        "failover",
        "election",
    ];

    /// A report of `words` pseudo-random words drawn with `seed`, on day `day` of 2024.
    fn generated(id: &str, day: i16, seed: u64, words: usize) -> Report {
        let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            WORDS[(state % WORDS.len() as u64) as usize]
        };
        let title = format!("{} {} {}", next(), next(), next());
        let body: Vec<&str> = (0..words).map(|_| next()).collect();
        let date = jiff::civil::date(2024, 1, 1)
            .checked_add(jiff::Span::new().days(day))
            .expect("date");
        report(
            id,
            &date.to_string(),
            &title,
            &[],
            &format!("## Summary\n\n{}.", body.join(" ")),
        )
    }

    #[test]
    fn updates_with_stale_weights_still_rank_every_list_from_the_state() {
        // Three reports compared per term and no re-weighing beyond what an update must: what
        // a large site does, on sixty reports.
        let limits = Limits {
            list: 3,
            reweigh: 0,
        };
        let mut reports = ordered(
            (0..60)
                .map(|i| generated(&format!("r{i:02}"), i as i16, i, 12))
                .collect(),
        );
        let (mut similarity, _) = cold(&reports, limits);
        assert_consistent(&similarity, &reports);

        let mut partial = 0;
        for round in 0..12u64 {
            let id = format!("r{:02}", (round * 7) % 60);
            let (changed, removed): (Vec<String>, Vec<String>) = match round % 4 {
                // A new text (and, every other time, a new date that moves it).
                0 | 1 => {
                    let day = if round % 2 == 0 {
                        400 + round as i16
                    } else {
                        0
                    };
                    let edited = generated(&id, day, 1000 + round, 12);
                    reports = replaced(&reports, edited);
                    (vec![id], Vec::new())
                }
                2 => {
                    reports.retain(|r| r.id != id);
                    (Vec::new(), vec![id])
                }
                _ => {
                    let added = format!("new{round}");
                    reports = replaced(&reports, generated(&added, 200, 2000 + round, 12));
                    (vec![added], Vec::new())
                }
            };
            let changed: Vec<&str> = changed.iter().map(String::as_str).collect();
            let removed: Vec<&str> = removed.iter().map(String::as_str).collect();
            let answer = similarity.update(&reports, &changed, &removed);
            assert_consistent(&similarity, &reports);
            if answer.len() < reports.len() / 2 {
                partial += 1;
            }
        }
        // The shortcuts were taken: most updates ranked a few reports again, not all.
        assert!(partial >= 6, "{partial}");
    }

    /// How a state's lists differ from a cold build's of the same reports: lists whose
    /// reports or their order differ, lists whose set of reports differs, lists that differ in
    /// anything (reasons included).
    fn drift(similarity: &Similarity, reports: &[Report]) -> (usize, usize, usize) {
        let incremental = similarity.related(reports);
        let (_, fresh) = cold(reports, Limits::default());
        let ids = |related: &[Related]| related.iter().map(|r| r.report).collect::<Vec<_>>();
        let sorted = |related: &[Related]| {
            let mut ids = ids(related);
            ids.sort_unstable();
            ids
        };
        let pairs = || incremental.iter().zip(&fresh);
        (
            pairs().filter(|(a, b)| ids(a) != ids(b)).count(),
            pairs().filter(|(a, b)| sorted(a) != sorted(b)).count(),
            pairs().filter(|(a, b)| a != b).count(),
        )
    }

    /// Appends to the report at `at` a sentence of another report's title and summary.
    fn borrow_sentence(reports: &mut [Report], at: usize) -> String {
        let donor = (at + reports.len() / 2) % reports.len();
        let sentence = format!(
            "<p>See also: {} ({})</p>",
            reports[donor].meta.title, reports[donor].summary
        );
        reports[at].html.push_str(&sentence);
        reports[at].id.clone()
    }

    /// Times a cold build and single-report updates on a large site, and counts how far the
    /// updates drift from a cold build. Run on a generated corpus:
    /// `ROLLBOOK_BENCH_SITE=…/site-10000 cargo test --release --lib related::tests::measure -- --ignored --nocapture`
    #[test]
    #[ignore = "needs a large site in ROLLBOOK_BENCH_SITE; prints timings"]
    fn measure_on_a_large_site() {
        use std::time::Instant;
        let Some(root) = std::env::var_os("ROLLBOOK_BENCH_SITE").map(PathBuf::from) else {
            panic!("set ROLLBOOK_BENCH_SITE to a site root");
        };
        let config = Config::load(&root).unwrap_or_else(|_| panic!("{}", root.display()));
        let options = crate::analysis::Options {
            today: jiff::civil::date(2023, 11, 14),
            drafts: false,
            purpose: Purpose::Build,
        };
        let hooks = crate::analysis::Hooks::NONE;
        let site = crate::analysis::analyze(&root, &config, &options, &hooks).expect("analysis");
        let mut reports = site.site.reports;
        let n = reports.len();
        let index = tempfile::tempdir().expect("temp dir");
        crate::index::create(index.path(), &reports).expect("index");
        let millis = |start: Instant| start.elapsed().as_secs_f64() * 1000.0;

        for _ in 0..3 {
            let start = Instant::now();
            let computed = compute(&open(index.path()).expect("open"), &reports).expect("compute");
            let compute_ms = millis(start);
            let start = Instant::now();
            let (_, built) = Similarity::build_from(&open(index.path()).expect("open"), &reports)
                .expect("build");
            let build_ms = millis(start);
            assert_eq!(built, computed);
            eprintln!(
                "{n} reports: compute {compute_ms:.0} ms, Similarity::build_from {build_ms:.0} ms"
            );
        }
        let (mut similarity, _) =
            Similarity::build_from(&open(index.path()).expect("open"), &reports).expect("build");
        let entries: usize = similarity
            .profiles
            .iter()
            .flatten()
            .map(|p| p.counts.len())
            .sum();
        let long = similarity
            .holders
            .iter()
            .filter(|l| l.len() > LIST_LIMIT)
            .count();
        eprintln!(
            "vocabulary {} terms, {entries} (report, term) counts, {long} term lists longer than {LIST_LIMIT}",
            similarity.vocabulary.len()
        );
        let unlimited = Limits {
            list: LIST_LIMIT,
            reweigh: usize::MAX,
        };
        let (mut exact, _) =
            Similarity::build_with(&open(index.path()).expect("open"), &reports, unlimited)
                .expect("build");

        // One edit, against a cold build; and the same edit with no limit on re-weighing.
        let id = borrow_sentence(&mut reports, 13);
        let start = Instant::now();
        similarity.update(&reports, &[id.as_str()], &[]);
        let update_ms = millis(start);
        let start = Instant::now();
        exact.update(&reports, &[id.as_str()], &[]);
        let exact_ms = millis(start);
        let (order, sets, any) = drift(&similarity, &reports);
        eprintln!(
            "after one edit ({update_ms:.2} ms), against a cold build: {order} of {n} lists differ in reports or order, {sets} in reports, {any} in anything"
        );
        let (order, sets, any) = drift(&exact, &reports);
        eprintln!(
            "re-weighing every report the edit touched ({exact_ms:.0} ms): {order} lists differ in reports or order, {sets} in reports, {any} in anything"
        );

        // Edits: a sentence borrowed from another report's title and summary, appended.
        let mut times = Vec::new();
        for k in 1..21 {
            let at = (k * 997 + 13) % n;
            let id = borrow_sentence(&mut reports, at);
            let start = Instant::now();
            let changed = similarity.update(&reports, &[id.as_str()], &[]);
            let update_ms = millis(start);
            let start = Instant::now();
            let related = similarity.related(&reports);
            let related_ms = millis(start);
            times.push(update_ms);
            eprintln!(
                "edit {id}: update {update_ms:.2} ms ({} lists to render), related() {related_ms:.1} ms, {} related",
                changed.len(),
                related[at].len()
            );
        }
        times.sort_by(f64::total_cmp);
        eprintln!(
            "update after one edit: median {:.2} ms, max {:.2} ms over {} edits",
            times[times.len() / 2],
            times[times.len() - 1],
            times.len()
        );

        let removed = reports.remove(n / 3);
        let start = Instant::now();
        let changed = similarity.update(&reports, &[], &[removed.id.as_str()]);
        eprintln!(
            "remove {}: update {:.2} ms ({} lists to render)",
            removed.id,
            millis(start),
            changed.len()
        );
        let mut added = removed.clone();
        added.id = format!("{}-again", removed.id);
        reports.insert(n / 3, added);
        let start = Instant::now();
        let changed = similarity.update(&reports, &[reports[n / 3].id.as_str()], &[]);
        eprintln!(
            "add {}: update {:.2} ms ({} lists to render)",
            reports[n / 3].id,
            millis(start),
            changed.len()
        );

        let (order, sets, any) = drift(&similarity, &reports);
        eprintln!(
            "after 23 updates, against a cold build: {order} of {} lists differ in reports or order, {sets} in reports, {any} in anything",
            reports.len()
        );
    }
}
