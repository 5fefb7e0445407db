//! `rollbook search` and related reports on a fixture site written for them
//! (`tests/fixtures/search`): stemming, phrases, every filter, open actions, date ranges,
//! anchors, a fresh index after an edit, query errors, and related reports that shared tags
//! alone would get wrong.

mod common;

use std::collections::BTreeSet;

use common::{Run, TestSite};
use serde_json::Value;

const PAYMENTS: &str = "2024-01-26-payments-pool";
const CHECKOUT: &str = "2024-06-10-checkout-pool";
const DASHBOARD: &str = "2024-03-05-payments-dashboard";
const SEARCH: &str = "2023-09-14-search-latency";

fn search(site: &TestSite, args: &[&str]) -> (Run, Value) {
    let mut all = vec!["search"];
    all.extend_from_slice(args);
    all.push("--json");
    let run = site.run(&all);
    run.assert_code(0);
    let json = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("invalid JSON ({e}):\n{}\n{}", run.stdout, run.stderr));
    (run, json)
}

fn hits(json: &Value) -> &Vec<Value> {
    json["hits"].as_array().expect("hits")
}

/// The report ids of the hits, in order.
fn reports_of(json: &Value) -> Vec<String> {
    hits(json)
        .iter()
        .map(|h| h["report_id"].as_str().expect("report_id").to_string())
        .collect()
}

