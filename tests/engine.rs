//! The browser's search engine (crates/web), built natively and driven like its worker does,
//! on the chunks and open pack that `rollbook build` wrote: the same hits in the same order
//! as `rollbook search --json`, in a few parallel rounds of fetches rather than one request
//! per chunk. (tests/browser.rs runs the real thing in Chromium.)

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::TestSite;
use rollbook_web::{Answer, Engine, Query};
use serde_json::Value;

struct Opened {
    engine: Engine,
    web: PathBuf,
    /// Chunks the engine had to fetch one at a time.
    synchronous: Arc<AtomicUsize>,
}

fn open(site: &TestSite) -> Opened {
    let web = site.path().join("public/search/web");
    let pack = std::fs::read_dir(&web)
        .expect("search/web")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("open-"))
        })
        .expect("an open pack");
    let synchronous = Arc::new(AtomicUsize::new(0));
    let fetch = {
        let web = web.clone();
        let synchronous = Arc::clone(&synchronous);
        Box::new(move |name: &str| {
            synchronous.fetch_add(1, Ordering::SeqCst);
            std::fs::read(web.join(name))
        })
    };
    let engine = Engine::open(&std::fs::read(pack).expect("read pack"), fetch).expect("opens");
    Opened {
        engine,
        web,
        synchronous,
    }
}

/// Asks until the engine answers, fetching what it needs the way worker.js does; the answer
/// as JSON and the number of rounds of parallel fetches.
fn ask(opened: &Opened, query: &Query) -> (Value, usize) {
    for round in 0..8 {
        match opened.engine.query(query) {
            Answer::Need { need } => {
                for name in need {
                    let stored = std::fs::read(opened.web.join(&name)).expect("chunk exists");
                    opened
                        .engine
                        .put(&name, &stored)
                        .expect("chunk decompresses");
                }
            }
            answer => return (serde_json::to_value(&answer).expect("json"), round),
        }
    }
    panic!("the engine kept asking for chunks");
}

fn query(text: &str) -> Query {
    Query {
        text: text.to_string(),
        limit: Some(10),
        today: Some("2025-09-01".to_string()),
        ..Query::default()
    }
}

/// (kind, url) of each hit, in order.
fn hits(json: &Value) -> Vec<(String, String)> {
    json["hits"]
        .as_array()
        .unwrap_or_else(|| panic!("no hits in {json}"))
        .iter()
        .map(|h| {
            (
                h["kind"].as_str().unwrap_or_default().to_string(),
                h["url"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn cli(site: &TestSite, args: &[&str]) -> Value {
    let mut all = vec!["search", "--json", "--limit", "10"];
    all.extend_from_slice(args);
    let run = site.run(&all);
    run.assert_code(0);
    serde_json::from_str(&run.stdout).expect("json")
}

#[test]
fn the_engine_gives_the_command_lines_hits_in_its_order() {
    let site = TestSite::fixture("search");
    site.build().assert_code(0);
    let opened = open(&site);
    let cases: Vec<(Query, Vec<&str>)> = vec![
        (
            query("connection pool exhausted"),
            vec!["connection pool exhausted"],
        ),
        (query("\"connection pool\""), vec!["\"connection pool\""]),
        (query("pool -redis"), vec!["pool -redis"]),
        (query("pool severity:high"), vec!["pool severity:high"]),
        (
            Query {
                kinds: vec!["lesson".into()],
                ..query("migrations")
            },
            vec!["migrations", "--kind", "lesson"],
        ),
        (
            Query {
                open: true,
                ..query("")
            },
            vec!["", "--open"],
        ),
        (
            Query {
                services: vec!["payments-api".into()],
                sort: Some("date".into()),
                ..query("pool")
            },
            vec!["pool", "--service", "payments-api", "--sort", "date"],
        ),
        (query("conection"), vec!["conection"]),
        // Sections' text is a field of its own, searched only when sections are asked for.
        (
            query("section:root_cause replicas"),
            vec!["section:root_cause replicas"],
        ),
        (
            Query {
                kinds: vec!["section".into(), "lesson".into()],
                ..query("pool")
            },
            vec!["pool", "--kind", "section", "--kind", "lesson"],
        ),
    ];
    for (query, args) in cases {
        let (answer, _) = ask(&opened, &query);
        assert_eq!(answer["ok"], true, "{args:?}: {answer}");
        let expected = cli(&site, &args);
        assert!(!hits(&expected).is_empty(), "{args:?} finds nothing");
        assert_eq!(hits(&answer["results"]), hits(&expected), "{args:?}");
        assert_eq!(answer["results"]["total"], expected["total"], "{args:?}");
        assert_eq!(answer["results"]["fuzzy"], expected["fuzzy"], "{args:?}");
    }
}

#[test]
fn a_query_fetches_in_a_few_parallel_rounds_and_nothing_one_by_one() {
    let site = TestSite::fixture("search");
    site.build().assert_code(0);
    let opened = open(&site);
    let (answer, rounds) = ask(&opened, &query("replicas fallback"));
    assert_eq!(answer["ok"], true, "{answer}");
    assert!(rounds <= 3, "{rounds} rounds");
    assert_eq!(opened.synchronous.load(Ordering::SeqCst), 0);
    // Asked again, everything is here.
    let (_, rounds) = ask(&opened, &query("replicas fallback"));
    assert_eq!(rounds, 0);
}

#[test]
fn facets_count_the_matches() {
    let site = TestSite::fixture("search");
    site.build().assert_code(0);
    let opened = open(&site);
    let (answer, _) = ask(
        &opened,
        &Query {
            facets: true,
            ..query("pool")
        },
    );
    let results = &answer["results"];
    let kinds: u64 = results["facets"]["kind"]
        .as_array()
        .expect("kind counts")
        .iter()
        .map(|pair| pair[1].as_u64().expect("count"))
        .sum();
    assert_eq!(Some(kinds), results["total"].as_u64());
    let expected = cli(&site, &["pool", "--facets"]);
    assert_eq!(results["facets"], expected["facets"]);
}

#[test]
fn mistakes_are_answered_not_thrown() {
    let site = TestSite::fixture("search");
    site.build().assert_code(0);
    let opened = open(&site);
    let (answer, _) = ask(&opened, &query("nosuchfield:x"));
    assert_eq!(answer["ok"], false);
    assert!(
        answer["error"]["help"]
            .as_str()
            .is_some_and(|h| !h.is_empty())
    );
    let (answer, _) = ask(
        &opened,
        &Query {
            kinds: vec!["incident".into()],
            ..query("pool")
        },
    );
    assert_eq!(answer["ok"], false, "{answer}");
}
