//! Search in a real browser: the search fixture (`tests/fixtures/search`) built by the real
//! binary, served over HTTP by a small static server in this file, and headless Chromium
//! driven by Node and playwright-core (`tests/browser/search.mjs`). Each test is one case of
//! that script; a failing case prints the script's output.
//!
//! Needs Node 20+ and Chromium. `npm ci` runs in `tests/browser` when its `node_modules` is
//! missing; Chromium is installed with apt-get when it is missing and the tests run as root.
//! `CHROMIUM` names another Chromium binary.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::Duration;

use common::TestSite;
use common::served::Served;
use serde_json::Value;

const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";

#[test]
fn typing_in_the_header_box_shows_hits_by_kind() {
    Browser::site().case("box_results");
}

#[test]
fn the_header_box_works_from_the_keyboard() {
    Browser::site().case("box_keyboard");
}

#[test]
fn a_phrase_finds_only_the_phrase() {
    Browser::site().case("phrase");
}

#[test]
fn a_facet_narrows_the_results_to_its_count() {
    Browser::site().case("facet");
}

#[test]
fn a_misspelled_word_is_found_approximately() {
    Browser::site().case("typo");
}

#[test]
fn a_search_is_restored_from_its_url() {
    Browser::site().case("url_state");
}

#[test]
fn a_lesson_hit_opens_its_anchor() {
    Browser::site().case("lesson_anchor");
}

#[test]
fn a_query_error_is_shown_under_the_box() {
    Browser::site().case("query_error");
}

#[test]
fn hostile_report_text_is_shown_as_text_and_never_runs() {
    Browser::site().case("hostile");
}

#[test]
fn without_javascript_the_search_page_says_so() {
    Browser::site().case("noscript");
}

#[test]
fn opened_from_disk_search_explains_it_needs_http() {
    let site = Browser::site();
    let public = site.site.path().join("public");
    let url = format!("file://{}/", public.display());
    site.run_case(&url, "from_disk", None);
}

/// `rollbook serve`'s pages reload themselves after an edit, show the problems panel while a
/// report is broken (it can be hidden), and drop it once the report is fixed.
#[test]
fn served_pages_reload_themselves_and_show_problems() {
    prepare_tools();
    let site = TestSite::fixture("basic");
    let served = Served::start(&site, &[]);
    let profile = tempfile::tempdir().expect("temp dir");
    let output = Command::new("node")
        .arg(browser_dir().join("serve.mjs"))
        .arg(format!("http://{}/", served.address))
        .arg(site.path())
        .env("CHROMIUM", chromium())
        .env("PROFILE_DIR", profile.path())
        .output()
        .expect("run node");
    assert!(
        output.status.success(),
        "live reload failed ({})\n--- stdout\n{}\n--- stderr\n{}\n--- rollbook serve\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
        served.stderr()
    );
}

/// The browser's hits, (kind, url) in order, are the CLI's for the same query and filters.
#[test]
fn the_browser_finds_what_rollbook_search_finds() {
    let site = Browser::site();
    // (URL parameters of the search page, the same search as `rollbook search` arguments)
    let cases: &[(&str, &[&str])] = &[
        ("q=pool", &["pool"]),
        (
            "q=connection+pool+exhausted",
            &["connection pool exhausted"],
        ),
        ("q=%22connection+pool%22", &["\"connection pool\""]),
        (
            "q=pool&severity=critical",
            &["pool", "--severity", "critical"],
        ),
        (
            "q=pool+deadlock&kind=lesson",
            &["pool deadlock", "--kind", "lesson"],
        ),
        (
            "q=pool&kind=action&kind=lesson&service=checkout-api",
            &[
                "pool",
                "--kind",
                "action",
                "--kind",
                "lesson",
                "--service",
                "checkout-api",
            ],
        ),
        (
            "q=replicas+pool&year=2024",
            &[
                "replicas pool",
                "--since",
                "2024-01-01",
                "--until",
                "2024-12-31",
            ],
        ),
        ("q=severity%3Ahigh+pool", &["severity:high pool"]),
        // Words, a phrase and a typo inside root causes, read from the body's positions.
        (
            "q=section%3Aroot_cause+%22connection+pool%22+deadlok",
            &["section:root_cause \"connection pool\" deadlok"],
        ),
        ("q=&open=1", &["", "--open"]),
        ("q=&tag=database", &["", "--tag", "database"]),
    ];
    let mut expected = Vec::new();
    for (params, args) in cases {
        let mut all = vec!["search"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--limit", "50", "--json"]);
        let run = site.site.run(&all);
        run.assert_code(0);
        let json: Value = serde_json::from_str(&run.stdout).expect("search --json");
        let hits: Vec<Value> = json["hits"]
            .as_array()
            .expect("hits")
            .iter()
            .map(|h| serde_json::json!([h["kind"], h["url"]]))
            .collect();
        assert!(!hits.is_empty(), "{params}: the CLI finds nothing");
        expected
            .push(serde_json::json!({ "params": params, "total": json["total"], "hits": hits }));
    }
    let expected = Value::Array(expected).to_string();
    site.run_case(&site.url.clone(), "parity", Some(&expected));
}

/// A built fixture site served over HTTP, for the length of one test.
struct Browser {
    site: TestSite,
    url: String,
    _server: Server,
}

impl Browser {
    fn site() -> Browser {
        prepare_tools();
        let site = TestSite::fixture("search");
        site.build().assert_code(0);
        let public = site.path().join("public");
        assert!(
            public.join("search/worker.js").is_file(),
            "the build has no search/worker.js"
        );
        let server = Server::start(&public);
        let url = format!("http://{}/", server.address);
        Browser {
            site,
            url,
            _server: server,
        }
    }

    #[track_caller]
    fn case(&self, case: &str) {
        self.run_case(&self.url, case, None);
    }

    #[track_caller]
    fn run_case(&self, base: &str, case: &str, expected: Option<&str>) {
        let profile = tempfile::tempdir().expect("temp dir");
        let mut command = Command::new("node");
        command
            .arg(browser_dir().join("search.mjs"))
            .arg(base)
            .arg(case)
            .env("CHROMIUM", chromium())
            .env("PROFILE_DIR", profile.path());
        if let Some(expected) = expected {
            command.env("EXPECTED", expected);
        }
        let output = command.output().expect("run node");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "browser case {case} failed ({})\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
            output.status
        );
    }
}

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

