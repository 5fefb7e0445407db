//! `rollbook.toml` → `Config`. The file is optional and every key has a default.

use std::path::{Path, PathBuf};

use toml::de::DeTable;

use crate::diagnostic::{Diagnostic, LineIndex, Severity};
use crate::fields::Reader;
use crate::lint::Phrases;
use crate::model::SectionKind;
use crate::rules::{self, Level, Levels, RULES};
use crate::sections::Synonyms;

pub const FILE_NAME: &str = "rollbook.toml";

#[derive(Debug, Clone)]
pub struct Config {
    pub title: String,
    pub description: String,
    /// Absolute URL of the published site, ending in `/`, or empty when unknown.
    pub base_url: String,
    pub output_dir: PathBuf,
    /// Valid severities, most severe first.
    pub severities: Vec<String>,
    pub unsafe_html: bool,
    /// Items per page on list pages.
    pub paginate: usize,
    pub synonyms: Synonyms,
    /// `[rules]`: warnings switched off or raised to errors.
    pub rules: Levels,
    /// `[check] blameful_phrases`: wording the `blameful-language` rule flags.
    pub blameful_phrases: Phrases,
}

/// Wording that puts the blame on people. Postmortems describe the system conditions that
/// made a mistake possible; these phrases usually mean that a report does not.
pub const BLAMEFUL_PHRASES: [&str; 12] = [
    "human error",
    "should have known",
    "should have caught",
    "should have noticed",
    "careless",
    "carelessness",
    "negligence",
    "fault of",
    "'s fault",
    "blame",
    "blamed",
    "to blame",
];

impl Default for Config {
    fn default() -> Self {
        Config {
            title: "Rollback reports".to_string(),
            description: String::new(),
            base_url: String::new(),
            output_dir: PathBuf::from("public"),
            severities: ["critical", "high", "medium", "low"]
                .map(String::from)
                .to_vec(),
            unsafe_html: false,
            paginate: 50,
            synonyms: Synonyms::default(),
            rules: Levels::default(),
            blameful_phrases: Phrases::new(BLAMEFUL_PHRASES.map(String::from).to_vec()),
        }
    }
}

const KEYS: [&str; 10] = [
    "title",
    "description",
    "base_url",
    "output_dir",
    "severities",
    "unsafe_html",
    "paginate",
    "sections",
    "rules",
    "check",
];

impl Config {
    /// Reads `rollbook.toml` from the site root, or the defaults when there is none.
    /// `display_root` is how the root is named in messages.
    pub fn load(root: &Path) -> Result<Config, Vec<Diagnostic>> {
        let path = root.join(FILE_NAME);
        let shown = PathBuf::from(FILE_NAME);
        let text = match std::fs::read(&path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => text,
                Err(_) => {
                    return Err(vec![
                        Diagnostic::file_error(
                            &shown,
                            "not-utf8",
                            "rollbook.toml is not valid UTF-8",
                        )
                        .with_help("save the file as UTF-8"),
                    ]);
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(e) => {
                return Err(vec![Diagnostic::file_error(
                    &shown,
                    "unreadable-file",
                    format!("cannot read rollbook.toml: {e}"),
                )]);
            }
        };
        Config::parse(&text, &shown)
    }

    pub fn parse(text: &str, shown: &Path) -> Result<Config, Vec<Diagnostic>> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let index = LineIndex::new(text);
        let mut reader = Reader::new(&index, shown, 0);
        let mut config = Config::default();
        let Some(table) = reader.parse(text) else {
            return Err(reader.diagnostics);
        };
        reader.check_keys(&table, &KEYS, "rollbook.toml");
        let mut extra_synonyms = Vec::new();
        for (key, value) in table.iter() {
            match key.get_ref().as_ref() {
                "title" => config.title = reader.string("title", value).unwrap_or(config.title),
                "description" => {
                    config.description = reader.string("description", value).unwrap_or_default()
                }
                "base_url" => {
                    if let Some(url) = reader.string("base_url", value) {
                        config.base_url = normalize_base_url(&url);
                    }
                }
                "output_dir" => {
                    if let Some(dir) = reader.string("output_dir", value) {
                        config.output_dir = PathBuf::from(dir);
                    }
                }
                "severities" => {
                    if let Some(list) = reader.string_list("severities", value) {
                        if list.is_empty() {
                            reader.error(
                                value.span(),
                                "wrong-type",
                                "`severities` must name at least one severity",
                                Some(
                                    "severities = [\"critical\", \"high\", \"medium\", \"low\"]"
                                        .into(),
                                ),
                            );
                        } else {
                            config.severities = list;
                        }
                    }
                }
                "unsafe_html" => {
                    config.unsafe_html = reader.boolean("unsafe_html", value).unwrap_or(false)
                }
                "paginate" => {
                    if let Some(n) = reader.positive_integer("paginate", value) {
                        config.paginate = n;
                    }
                }
                "sections" => {
                    let Some(sections) = reader.table("sections", value) else {
                        continue;
                    };
                    let kinds: Vec<&str> = SectionKind::ALL.iter().map(|k| k.name()).collect();
                    reader.check_keys(sections, &kinds, "[sections]");
                    for (name, headings) in sections.iter() {
                        let Some(kind) = SectionKind::from_name(name.get_ref()) else {
                            continue;
                        };
                        for heading in reader
                            .string_list(name.get_ref(), headings)
                            .unwrap_or_default()
                        {
                            extra_synonyms.push((kind, heading));
                        }
                    }
                }
                "rules" => {
                    if let Some(rules) = reader.table("rules", value) {
                        read_rules(&mut reader, rules, &mut config.rules);
                    }
                }
                "check" => {
                    let Some(check) = reader.table("check", value) else {
                        continue;
                    };
                    reader.check_keys(check, &["blameful_phrases"], "[check]");
                    if let Some(phrases) = check.get("blameful_phrases")
                        && let Some(list) = reader.string_list("blameful_phrases", phrases)
                    {
                        config.blameful_phrases = Phrases::new(
                            list.into_iter()
                                .map(|p| p.trim().to_string())
                                .filter(|p| !p.is_empty())
                                .collect(),
                        );
                    }
                }
                _ => {}
            }
        }
        config.synonyms = Synonyms::new(&extra_synonyms);
        if reader.diagnostics.is_empty() {
            Ok(config)
        } else {
            Err(reader.diagnostics)
        }
    }

