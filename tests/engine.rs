//! The browser's search engine (crates/web), built natively and driven like its worker does,
//! on the chunks and open pack that `rollbook build` wrote: the same hits in the same order
//! as `rollbook search --json`, in a few parallel rounds of fetches rather than one request
//! per chunk. (tests/browser.rs runs the real thing in Chromium.)

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::TestSite;
use rollbook_search::pack::{self, Layout, PackedFile};
use rollbook_web::{Answer, Engine, Query};
use serde_json::Value;

struct Opened {
    engine: Engine,
    web: PathBuf,
    pack: PathBuf,
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
    let engine = Engine::open(&std::fs::read(&pack).expect("read pack"), fetch).expect("opens");
    Opened {
        engine,
        web,
        pack,
        synchronous,
    }
}

/// Asks until the engine answers, fetching what it needs the way worker.js does; the answer
/// as JSON and the number of rounds of parallel fetches.
fn ask(opened: &Opened, query: &Query) -> (Value, usize) {
    let (answer, fetched) = ask_fetching(opened, query);
    (answer, fetched.len())
}

/// [`ask`], with the chunks fetched in each round.
fn ask_fetching(opened: &Opened, query: &Query) -> (Value, Vec<Vec<String>>) {
    let mut rounds = Vec::new();
    for _ in 0..8 {
        match opened.engine.query(query) {
            Answer::Need { need } => {
                put(opened, &need);
                rounds.push(need);
            }
            answer => return (serde_json::to_value(&answer).expect("json"), rounds),
        }
    }
    panic!("the engine kept asking for chunks");
}

/// Gives the engine the chunks it asked for, as worker.js does.
fn put(opened: &Opened, need: &[String]) {
    for name in need {
        let stored = std::fs::read(opened.web.join(name)).expect("chunk exists");
        opened
            .engine
            .put(name, &stored)
            .expect("chunk decompresses");
    }
}

fn query(text: &str) -> Query {
    Query {
        text: text.to_string(),
        limit: Some(10),
        today: Some("2025-09-01".to_string()),
        ..Query::default()
    }
}

/// The index file with this extension (`.store`…), as the open pack lists it.
fn packed_file(opened: &Opened, extension: &str) -> PackedFile {
    let pack = std::fs::read(&opened.pack).expect("read pack");
    let pack = pack::decompress(&pack).expect("pack decompresses");
    let (manifest, _) = pack::decode(&pack).expect("pack decodes");
    manifest
        .files
        .into_iter()
        .find(|f| f.name.ends_with(extension))
        .unwrap_or_else(|| panic!("no {extension} file in the pack"))
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
        // Sections are searched only when asked for: words, phrases and typos inside them.
        (
            query("section:root_cause replicas"),
            vec!["section:root_cause replicas"],
        ),
        (
            query("section:root_cause \"connection pool\" deadlok"),
            vec!["section:root_cause \"connection pool\" deadlok"],
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
    // Words with typos too: the postings of the words near them are read ahead.
    for text in ["replicas fallback", "replcas falback"] {
        let opened = open(&site);
        let (answer, rounds) = ask(&opened, &query(text));
        assert_eq!(answer["ok"], true, "{answer}");
        assert!(!hits(&answer["results"]).is_empty(), "{text}: {answer}");
        assert!(rounds <= 3, "{text}: {rounds} rounds");
        assert_eq!(opened.synchronous.load(Ordering::SeqCst), 0, "{text}");
        // Asked again, everything is here.
        let (_, rounds) = ask(&opened, &query(text));
        assert_eq!(rounds, 0);
    }
    let (answer, _) = ask(&open(&site), &query("replcas falback"));
    assert_eq!(
        answer["results"]["fuzzy"],
        serde_json::json!(["replcas", "falback"])
    );
}

/// The search fixture and `n` more reports of made-up words about a pool, with `lessons`
/// lessons each.
fn with_filler(n: usize, lessons: usize) -> TestSite {
    let site = TestSite::fixture("search");
    for n in 0..n {
        let words: Vec<String> = (0..300)
            .map(|w| format!("w{}", (n * 7919 + w * 104_729) % 5003))
            .collect();
        site.write(
            &format!("content/2021-01-{:02}-filler-{n}.md", n % 28 + 1),
            &format!(
                "+++\ntitle = \"Filler {n} pool\"\ndate = 2021-01-{:02}\nseverity = \"low\"\n+++\n\n\
                 ## Summary\n\nThe pool of filler {n}: {}.\n\n## Lessons learned\n\n{}",
                n % 28 + 1,
                words.join(" "),
                (0..lessons)
                    .map(|l| format!("- Lesson {l} of filler {n}: size the pool {l}.\n"))
                    .collect::<String>()
            ),
        );
    }
    site
}

/// [`with_filler`] with 40 reports, built with 1 KiB chunks: files cut in many places.
fn built_in_small_chunks(lessons: usize) -> TestSite {
    let site = with_filler(40, lessons);
    site.run_with(&["build"], &[("ROLLBOOK_CHUNK_KB", "1")])
        .assert_code(0);
    site
}

/// The engine's answer to `text` has `rollbook search --json`'s hits, in its order, and total.
fn assert_answers_as_the_cli(site: &TestSite, text: &str, answer: &Value) {
    let expected = cli(site, &[text]);
    assert_eq!(hits(&answer["results"]), hits(&expected), "{text}");
    assert_eq!(answer["results"]["total"], expected["total"], "{text}");
}

#[test]
fn a_hit_shown_costs_one_chunk_of_the_doc_store_which_is_its_block() {
    // Enough reports for a doc store of several blocks (16 KB of documents each).
    let site = with_filler(40, 0);
    site.build().assert_code(0);
    let opened = open(&site);
    let store = packed_file(&opened, ".store");
    let Layout::Blocks { count } = store.layout else {
        panic!("the store is cut at fixed sizes: {:?}", store.layout);
    };
    let on_disk: Vec<String> = std::fs::read_dir(&opened.web)
        .expect("search/web")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(&store.hash))
        .collect();
    assert_eq!(on_disk.len(), count);
    assert!(
        count >= 4,
        "the fixture's store has {count} blocks: too few to tell"
    );

    let mut shown = 0;
    for (text, limit) in [("pool", 1), ("replicas", 2), ("migration", 3)] {
        // Each on a new engine, which has none of the blocks yet.
        let opened = open(&site);
        let (answer, rounds) = ask_fetching(
            &opened,
            &Query {
                limit: Some(limit),
                ..query(text)
            },
        );
        assert_eq!(answer["ok"], true, "{answer}");
        let hits = answer["results"]["hits"].as_array().expect("hits").len();
        assert!(hits > 0, "{text}: no hits");
        shown += hits;
        let blocks: Vec<&String> = rounds
            .iter()
            .flatten()
            .filter(|name| name.starts_with(&store.hash))
            .collect();
        assert!(
            !blocks.is_empty() && blocks.len() <= hits,
            "{text}: {hits} hits, store chunks {blocks:?}"
        );
        assert_eq!(opened.synchronous.load(Ordering::SeqCst), 0);
    }
    assert!(shown >= 4);
}

