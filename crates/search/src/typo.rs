//! Words with typos: the Levenshtein automaton that tantivy's fuzzy queries walk the
//! dictionary with, made here so that the browser engine can read ahead what such a query
//! reads, and queries over sections can find the same words.

use std::sync::OnceLock;

use levenshtein_automata::{DFA, Distance, LevenshteinAutomatonBuilder};
use tantivy_fst::Automaton;

/// A Levenshtein automaton over the dictionary's bytes, as tantivy's fuzzy query's
/// (`tantivy::query::DfaWrapper`, which cannot be made outside tantivy).
pub struct Levenshtein(DFA);

impl Levenshtein {
    /// The words at most `distance` typos (at most 2) from `word`; a transposition is one.
    pub fn new(word: &str, distance: u8) -> Levenshtein {
        Levenshtein(builder(distance).build_dfa(word))
    }
}

/// The automaton builder for words `distance` typos away (at most 2), made once: making one
/// takes longer than making an automaton with it.
fn builder(distance: u8) -> &'static LevenshteinAutomatonBuilder {
    static BUILDERS: [OnceLock<LevenshteinAutomatonBuilder>; 3] = [const { OnceLock::new() }; 3];
    let distance = distance.min(2);
    BUILDERS[usize::from(distance)].get_or_init(|| LevenshteinAutomatonBuilder::new(distance, true))
}

impl Automaton for Levenshtein {
    type State = u32;

    fn start(&self) -> u32 {
        self.0.initial_state()
    }

    fn is_match(&self, state: &u32) -> bool {
        matches!(self.0.distance(*state), Distance::Exact(_))
    }

    fn can_match(&self, state: &u32) -> bool {
        *state != levenshtein_automata::SINK_STATE
    }

    fn accept(&self, state: &u32, byte: u8) -> u32 {
        self.0.transition(*state, byte)
    }
}