    pub fn set_base_url(&mut self, url: &str) {
        self.base_url = normalize_base_url(url);
    }
}

/// `[rules]`: `rule-id = "off" | "warning" | "error"` for warnings; errors stay errors.
fn read_rules(reader: &mut Reader<'_>, table: &DeTable<'_>, levels: &mut Levels) {
    let ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
    reader.check_keys(table, &ids, "[rules]");
    for (key, value) in table.iter() {
        let Some(rule) = rules::find(key.get_ref()) else {
            continue;
        };
        let Some(name) = reader.one_of(rule.id, value, &Level::NAMES, "wrong-type") else {
            continue;
        };
        let Some(level) = Level::from_name(&name) else {
            continue;
        };
        if rule.default == Severity::Error && level != Level::Error {
            reader.error(
                value.span(),
                "wrong-type",
                format!("`{}` is an error and cannot be set to \"{name}\"", rule.id),
                Some("errors stop the build because the site cannot be built right; only warnings can be switched off or raised".into()),
            );
            continue;
        }
        levels.set(rule, level);
    }
}

fn normalize_base_url(url: &str) -> String {
    let url = url.trim();
    if url.is_empty() || url.ends_with('/') {
        url.to_string()
    } else {
        format!("{url}/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_defaults() {
        let config = Config::parse("", Path::new("rollbook.toml")).expect("valid");
        assert_eq!(config.paginate, 50);
        assert_eq!(config.severities, ["critical", "high", "medium", "low"]);
        assert!(!config.unsafe_html);
    }

    #[test]
    fn keys_are_read_and_base_url_gets_a_slash() {
        let text = "title = \"SRE KB\"\nbase_url = \"https://kb.example.com/sre\"\npaginate = 20\nunsafe_html = true\n[sections]\nlessons = [\"Retro notes\"]\n";
        let config = Config::parse(text, Path::new("rollbook.toml")).expect("valid");
        assert_eq!(config.title, "SRE KB");
        assert_eq!(config.base_url, "https://kb.example.com/sre/");
        assert_eq!(config.paginate, 20);
        assert!(config.unsafe_html);
        assert_eq!(
            config.synonyms.classify("Retro Notes"),
            Some(SectionKind::Lessons)
        );
    }

    #[test]
    fn rules_switch_warnings_off_or_raise_them() {
        let text = "[rules]\nmissing-actions = \"off\"\nblameful-language = \"error\"\n[check]\nblameful_phrases = [\"Dropped the ball\"]\n";
        let config = Config::parse(text, Path::new("rollbook.toml")).expect("valid");
        assert!(config.rules.is_off("missing-actions"));
        assert!(!config.rules.is_off("blameful-language"));
        assert_eq!(config.blameful_phrases.list(), ["Dropped the ball"]);
        assert_eq!(
            config.blameful_phrases.find("We DROPPED the ball."),
            [(3, 19)]
        );
    }

    #[test]
    fn errors_cannot_be_lowered_and_rule_names_are_checked() {
        let text =
            "[rules]\nbroken-link = \"off\"\nmissing-action = \"off\"\noverdue-action = \"loud\"\n";
        let errors = Config::parse(text, Path::new("rollbook.toml")).expect_err("invalid");
        let found: Vec<(&str, usize)> = errors.iter().map(|d| (d.rule, d.line)).collect();
        assert_eq!(
            found,
            [("unknown-key", 3), ("wrong-type", 2), ("wrong-type", 4)],
            "{errors:#?}"
        );
        assert_eq!(
            errors[0].help.as_deref(),
            Some("did you mean `missing-actions`?")
        );
    }

    #[test]
    fn every_problem_is_reported_with_its_position() {
        let text = "titel = \"x\"\npaginate = 0\n[sections]\nlesons = [\"x\"]\n";
        let errors = Config::parse(text, Path::new("rollbook.toml")).expect_err("invalid");
        let found: Vec<(&str, usize, usize)> =
            errors.iter().map(|d| (d.rule, d.line, d.column)).collect();
        assert!(found.contains(&("unknown-key", 1, 1)), "{found:?}");
        assert!(found.contains(&("wrong-type", 2, 12)), "{found:?}");
        assert!(found.contains(&("unknown-key", 4, 1)), "{found:?}");
        let titel = errors.iter().find(|d| d.line == 1).expect("titel");
        assert_eq!(titel.help.as_deref(), Some("did you mean `title`?"));
    }
}