#[test]
fn chunks_of_zeros_are_made_not_fetched() {
    // 3,200 lessons, none with a title: with 1 KiB chunks, their `title` norms (a byte each,
    // zero) fill whole chunks.
    let site = built_in_small_chunks(80);
    let opened = open(&site);
    let norms = packed_file(&opened, ".fieldnorm");
    assert!(!norms.zeros.is_empty(), "no chunk of zeros: {norms:?}");
    for &start in &norms.zeros {
        assert!(!opened.web.join(norms.chunk_name(start)).exists());
    }
    let (answer, rounds) = ask_fetching(&opened, &query("pool lesson"));
    assert_eq!(answer["ok"], true, "{answer}");
    assert_eq!(opened.synchronous.load(Ordering::SeqCst), 0);
    let zero_names: Vec<String> = norms.zeros.iter().map(|&s| norms.chunk_name(s)).collect();
    assert!(
        rounds
            .iter()
            .flatten()
            .all(|name| !zero_names.contains(name))
    );
    assert_answers_as_the_cli(&site, "pool lesson", &answer);
}

#[test]
fn postings_and_positions_are_cut_where_words_start_and_read_back_whole() {
    // With 1 KiB chunks the fixture's postings and positions are cut in many places; a cut
    // in the wrong place would give the engine a word's postings in pieces, or wrong.
    let site = built_in_small_chunks(3);
    let opened = open(&site);
    for extension in [".idx", ".pos"] {
        let file = packed_file(&opened, extension);
        assert_eq!(file.layout, Layout::Words { size: 1024 }, "{extension}");
        assert!(file.cuts.len() >= 4, "{extension}: too few cuts to tell");
        for i in 0..file.chunks() {
            let range = file.chunk_range(i);
            if file.is_zeros(range.start) {
                continue;
            }
            let stored = std::fs::read(opened.web.join(file.chunk_name(range.start)))
                .expect("every chunk is written");
            assert_eq!(pack::decompress(&stored).expect("chunk").len(), range.len());
        }
    }
    for text in [
        "pool",
        "\"size the pool\"",
        "w17 w4242 lesson",
        "filler pool replicas",
    ] {
        let opened = open(&site);
        let (answer, _) = ask(&opened, &query(text));
        assert_eq!(answer["ok"], true, "{text}: {answer}");
        assert_eq!(opened.synchronous.load(Ordering::SeqCst), 0, "{text}");
        assert_answers_as_the_cli(&site, text, &answer);
    }
}

#[test]
fn a_query_left_waiting_for_its_documents_does_not_answer_the_next() {
    let site = TestSite::fixture("search");
    site.build().assert_code(0);
    let expected = ask(&open(&site), &query("replicas")).0;
    let opened = open(&site);
    let store = packed_file(&opened, ".store").hash;
    // "pool" up to where it asks for its documents, which it then never gets.
    let mut waiting = false;
    for _ in 0..8 {
        match opened.engine.query(&query("pool")) {
            Answer::Need { need } if need.iter().all(|name| name.starts_with(&store)) => {
                waiting = true;
                break;
            }
            Answer::Need { need } => put(&opened, &need),
            answer => panic!("answered without its documents: {answer:?}"),
        }
    }
    assert!(waiting, "never asked for its documents");
    let (answer, _) = ask(&opened, &query("replicas"));
    assert_eq!(answer["ok"], true, "{answer}");
    assert_eq!(hits(&answer["results"]), hits(&expected["results"]));
    assert_eq!(answer["results"]["total"], expected["results"]["total"]);
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
