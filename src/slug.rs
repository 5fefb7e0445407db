//! URL- and anchor-safe slugs, and unique ids within one page.

use std::collections::HashSet;

/// Lowercase ASCII letters and digits joined by single hyphens; other letters are kept
/// (lowercased) so that non-English terms still give distinct, readable slugs.
///
/// ```
/// use rollbook::slug::slugify;
/// assert_eq!(slugify("Payments API"), "payments-api");
/// assert_eq!(slugify("4.3. Corrective Actions"), "4-3-corrective-actions");
/// ```
pub fn slugify(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_hyphen = false;
    for c in text.chars() {
        if c.is_alphanumeric() {
            if pending_hyphen && !out.is_empty() {
                out.push('-');
            }
            pending_hyphen = false;
            // Most slugs are ASCII: `to_lowercase`'s iterator cost more than the rest.
            if c.is_ascii() {
                out.push(c.to_ascii_lowercase());
            } else {
                out.extend(c.to_lowercase());
            }
        } else {
            pending_hyphen = true;
        }
    }
    if out.is_empty() {
        out.push('_');
    }
    out
}

/// A slug of at most `max_words` words of `text`, for lesson and action anchors.
pub fn short_slug(text: &str, max_words: usize) -> String {
    let words: Vec<&str> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(max_words)
        .collect();
    slugify(&words.join(" "))
}

/// A file name as it must appear in a URL: characters with a meaning in URLs are
/// percent-encoded, everything else (letters of any script, digits, `-_.~`) is kept.
pub fn escape_path_segment(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '~') {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for byte in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    out
}

/// Hands out ids that are unique within one page: `x`, `x-2`, `x-3`…
#[derive(Default)]
pub struct UniqueIds {
    taken: HashSet<String>,
}

impl UniqueIds {
    pub fn claim(&mut self, wanted: &str) -> String {
        if self.taken.insert(wanted.to_string()) {
            return wanted.to_string();
        }
        let mut n = 2;
        loop {
            let candidate = format!("{wanted}-{n}");
            if self.taken.insert(candidate.clone()) {
                return candidate;
            }
            n += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_lowercase_and_hyphenated() {
        assert_eq!(slugify("Payments API"), "payments-api");
        assert_eq!(
            slugify("  4.3. Corrective Actions!"),
            "4-3-corrective-actions"
        );
        assert_eq!(slugify("Zürich DC"), "zürich-dc");
        assert_eq!(slugify("ÉTAT Major"), "état-major");
        assert_eq!(slugify("***"), "_");
    }

    #[test]
    fn path_segments_escape_url_syntax_only() {
        assert_eq!(
            escape_path_segment("2024-01-26-checkout"),
            "2024-01-26-checkout"
        );
        assert_eq!(escape_path_segment("a b#c?"), "a%20b%23c%3F");
        assert_eq!(escape_path_segment("zürich"), "zürich");
        assert_eq!(escape_path_segment("a-b_c.d~e/f"), "a-b_c.d~e%2Ff");
    }

    #[test]
    fn unique_ids_count_up() {
        let mut ids = UniqueIds::default();
        assert_eq!(ids.claim("impact"), "impact");
        assert_eq!(ids.claim("impact"), "impact-2");
        assert_eq!(ids.claim("impact"), "impact-3");
    }

    #[test]
    fn short_slug_takes_leading_words() {
        assert_eq!(
            short_slug("Alert when the 5xx ratio exceeds 1% for long", 6),
            "alert-when-the-5xx-ratio-exceeds"
        );
    }
}
