//! The CI set-ups in the README are valid YAML of the right shape, and every `rollbook`
//! command in them is one that rollbook's own argument parser accepts.

use clap::Parser;
use rollbook::cli::Cli;
use yaml_rust2::{Yaml, YamlLoader};

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README.md")
}

/// The fenced `yaml` block whose first line is `# NAME`.
fn yaml_block(readme: &str, name: &str) -> Yaml {
    let first = format!("```yaml\n# {name}\n");
    let start = readme
        .find(&first)
        .unwrap_or_else(|| panic!("the README has no yaml block starting with `# {name}`"));
    let body = &readme[start + "```yaml\n".len()..];
    let end = body.find("\n```").expect("closing fence");
    let mut docs = YamlLoader::load_from_str(&body[..end])
        .unwrap_or_else(|e| panic!("{name} in the README is not valid YAML: {e}"));
    assert_eq!(docs.len(), 1, "{name}: one YAML document");
    docs.remove(0)
}

fn get<'y>(yaml: &'y Yaml, key: &str) -> &'y Yaml {
    &yaml[key]
}

/// Shell words of a command line: quotes grouped, `${{ … }}` and `$VAR` kept as words.
fn words(command: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut started = false;
    for c in command.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                started = true;
            }
            (None, c) if c.is_whitespace() => {
                if started || !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            (None, c) => word.push(c),
        }
    }
    if started || !word.is_empty() {
        out.push(word);
    }
    out
}

/// Every `rollbook …` command in a list of shell lines, split at `||`, `&&` and `;`.
fn rollbook_commands(lines: &[String]) -> Vec<Vec<String>> {
    lines
        .iter()
        .flat_map(|line| line.lines().map(str::to_string).collect::<Vec<_>>())
        .flat_map(|line| {
            line.split("||")
                .flat_map(|p| p.split("&&"))
                .flat_map(|p| p.split(';'))
                .map(|p| p.trim().to_string())
                .collect::<Vec<_>>()
        })
        .filter(|c| c.starts_with("rollbook "))
        .map(|c| words(&c))
        .collect()
}

fn assert_parses(commands: &[Vec<String>], file: &str) {
    for args in commands {
        if let Err(e) = Cli::try_parse_from(args) {
            panic!(
                "{file}: `{}` is not a valid rollbook command:\n{e}",
                args.join(" ")
            );
        }
    }
}

fn strings(yaml: &Yaml) -> Vec<String> {
    match yaml {
        Yaml::String(s) => vec![s.clone()],
        Yaml::Array(items) => items.iter().flat_map(strings).collect(),
        _ => Vec::new(),
    }
}

#[test]
fn the_github_actions_workflow_is_valid_and_calls_real_commands() {
    let file = ".github/workflows/rollbook.yml";
    let workflow = yaml_block(&readme(), file);
    assert!(!get(&workflow, "on").is_badvalue(), "{file}: `on`");
    let jobs = get(&workflow, "jobs").as_hash().expect("jobs");
    assert!(jobs.len() >= 2, "{file}: a check job and a publish job");
    let mut runs = Vec::new();
    for (name, job) in jobs {
        assert!(
            get(job, "runs-on").as_str().is_some(),
            "{file}: job {name:?} has runs-on"
        );
        let steps = get(job, "steps").as_vec().expect("steps");
        for step in steps {
            let uses = get(step, "uses").as_str();
            let run = get(step, "run").as_str();
            assert!(
                uses.is_some() != run.is_some(),
                "{file}: each step has exactly one of uses/run: {step:?}"
            );
            runs.extend(run.map(str::to_string));
        }
    }
    let commands = rollbook_commands(&runs);
    assert_parses(&commands, file);
    let shown: Vec<String> = commands.iter().map(|c| c.join(" ")).collect();
    assert!(
        shown.iter().any(|c| c == "rollbook check --format github"),
        "{shown:?}"
    );
    assert!(
        shown.iter().any(|c| c.starts_with("rollbook build")),
        "{shown:?}"
    );
    // The install step names this package.
    assert!(
        runs.iter()
            .any(|r| r.contains("cargo install") && r.trim_end().ends_with(env!("CARGO_PKG_NAME"))),
        "{runs:?}"
    );
}

#[test]
fn the_gitlab_pipeline_is_valid_and_calls_real_commands() {
    let file = ".gitlab-ci.yml";
    let pipeline = yaml_block(&readme(), file);
    let mut lines = Vec::new();
    let top = pipeline.as_hash().expect("a mapping");
    for (name, job) in top {
        lines.extend(strings(get(job, "script")));
        lines.extend(strings(get(job, "before_script")));
        if name.as_str() == Some("pages") {
            assert_eq!(
                strings(get(get(job, "artifacts"), "paths")),
                ["public"],
                "GitLab Pages publishes the `public` artifact of the `pages` job"
            );
        }
    }
    assert!(
        !get(&pipeline, "pages").is_badvalue(),
        "{file}: a `pages` job"
    );
    let commands = rollbook_commands(&lines);
    assert_parses(&commands, file);
    assert!(commands.len() >= 3, "{commands:?}");
}

#[test]
fn words_group_quotes() {
    assert_eq!(
        words("rollbook build --base-url \"$CI_PAGES_URL/\""),
        ["rollbook", "build", "--base-url", "$CI_PAGES_URL/"]
    );
    assert_eq!(words("a '' b"), ["a", "", "b"]);
}