fn chromium() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| DEFAULT_CHROMIUM.to_string())
}

/// Node's packages and Chromium, installed once per test run when missing.
fn prepare_tools() {
    static READY: OnceLock<Result<(), String>> = OnceLock::new();
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let ready = READY.get_or_init(|| {
        let node = Command::new("node").arg("--version").output();
        match node {
            Ok(out) if out.status.success() => {}
            _ => return Err("the browser tests need Node.js 20 or newer (`node` on PATH)".into()),
        }
        let dir = browser_dir();
        if !dir.join("node_modules/playwright-core").is_dir() {
            let status = Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(&dir)
                .status()
                .map_err(|e| format!("cannot run npm ci in {}: {e}", dir.display()))?;
            if !status.success() {
                return Err(format!("npm ci failed in {}", dir.display()));
            }
        }
        let browser = chromium();
        if !Path::new(&browser).exists() {
            if browser != DEFAULT_CHROMIUM || !is_root() {
                return Err(format!(
                    "the browser tests need Chromium at {browser}: install it (`apt-get install chromium` as root) or set CHROMIUM to its path"
                ));
            }
            for args in [&["update"][..], &["install", "-y", "chromium"][..]] {
                let status = Command::new("apt-get")
                    .args(args)
                    .env("DEBIAN_FRONTEND", "noninteractive")
                    .status()
                    .map_err(|e| format!("cannot run apt-get: {e}"))?;
                if !status.success() {
                    return Err(format!("apt-get {} failed", args.join(" ")));
                }
            }
        }
        Ok(())
    });
    if let Err(message) = ready {
        panic!("{message}");
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// A static file server on a free loopback port, serving one directory until dropped.
struct Server {
    address: std::net::SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    fn start(root: &Path) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
        let address = listener.local_addr().expect("address");
        let stop = Arc::new(AtomicBool::new(false));
        let root = root.canonicalize().expect("served directory");
        let stopping = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let root = root.clone();
                std::thread::spawn(move || serve(stream, &root));
            }
        });
        Server {
            address,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _wake = TcpStream::connect(self.address);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Answers one request (the browser is told to close the connection after each).
fn serve(stream: TcpStream, root: &Path) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(&stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    // The headers are read and ignored.
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) if line == "\r\n" || line == "\n" => break,
            Ok(_) => {}
        }
    }
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default();
    let target = parts.next().unwrap_or("/");
    let response = match method {
        "GET" | "HEAD" => match resolve(root, target) {
            Some(path) => match std::fs::read(&path) {
                Ok(body) => (200, "OK", content_type(&path), body),
                Err(_) => not_found(),
            },
            None => not_found(),
        },
        _ => (
            405,
            "Method Not Allowed",
            "text/plain; charset=utf-8",
            b"method not allowed".to_vec(),
        ),
    };
    let (code, reason, kind, body) = response;
    let head = format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let mut stream = &stream;
    let _ = stream.write_all(head.as_bytes());
    if method != "HEAD" {
        let _ = stream.write_all(&body);
    }
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Write);
    // Let the client read to the end before the socket closes.
    let _ = stream.read(&mut [0; 64]);
}

fn not_found() -> (u16, &'static str, &'static str, Vec<u8>) {
    (
        404,
        "Not Found",
        "text/plain; charset=utf-8",
        b"not found".to_vec(),
    )
}

/// The file a request path names below `root`, if there is one; never outside it.
fn resolve(root: &Path, target: &str) -> Option<PathBuf> {
    let path = target.split(['?', '#']).next().unwrap_or("/");
    let decoded = percent_decode(path)?;
    let mut file = root.to_path_buf();
    for segment in decoded.split('/') {
        match segment {
            "" | "." => {}
            ".." => return None,
            s if s.contains('\\') => return None,
            s => file.push(s),
        }
    }
    if file.is_dir() {
        file.push("index.html");
    }
    let file = file.canonicalize().ok()?;
    (file.starts_with(root) && file.is_file()).then_some(file)
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn content_type(path: &Path) -> &'static str {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
    {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "wasm" => "application/wasm",
        "svg" => "image/svg+xml",
        "xml" => "application/xml",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}
