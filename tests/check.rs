//! `rollbook check`: one fixture per rule (failing and clean), the three output formats against
//! golden files, every problem of a site in one run, exit codes, and `build` failing on
//! exactly the errors `check` reports.

mod common;

use std::path::Path;

use common::{Run, TestSite};
use serde_json::Value;

/// Where each rule's fixture is checked: `content/2025-06-01-checkout.md`.
const REPORT: &str = "content/2025-06-01-checkout.md";

fn fixture(path: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/rules")
        .join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// A site with the two reports the rule fixtures link to (a published one and a draft).
fn rules_site() -> TestSite {
    let site = TestSite::empty();
    site.write("content/other.md", &fixture("other.md"));
    site.write("content/draft.md", &fixture("draft.md"));
    site
}

fn check_json(site: &TestSite, args: &[&str]) -> (Run, Value) {
    let mut all = vec!["check", "--format", "json"];
    all.extend_from_slice(args);
    let run = site.run(&all);
    let json: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| {
        panic!(
            "check --format json printed invalid JSON ({e}):\n{}",
            run.stdout
        )
    });
    (run, json)
}

/// (rule, line, column) of every diagnostic about `file`.
fn found_in(json: &Value, file: &str) -> Vec<(String, u64, u64)> {
    json["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["file"] == file)
        .map(|d| {
            (
                d["rule"].as_str().expect("rule").to_string(),
                d["line"].as_u64().expect("line"),
                d["column"].as_u64().expect("column"),
            )
        })
        .collect()
}

/// Each rule's failing fixture: the rule, line and column it must be reported at. Each
/// fixture has exactly one problem, so nothing else may be reported about it.
const RULE_FIXTURES: [(&str, &str, u64, u64); 24] = [
    ("missing-front-matter", "missing-front-matter/bad.md", 1, 1),
    (
        "unclosed-front-matter",
        "unclosed-front-matter/bad.md",
        1,
        1,
    ),
    ("toml-syntax", "toml-syntax/bad.md", 4, 17),
    ("unknown-key", "unknown-key/bad.md", 8, 1),
    ("wrong-type", "wrong-type/bad.md", 7, 12),
    ("bad-date", "bad-date/bad.md", 3, 8),
    ("missing-key", "missing-key/bad.md", 1, 1),
    ("unknown-severity", "unknown-severity/bad.md", 4, 12),
    ("unknown-status", "unknown-status/bad.md", 5, 10),
    ("unknown-response", "unknown-response/bad.md", 6, 12),
    ("unknown-outcome", "unknown-outcome/bad.md", 13, 11),
    ("timeline-order", "timeline-order/bad.md", 12, 9),
    ("broken-link", "broken-link/bad.md", 30, 66),
    ("broken-anchor", "broken-anchor/bad.md", 30, 66),
    ("link-to-draft", "link-to-draft/bad.md", 30, 66),
    ("action-due-date", "action-due-date/bad.md", 26, 1),
    ("missing-lessons", "missing-lessons/bad.md", 1, 1),
    ("missing-lessons", "missing-lessons/empty.md", 28, 1),
    ("missing-actions", "missing-actions/bad.md", 1, 1),
    ("action-without-owner", "action-without-owner/bad.md", 26, 7),
    ("overdue-action", "overdue-action/bad.md", 26, 7),
    ("severity-mismatch", "severity-mismatch/bad.md", 22, 1),
    ("placeholder-text", "placeholder-text/bad.md", 18, 1),
    ("blameful-language", "blameful-language/bad.md", 18, 89),
];

#[test]
fn each_rule_reports_its_fixture_at_the_right_place_and_passes_the_clean_one() {
    for (rule, bad, line, column) in RULE_FIXTURES {
        let site = rules_site();
        site.write(REPORT, &fixture(bad));
        let (run, json) = check_json(&site, &[]);
        assert_eq!(
            found_in(&json, REPORT),
            [(rule.to_string(), line, column)],
            "{bad}\n{}",
            run.stdout
        );
        let is_error = rollbook::rules::find(rule)
            .is_some_and(|r| r.default == rollbook::diagnostic::Severity::Error);
        run.assert_code(if is_error { 1 } else { 0 });

        let good = bad.split('/').next().map(|dir| format!("{dir}/good.md"));
        let good = good.expect("fixture dir");
        let site = rules_site();
        site.write(REPORT, &fixture(&good));
        let (run, json) = check_json(&site, &["--deny-warnings"]);
        assert_eq!(found_in(&json, REPORT), [], "{good}\n{}", run.stdout);
        run.assert_code(0);
    }
}

#[test]
fn rules_that_need_more_than_one_file() {
    let report = fixture("other.md");

    // duplicate-id: the same file name in two folders.
    let site = TestSite::empty();
    site.write("content/2024/2025-06-01-checkout.md", &report);
    site.write("content/2025/2025-06-01-checkout.md", &report);
    let (run, json) = check_json(&site, &[]);
    run.assert_code(1);
    assert_eq!(
        found_in(&json, "content/2025/2025-06-01-checkout.md"),
        [("duplicate-id".to_string(), 1, 1)]
    );
    site.remove("content/2025/2025-06-01-checkout.md");
    check_json(&site, &["--deny-warnings"]).0.assert_code(0);

    // reserved-id: a report named like a list page.
    let site = TestSite::empty();
    site.write("content/index.md", &report);
    let (run, json) = check_json(&site, &[]);
    run.assert_code(1);
    assert_eq!(
        found_in(&json, "content/index.md"),
        [("reserved-id".to_string(), 1, 1)]
    );

    // not-utf8: Latin-1 bytes on line 3.
    let site = TestSite::empty();
    let mut bytes = b"+++\ntitle = \"x\"\ndate = \"caf\xe9\"\n+++\n".to_vec();
    bytes.extend_from_slice(b"\n## Summary\n");
    std::fs::create_dir_all(site.path().join("content")).expect("mkdir");
    std::fs::write(site.path().join("content/latin1.md"), bytes).expect("write");
    let (run, json) = check_json(&site, &[]);
    run.assert_code(1);
    assert_eq!(
        found_in(&json, "content/latin1.md"),
        [("not-utf8".to_string(), 3, 1)]
    );

    // unreadable-file: a symlink to nowhere, reported like any other problem.
    #[cfg(unix)]
    {
        let site = rules_site();
        std::os::unix::fs::symlink("/nonexistent/report.md", site.path().join(REPORT))
            .expect("symlink");
        let (run, json) = check_json(&site, &[]);
        run.assert_code(1);
        assert_eq!(
            found_in(&json, REPORT),
            [("unreadable-file".to_string(), 1, 1)]
        );
        assert_eq!(json["summary"]["reports"], 3, "{}", run.stdout);
    }
}

#[test]
fn a_site_with_five_broken_reports_reports_all_five() {
    let site = rules_site();
    let broken = [
        ("content/a.md", "unknown-key/bad.md", "unknown-key"),
        ("content/b.md", "toml-syntax/bad.md", "toml-syntax"),
        ("content/c/c.md", "broken-link/bad.md", "broken-link"),
        ("content/d.md", "timeline-order/bad.md", "timeline-order"),
        (
            "content/e.md",
            "missing-front-matter/bad.md",
            "missing-front-matter",
        ),
    ];
    for (path, fixture_path, _) in broken {
        site.write(path, &fixture(fixture_path));
    }
    let (run, json) = check_json(&site, &[]);
    run.assert_code(1);
    assert_eq!(
        json["summary"],
        serde_json::json!({"errors": 5, "warnings": 0, "reports": 7}),
        "{}",
        run.stdout
    );
    for (path, _, rule) in broken {
        let rules: Vec<String> = found_in(&json, path).into_iter().map(|f| f.0).collect();
        assert_eq!(rules, [rule], "{path}");
    }
    // Sorted by file, then line.
    let files: Vec<&str> = json["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| d["file"].as_str().expect("file"))
        .collect();
    let mut sorted = files.clone();
    sorted.sort();
    assert_eq!(files, sorted);

    let human = site.run(&["check"]);
    human.assert_code(1);
    assert!(
        human
            .stdout
            .ends_with("5 errors, 0 warnings in 7 reports\n"),
        "{}",
        human.stdout
    );
}

#[test]
fn build_fails_on_exactly_the_errors_check_reports_with_the_same_messages() {
    let site = rules_site();
    site.write("content/a.md", &fixture("unknown-key/bad.md"));
    site.write("content/b.md", &fixture("broken-anchor/bad.md"));
    site.write("content/c.md", &fixture("overdue-action/bad.md"));
    let check = site.run(&["check"]);
    check.assert_code(1);
    let build = site.build();
    build.assert_code(1);
    assert!(!site.exists("public"), "a failed build writes nothing");
    // Every block `check` prints (errors and warnings alike) is in the build's output.
    let blocks: Vec<&str> = check
        .stdout
        .split("\n\n")
        .filter(|b| b.starts_with("error[") || b.starts_with("warning["))
        .collect();
    assert_eq!(blocks.len(), 3, "{}", check.stdout);
    for block in blocks {
        assert!(
            build.stderr.contains(block),
            "build lacks:\n{block}\n---\n{}",
            build.stderr
        );
    }

    // And a site `check` passes builds.
    site.remove("content/a.md");
    site.remove("content/b.md");
    site.run(&["check"]).assert_code(0);
    site.build().assert_code(0);
}

#[test]
fn exit_codes() {
    let site = rules_site();
    site.write(REPORT, &fixture("overdue-action/good.md"));
    site.run(&["check"]).assert_code(0);
    site.run(&["check", "--deny-warnings"]).assert_code(0);

    site.write(REPORT, &fixture("overdue-action/bad.md"));
    let warned = site.run(&["check"]);
    warned.assert_code(0);
    assert!(
        warned
            .stdout
            .ends_with("0 errors, 1 warning in 3 reports\n"),
        "{}",
        warned.stdout
    );
    site.run(&["check", "--deny-warnings"]).assert_code(1);

    site.write(REPORT, &fixture("unknown-severity/bad.md"));
    site.run(&["check"]).assert_code(1);

    let usage = site.run(&["check", "--format", "xml"]);
    usage.assert_code(2);
    assert!(
        usage
            .stderr
            .contains("possible values: human, github, json"),
        "{}",
        usage.stderr
    );
    let missing = site.run(&["check", "--root", "no-such-dir"]);
    missing.assert_code(2);
    assert!(missing.stderr.contains("no-such-dir"), "{}", missing.stderr);
}

#[test]
fn rollbook_toml_switches_rules_off_and_raises_them_to_errors() {
    let site = rules_site();
    site.write(REPORT, &fixture("blameful-language/bad.md"));
    site.run(&["check"]).assert_code(0);

    site.write("rollbook.toml", "[rules]\nblameful-language = \"error\"\n");
    let (run, json) = check_json(&site, &[]);
    run.assert_code(1);
    assert_eq!(json["diagnostics"][0]["severity"], "error");
    site.build().assert_code(1);

    site.write("rollbook.toml", "[rules]\nblameful-language = \"off\"\n");
    let (run, json) = check_json(&site, &["--deny-warnings"]);
    run.assert_code(0);
    assert_eq!(json["summary"]["warnings"], 0);

    // The phrase list is the site's own.
    site.write(
        "rollbook.toml",
        "[check]\nblameful_phrases = [\"pool size\"]\n",
    );
    let (_, json) = check_json(&site, &[]);
    let found = found_in(&json, REPORT);
    assert_eq!(found, [("blameful-language".to_string(), 18, 71)]);

    // Errors cannot be switched off; the mistake is reported in rollbook.toml.
    site.write("rollbook.toml", "[rules]\nbroken-link = \"warning\"\n");
    let (run, json) = check_json(&site, &[]);
    run.assert_code(1);
    assert_eq!(
        found_in(&json, "rollbook.toml"),
        [("wrong-type".to_string(), 2, 15)]
    );
}

#[test]
fn the_site_rollbook_init_writes_and_a_new_draft_pass_the_check() {
    let site = TestSite::empty();
    site.run(&["init", "kb"]).assert_code(0);
    site.run(&["new", "Cart timeouts after 3.1.0", "--root", "kb"])
        .assert_code(0);
    let (run, json) = check_json(&site, &["--root", "kb"]);
    run.assert_code(0);
    assert_eq!(json["summary"]["errors"], 0, "{}", run.stdout);
    assert_eq!(json["summary"]["reports"], 2);
    // Diagnostics name files from where the command runs, so that CI finds them.
    for d in json["diagnostics"].as_array().expect("diagnostics") {
        assert!(
            d["file"]
                .as_str()
                .is_some_and(|f| f.starts_with("kb/content/")),
            "{d}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Golden files: the three formats on a small site. `UPDATE_GOLDEN=1 cargo test` rewrites them.

fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, actual).expect("write golden");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("read {} ({e}); run with UPDATE_GOLDEN=1", path.display()));
    assert!(
        expected == actual,
        "{} differs; run with UPDATE_GOLDEN=1 and review the diff\n--- expected\n{expected}\n--- actual\n{actual}",
        path.display()
    );
}

#[test]
fn human_github_and_json_output_match_their_golden_files() {
    let site = TestSite::fixture("check");
    let human = site.run(&["check"]);
    human.assert_code(1);
    golden("check.human.txt", &human.stdout);
    assert!(
        !human.stdout.contains('\x1b'),
        "no colour without a terminal"
    );

    let github = site.run(&["check", "--format", "github"]);
    github.assert_code(1);
    golden("check.github.txt", &github.stdout);

    let json = site.run(&["check", "--format", "json"]);
    json.assert_code(1);
    golden("check.json", &json.stdout);
}