fn report_set(json: &Value) -> BTreeSet<String> {
    reports_of(json).into_iter().collect()
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

fn built() -> TestSite {
    let site = TestSite::fixture("search");
    site.build().assert_code(0);
    site
}

#[test]
fn stemming_finds_migration_for_migrations() {
    let site = built();
    let (_, json) = search(&site, &["migrations", "--kind", "lesson"]);
    let texts: Vec<&str> = hits(&json)
        .iter()
        .map(|h| h["title"].as_str().expect("title"))
        .collect();
    assert!(
        texts.iter().any(|t| t.contains("database migrations")),
        "{texts:?}"
    );
    assert!(
        texts.iter().any(|t| t.contains("A migration of an index")),
        "singular `migration` matches too: {texts:?}"
    );
    assert!(hits(&json).iter().all(|h| h["kind"] == "lesson"));
}

#[test]
fn a_phrase_matches_only_the_exact_phrase() {
    let site = built();
    let (_, words) = search(&site, &["connection pool exhausted", "--kind", "report"]);
    assert!(report_set(&words).contains(CHECKOUT), "{words}");
    let (_, phrase) = search(
        &site,
        &["\"connection pool exhausted\"", "--kind", "report"],
    );
    assert_eq!(report_set(&phrase), set(&[PAYMENTS]), "{phrase}");
    assert!(
        hits(&phrase)[0]["snippet_html"]
            .as_str()
            .is_some_and(|s| s.contains("<b>connection</b> <b>pool</b> <b>exhausted</b>")),
        "{phrase}"
    );
}

#[test]
fn each_filter_narrows_and_they_combine() {
    let site = built();
    let all_kinds = |args: &[&str]| {
        let mut a = vec!["pool connection payments dashboard replicas"];
        a.extend_from_slice(args);
        a.extend_from_slice(&["--kind", "report", "--limit", "50"]);
        report_set(&search(&site, &a).1)
    };
    assert_eq!(
        all_kinds(&[]),
        set(&[PAYMENTS, CHECKOUT, DASHBOARD, SEARCH])
    );
    assert_eq!(all_kinds(&["--severity", "critical"]), set(&[PAYMENTS]));
    assert_eq!(
        all_kinds(&["--severity", "critical", "--severity", "low"]),
        set(&[PAYMENTS, DASHBOARD])
    );
    assert_eq!(
        all_kinds(&["--service", "payments-api"]),
        set(&[PAYMENTS, DASHBOARD])
    );
    assert_eq!(all_kinds(&["--tag", "kubernetes"]), set(&[CHECKOUT]));
    assert_eq!(all_kinds(&["--team", "search"]), set(&[SEARCH]));
    assert_eq!(
        all_kinds(&["--service", "payments-api", "--severity", "low"]),
        set(&[DASHBOARD])
    );
    assert_eq!(
        all_kinds(&["--service", "payments-api", "--tag", "kubernetes"]),
        set(&[])
    );
    // The same filter written in the query is a filter too, not an optional word.
    let (_, json) = search(&site, &["pool severity:high", "--limit", "50"]);
    assert_eq!(report_set(&json), set(&[CHECKOUT]), "{json}");
    // --kind
    let (_, json) = search(&site, &["pool", "--kind", "action", "--limit", "50"]);
    assert!(hits(&json).iter().all(|h| h["kind"] == "action"), "{json}");
    assert!(!hits(&json).is_empty());
}

#[test]
fn dates_limit_by_range() {
    let site = built();
    let query = |args: &[&str]| {
        let mut a = vec!["pool dashboard replicas", "--kind", "report"];
        a.extend_from_slice(args);
        report_set(&search(&site, &a).1)
    };
    assert_eq!(
        query(&["--since", "2024-01-01"]),
        set(&[PAYMENTS, CHECKOUT, DASHBOARD])
    );
    assert_eq!(query(&["--until", "2024-01-26"]), set(&[PAYMENTS, SEARCH]));
    assert_eq!(
        query(&["--since", "2024-02-01", "--until", "2024-05-31"]),
        set(&[DASHBOARD])
    );
    let bad = site.run(&["search", "pool", "--since", "2024-13-01"]);
    bad.assert_code(2);
    assert!(bad.stderr.contains("YYYY-MM-DD"), "{}", bad.stderr);
}

#[test]
fn open_actions_are_exactly_the_open_actions() {
    let site = built();
    let (_, json) = search(&site, &["", "--kind", "action", "--open", "--limit", "100"]);
    let found: BTreeSet<String> = hits(&json)
        .iter()
        .map(|h| h["url"].as_str().expect("url").to_string())
        .collect();
    let reports = site.json("public/reports.json");
    let expected: BTreeSet<String> = reports["reports"]
        .as_array()
        .expect("reports")
        .iter()
        .flat_map(|r| r["actions"].as_array().expect("actions").iter())
        .filter(|a| a["status"] == "open")
        .map(|a| a["url"].as_str().expect("url").to_string())
        .collect();
    assert_eq!(found, expected);
    assert_eq!(json["total"], expected.len());
    assert!(hits(&json).iter().all(|h| h["state"] == "open"));
    // Overdue is measured against the build date (SOURCE_DATE_EPOCH, 2025-09-01).
    assert!(hits(&json).iter().all(|h| h["overdue"] == true), "{json}");
}

#[test]
fn a_lesson_hit_links_to_its_anchor_on_the_report_page() {
    let site = built();
    let (_, json) = search(&site, &["\"production pool sizes\"", "--kind", "lesson"]);
    let hit = &hits(&json)[0];
    let url = hit["url"].as_str().expect("url");
    let (page, anchor) = url.split_once('#').expect("an anchor");
    assert_eq!(page, format!("reports/{PAYMENTS}.html"));
    let html = site.read(&format!("public/{page}"));
    assert!(
        html.contains(&format!("id=\"{anchor}\"")),
        "{anchor} not on {page}"
    );
    assert_eq!(
        hit["report_title"],
        "Payment errors after payments-api 2.5.0"
    );
}

#[test]
fn sections_can_be_searched_on_their_own() {
    let site = built();
    // `section:` is a filter; the words rank within it.
    let (_, json) = search(&site, &["section:root_cause replicas"]);
    assert_eq!(reports_of(&json)[0], SEARCH, "{json}");
    assert!(
        hits(&json).iter().all(|h| h["section"] == "root_cause"),
        "{json}"
    );
    let hit = &hits(&json)[0];
    assert!(
        hit["snippet_html"]
            .as_str()
            .is_some_and(|s| s.starts_with("The rebuild") && s.contains("<b>replicas</b>")),
        "the section's text, without its heading, with the word highlighted: {hit}"
    );
    assert_eq!(hit["kind"], "section");
    assert_eq!(hit["section"], "root_cause");
    assert!(
        hit["url"]
            .as_str()
            .is_some_and(|u| u.ends_with("#root-cause"))
    );
    let (_, json) = search(&site, &["kind:section replicas"]);
    assert!(hits(&json).iter().all(|h| h["kind"] == "section"), "{json}");
    assert_eq!(reports_of(&json)[0], SEARCH, "{json}");
    // One hit per report, however many of its sections match.
    assert_eq!(report_set(&json).len(), reports_of(&json).len(), "{json}");
    // A kind both asked for and excluded leaves nothing to search.
    let (_, json) = search(&site, &["section:root_cause -section:root_cause replicas"]);
    assert_eq!(json["total"], 0, "{json}");
    // Without asking for sections, none are returned.
    let (_, json) = search(&site, &["replicas", "--limit", "50"]);
    assert!(hits(&json).iter().all(|h| h["kind"] != "section"), "{json}");
}

#[test]
fn a_query_over_sections_counts_only_the_words_inside_them() {
    let site = built();
    let found = |query: &str| report_set(&search(&site, &[query]).1);
    // "four" is only in the summary of the search report.
    assert_eq!(found("four"), set(&[SEARCH]));
    assert_eq!(found("section:summary four"), set(&[SEARCH]));
    assert_eq!(found("section:root_cause four"), set(&[]));
    assert_eq!(
        found("section:root_cause OR section:lessons four"),
        set(&[])
    );
    // "deadlock" is in two root causes and no summary.
    assert_eq!(
        found("section:root_cause deadlock"),
        set(&[PAYMENTS, CHECKOUT])
    );
    assert_eq!(found("section:summary deadlock"), set(&[]));
    // A phrase is found inside one section, not across a heading into the next.
    assert_eq!(found("\"cause the rebuild\""), set(&[SEARCH]));
    assert_eq!(found("kind:section \"cause the rebuild\""), set(&[]));
    assert_eq!(
        found("section:root_cause \"the rebuild created\""),
        set(&[SEARCH])
    );
    assert_eq!(found("section:summary \"the rebuild created\""), set(&[]));
    // Words with a typo, required and excluded words, and filters on other fields.
    assert_eq!(
        found("section:root_cause deadlok"),
        set(&[PAYMENTS, CHECKOUT])
    );
    assert_eq!(found("section:summary deadlok"), set(&[]));
    assert_eq!(
        found("section:root_cause +deadlock +hikari -nested"),
        set(&[CHECKOUT])
    );
    assert_eq!(
        found("section:root_cause +deadlock service:payments-api"),
        set(&[PAYMENTS])
    );
    // A word more often in a root cause (three times, against twice) ranks it higher.
    let (_, json) = search(&site, &["section:root_cause connection"]);
    assert_eq!(reports_of(&json), [PAYMENTS, CHECKOUT], "{json}");
    // What cannot be limited to sections is a user error.
    let run = site.run(&["search", "section:root_cause \"connection po\"*"]);
    run.assert_code(1);
    assert!(
        run.stderr.contains("cannot be limited to sections"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_index_is_refreshed_after_an_edit_and_built_when_missing() {
    let site = TestSite::fixture("search");
    // No build yet: search indexes without rendering the site.
    let (run, json) = search(&site, &["zebra"]);
    assert!(
        run.stderr.contains("there is no search index yet"),
        "{}",
        run.stderr
    );
    assert!(
        !site.exists("public/index.html"),
        "search does not render the site"
    );
    assert_eq!(json["total"], 0);

    let path = format!("content/{SEARCH}.md");
    let text = site.read(&path);
    site.write(
        &path,
        &text.replace(
            "zero replicas",
            "zero replicas, like a zebra without stripes",
        ),
    );
    let (run, json) = search(&site, &["zebra"]);
    assert!(run.stderr.contains("reindexed 1 report"), "{}", run.stderr);
    assert_eq!(reports_of(&json)[0], SEARCH);

    // Unchanged: nothing is reindexed, and the answer is the same.
    let (run, again) = search(&site, &["zebra"]);
    assert_eq!(run.stderr, "");
    assert_eq!(again, json);

    // Rewritten with the same bytes (as a checkout does): nothing is reindexed, and the
    // manifest learns the new time, so that later searches do not read the file again.
    let manifest = "public/search/manifest.txt";
    let before = site.read(manifest);
    std::thread::sleep(std::time::Duration::from_millis(20));
    site.write(&path, &site.read(&path));
    let (run, again) = search(&site, &["zebra"]);
    assert_eq!(run.stderr, "");
    assert_eq!(again, json);
    assert_ne!(site.read(manifest), before, "the manifest has the new time");

    // A removed report disappears from the results.
    site.remove(&path);
    let (run, json) = search(&site, &["zebra"]);
    assert!(run.stderr.contains("removed 1"), "{}", run.stderr);
    assert_eq!(json["total"], 0, "no stale hit: {json}");

    // A report broken by an edit is left out, with a warning.
    let payments = format!("content/{PAYMENTS}.md");
    site.write(
        &payments,
        &site
            .read(&payments)
            .replace("severity = \"critical\"", "severity = \"urgent\""),
    );
    let (run, json) = search(&site, &["\"connection pool exhausted\""]);
    assert!(
        run.stderr.contains("left out of the search"),
        "{}",
        run.stderr
    );
    assert_eq!(json["total"], 0, "{json}");
}

#[test]
fn a_malformed_query_is_a_user_error() {
    let site = built();
    for query in [
        "title:(",
        "nosuchfield:x",
        "-pool",
        "section:rootcause pool",
    ] {
        let run = site.run(&["search", query]);
        run.assert_code(1);
        assert!(
            run.stderr.contains("error: the query is not valid"),
            "{query}: {}",
            run.stderr
        );
        assert!(run.stderr.contains("help:"), "{}", run.stderr);
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
}

#[test]
fn json_hits_are_identical_run_to_run_and_human_output_has_the_parts() {
    let site = built();
    let (_, first) = search(&site, &["pool deadlock", "--limit", "20"]);
    let (_, second) = search(&site, &["pool deadlock", "--limit", "20"]);
    assert_eq!(first, second);
    let hit = &hits(&first)[0];
    for key in [
        "kind",
        "score",
        "report_id",
        "report_title",
        "title",
        "url",
        "date",
        "severity",
        "services",
        "tags",
        "snippet",
        "snippet_html",
    ] {
        assert!(!hit[key].is_null(), "{key} in {hit}");
    }
    let human = site.run(&["search", "pool deadlock", "--limit", "2"]);
    human.assert_code(0);
    assert!(!human.stdout.contains('\x1b'), "no bold without a terminal");
    assert!(human.stdout.contains("public/reports/"), "{}", human.stdout);
    assert!(human.stdout.contains("of "), "{}", human.stdout);
}

#[test]
fn related_reports_follow_the_content_not_the_tags() {
    let site = built();
    let json = site.json("public/reports.json");
    let reports = json["reports"].as_array().expect("reports");
    let payments = reports
        .iter()
        .find(|r| r["id"] == PAYMENTS)
        .expect("payments report");
    // The dashboard report shares every tag and the service with the payments report, but
    // the checkout report is about the same failure.
    assert_eq!(payments["related"][0], CHECKOUT, "{payments}");
    let html = site.read(&format!("public/reports/{PAYMENTS}.html"));
    let related = html
        .split("id=\"rollbook-related\"")
        .nth(1)
        .expect("a related reports section");
    let first_link = related.find(CHECKOUT).expect("checkout listed");
    if let Some(dashboard) = related.find(DASHBOARD) {
        assert!(first_link < dashboard);
    }
    assert!(related.contains("both mention"), "{related}");
}
