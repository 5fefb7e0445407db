//! Recognises report sections from heading text, by configurable synonyms.
//!
//! Headings vary between teams ("4.3. Corrective Actions", "Action Items & Follow-ups",
//! "Root Cause (Initial)"), so both sides are normalised before comparing: case, numbering,
//! trailing qualifiers in brackets and punctuation are ignored.

use std::collections::HashMap;

use crate::model::SectionKind;

/// Heading synonyms for every section kind.
#[derive(Debug, Clone)]
pub struct Synonyms {
    exact: HashMap<String, SectionKind>,
    /// Longest first, for "starts with a synonym" matches such as "Timeline of events".
    by_length: Vec<(String, SectionKind)>,
}

impl Default for Synonyms {
    fn default() -> Self {
        Synonyms::new(&[])
    }
}

impl Synonyms {
    /// The defaults of DESIGN.md §3 plus extra headings per kind from `rollbook.toml`.
    /// Extra headings win over defaults when both name the same text.
    pub fn new(extra: &[(SectionKind, String)]) -> Self {
        let mut exact = HashMap::new();
        for kind in SectionKind::ALL {
            for heading in kind.default_headings() {
                exact.insert(normalize(heading), kind);
            }
        }
        for (kind, heading) in extra {
            let key = normalize(heading);
            if !key.is_empty() {
                exact.insert(key, *kind);
            }
        }
        let mut by_length: Vec<(String, SectionKind)> =
            exact.iter().map(|(k, v)| (k.clone(), *v)).collect();
        by_length.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        Synonyms { exact, by_length }
    }

    /// The section a heading starts, if it is one rollbook knows.
    ///
    /// ```
    /// use rollbook::model::SectionKind;
    /// use rollbook::sections::Synonyms;
    /// let synonyms = Synonyms::default();
    /// assert_eq!(synonyms.classify("4.3. Corrective Actions"), Some(SectionKind::Actions));
    /// assert_eq!(synonyms.classify("Root Cause (Initial)"), Some(SectionKind::RootCause));
    /// assert_eq!(synonyms.classify("Appendix"), None);
    /// ```
    pub fn classify(&self, heading: &str) -> Option<SectionKind> {
        let key = normalize(heading);
        if key.is_empty() {
            return None;
        }
        if let Some(kind) = self.exact.get(&key) {
            return Some(*kind);
        }
        self.by_length.iter().find_map(|(synonym, kind)| {
            let rest = key.strip_prefix(synonym.as_str())?;
            rest.starts_with(' ').then_some(*kind)
        })
    }
}

/// A heading without its leading numbering: "4.3.", "4.3", "IV.", "1)", "A." and the like.
pub fn strip_numbering(heading: &str) -> &str {
    let text = heading.trim();
    let Some((first, rest)) = text.split_once(char::is_whitespace) else {
        return text;
    };
    let bare = first.trim_end_matches(['.', ')', ':']);
    let marked = first.len() > bare.len();
    let is_number = !bare.is_empty()
        && (bare.chars().all(|c| c.is_ascii_digit() || c == '.')
            || (marked && bare.len() <= 4 && bare.chars().all(|c| "ivxlcIVXLC".contains(c)))
            || (marked && bare.len() == 1 && bare.chars().all(|c| c.is_ascii_alphabetic())));
    if is_number { rest.trim_start() } else { text }
}

/// Lowercase words of a heading without numbering, bracketed qualifiers or punctuation.
pub fn normalize(heading: &str) -> String {
    let mut text = strip_numbering(heading);
    // Trailing qualifiers: "(Initial)", "[draft]".
    loop {
        let trimmed = text.trim_end().trim_end_matches(':').trim_end();
        let stripped = if trimmed.ends_with(')') {
            trimmed.rfind('(').map(|i| &trimmed[..i])
        } else if trimmed.ends_with(']') {
            trimmed.rfind('[').map(|i| &trimmed[..i])
        } else {
            None
        };
        match stripped {
            Some(s) if !s.trim().is_empty() => text = s,
            _ => {
                text = trimmed;
                break;
            }
        }
    }
    let mut out = String::with_capacity(text.len());
    for word in text
        .replace('&', " and ")
        .split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(
            word.chars()
                .filter(|c| *c != '\'')
                .flat_map(char::to_lowercase),
        );
    }
    // "TL;DR" and "TLDR" are the same heading.
    if out == "tl dr" {
        out = "tldr".to_string();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(heading: &str) -> Option<SectionKind> {
        Synonyms::default().classify(heading)
    }

    #[test]
    fn numbering_qualifiers_and_case_are_ignored() {
        assert_eq!(kind("4.3. Corrective Actions"), Some(SectionKind::Actions));
        assert_eq!(kind("4.3 corrective actions"), Some(SectionKind::Actions));
        assert_eq!(kind("Root Cause (Initial)"), Some(SectionKind::RootCause));
        assert_eq!(kind("Root Cause(s)"), Some(SectionKind::RootCause));
        assert_eq!(kind("IV. Lessons Learned"), Some(SectionKind::Lessons));
        assert_eq!(kind("LESSONS LEARNT:"), Some(SectionKind::Lessons));
        assert_eq!(kind("TL;DR"), Some(SectionKind::Summary));
        assert_eq!(kind("1) Executive Summary"), Some(SectionKind::Summary));
    }

    #[test]
    fn every_default_synonym_is_recognised() {
        for k in SectionKind::ALL {
            for heading in k.default_headings() {
                assert_eq!(kind(heading), Some(k), "{heading}");
            }
        }
    }

    #[test]
    fn ampersand_and_hyphen_variants_match() {
        assert_eq!(
            kind("Action Items and Follow-ups"),
            Some(SectionKind::Actions)
        );
        assert_eq!(
            kind("Action items & follow ups"),
            Some(SectionKind::Actions)
        );
        assert_eq!(kind("2.3. Impact Assessment"), Some(SectionKind::Impact));
        assert_eq!(kind("Summary of Impact"), Some(SectionKind::Impact));
    }

    #[test]
    fn a_heading_that_starts_with_a_synonym_matches_it() {
        assert_eq!(kind("Timeline of events"), Some(SectionKind::Timeline));
        assert_eq!(
            kind("Lessons learned and next steps"),
            Some(SectionKind::Lessons)
        );
    }

    #[test]
    fn unrelated_headings_are_not_sections() {
        assert_eq!(kind("Appendix"), None);
        assert_eq!(kind("Severity Level"), None);
        assert_eq!(kind("Impactful changes"), None);
        assert_eq!(kind("4.2."), None);
    }

    #[test]
    fn configured_synonyms_are_recognised() {
        let s = Synonyms::new(&[(SectionKind::Lessons, "Retro notes".into())]);
        assert_eq!(s.classify("3. Retro Notes"), Some(SectionKind::Lessons));
    }
}
