//! `rollbook serve` as an author uses it: the real binary on a fixture site, on a free
//! loopback port, with edits, breakage, deletions, renames, a burst of writes, path traversal
//! attempts and the live-reload stream.

mod common;

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::TestSite;
use common::served::{Served, edit};

const REPORT: &str = "content/2025-05-27-webhook-backlog.md";
const PAGE: &str = "/reports/2025-05-27-webhook-backlog.html";
/// A report template that renders, and marks every report page's title.
const EDITED_TITLE: &str = "{% extends \"theme/report.html\" %}{% block title %}EDITED {{ report.title }}{% endblock title %}";

#[test]
fn an_edit_shows_on_the_served_page_and_in_the_search_index() {
    let site = TestSite::fixture("basic");
    let served = Served::start(&site, &[]);
    let page = served.get(PAGE);
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(page.body.contains("Webhooks queued for two hours"));
    assert!(
        page.body.contains("/__rollbook/live.js"),
        "live reload script"
    );
    assert!(!page.body.contains("rollbook-problems"));
    let worker = served.get("/search/worker.js").body;

    edit(&site, REPORT, "for two hours", "for three hours");
    served.wait_until(PAGE, "shows the edit", |r| {
        r.body.contains("Webhooks queued for three hours")
    });
    // The lists show the new summary too.
    served.wait_until("/reports/index.html", "lists the new summary", |r| {
        r.body.contains("three hours")
    });
    // The search index follows: a new open pack, named by its content.
    served.wait_until("/search/worker.js", "points at a new index", |r| {
        r.status == 200 && r.body != worker
    });
    // Drafts are shown by default.
    assert_eq!(
        served.get("/reports/2025-08-01-draft-cache.html").status,
        200
    );
}

#[test]
fn a_broken_report_keeps_the_last_good_page_under_an_overlay_until_fixed() {
    let site = TestSite::fixture("basic");
    let served = Served::start(&site, &[]);
    edit(&site, REPORT, "severity = \"high\"", "severity = \"hihg\"");
    let broken = served.wait_until(PAGE, "shows the overlay", |r| {
        r.body.contains("id=\"rollbook-problems\"")
    });
    assert_eq!(broken.status, 200);
    assert!(
        broken.body.contains("Webhooks queued for two hours"),
        "the last good page is still served"
    );
    assert!(
        broken.body.contains("2025-05-27-webhook-backlog.md:4:"),
        "the overlay names the file and line"
    );
    assert!(broken.body.contains("did you mean"), "with the help");
    // Every page has it, and the terminal printed the same problem.
    assert!(served.get("/index.html").body.contains("rollbook-problems"));
    served.wait_for_stderr("2025-05-27-webhook-backlog.md:4:");
    let status = served.get("/__rollbook/status").body;
    assert!(status.contains("hihg"), "{status}");

    edit(&site, REPORT, "severity = \"hihg\"", "severity = \"low\"");
    let fixed = served.wait_until(PAGE, "drops the overlay", |r| {
        !r.body.contains("id=\"rollbook-problems\"")
    });
    assert!(fixed.body.contains("low"));
    assert!(served.get("/__rollbook/status").body.contains("null"));
}

#[test]
fn deleted_and_renamed_reports_leave_the_site() {
    let site = TestSite::fixture("basic");
    let served = Served::start(&site, &[]);
    assert_eq!(served.get(PAGE).status, 200);

    // No other report links to this one: deleting it leaves no broken link.
    let hostile = "/reports/2023-03-03-hostile.html";
    assert_eq!(served.get(hostile).status, 200);
    site.remove("content/2023-03-03-hostile.md");
    let gone = served.wait_until(hostile, "is gone", |r| r.status == 404);
    assert!(
        gone.body.contains("/__rollbook/live.js"),
        "the theme's 404 page"
    );
    served.wait_until("/reports/index.html", "drops the report", |r| {
        r.status == 200 && !r.body.contains("2023-03-03-hostile")
    });

    site.write(
        "content/2025/2025-06-01-new.md",
        "+++\ntitle = \"A new report\"\ndate = 2025-06-01\nseverity = \"low\"\n+++\n\n## Summary\n\nNew.\n",
    );
    let old = "/reports/2025-06-01-new.html";
    served.wait_until(old, "exists", |r| r.status == 200);
    std::fs::rename(
        site.path().join("content/2025/2025-06-01-new.md"),
        site.path().join("content/2025/2025-06-02-renamed.md"),
    )
    .expect("rename");
    served.wait_until("/reports/2025-06-02-renamed.html", "exists", |r| {
        r.status == 200
    });
    served.wait_until(old, "is gone", |r| r.status == 404);
    // A deletion that leaves a link broken is an error like any other.
    site.remove(REPORT);
    served.wait_until(PAGE, "keeps the last good page", |r| {
        r.status == 200 && r.body.contains("broken-link")
    });
}

#[test]
fn a_burst_of_writes_is_a_few_rebuilds_and_a_complete_site() {
    let site = TestSite::fixture("basic");
    let served = Served::start(&site, &[]);
    for i in 0..200 {
        site.write(
            &format!("content/burst/2025-07-{:02}-burst-{i:03}.md", i % 28 + 1),
            &format!(
                "+++\ntitle = \"Burst {i}\"\ndate = 2025-07-{:02}\nseverity = \"low\"\nservices = [\"burst-api\"]\n+++\n\n## Summary\n\nBurst report number {i}.\n\n## Lessons learned\n\n- Lesson {i}.\n\n## Action items\n\n- [ ] Fix {i} (owner: @ann, due: 2026-01-01)\n",
                i % 28 + 1
            ),
        );
    }
    served.wait_until(
        "/services/burst-api/index.html",
        "counts 200 reports",
        |r| r.status == 200 && r.body.contains("<span class=\"stat-value\">200</span>"),
    );
    for i in [0, 57, 199] {
        let target = format!("/reports/2025-07-{:02}-burst-{i:03}.html", i % 28 + 1);
        let text = format!("Burst report number {i}.");
        served.wait_until(&target, "is served", |r| {
            r.status == 200 && r.body.contains(&text)
        });
    }
    served.wait_until("/reports.json", "holds every report", |r| {
        r.body.matches("\"title\":\"Burst ").count() == 200
    });
    let rebuilds = served.stderr().matches("Changed ").count();
    assert!(
        (1..=10).contains(&rebuilds),
        "{rebuilds} rebuilds for 200 writes:\n{}",
        served.stderr()
    );
}

#[test]
fn paths_outside_the_output_are_never_served() {
    let site = TestSite::fixture("basic");
    let served = Served::start(&site, &[]);
    std::os::unix::fs::symlink("/etc", served.output.join("etc-link")).expect("symlink");
    for target in [
        "/../../../../../../etc/passwd",
        "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/reports/%2E%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/etc/passwd",
        "//etc/passwd",
        "/etc-link/passwd",
        "/%2fetc%2fpasswd",
        "/..\\..\\etc\\passwd",
    ] {
        let response = served.get(target);
        assert!(
            matches!(response.status, 400 | 403 | 404),
            "{target}: {}",
            response.status
        );
        assert!(
            !response.body.contains("root:"),
            "{target} leaked /etc/passwd"
        );
    }
    // What is inside is served, with its type.
    let css = served.get("/style.css");
    assert_eq!(css.status, 200);
    assert!(
        css.header("content-type")
            .is_some_and(|t| t.starts_with("text/css"))
    );
    let directory = served.get("/reports/");
    assert_eq!(directory.status, 200, "a directory's index.html");
    let missing = served.get("/no/such/page.html");
    assert_eq!(missing.status, 404);
}

#[test]
fn the_live_reload_stream_tells_a_client_when_a_rebuild_finished() {
    let site = TestSite::fixture("basic");
    let served = Served::start(&site, &[]);
    let mut stream = TcpStream::connect(&served.address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .expect("timeout");
    write!(
        stream,
        "GET /__rollbook/events HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\n\r\n",
        served.address
    )
    .expect("send");
    let mut lines = BufReader::new(stream).lines();
    let mut read_until = |wanted: &str| -> Vec<String> {
        let mut seen = Vec::new();
        for line in lines.by_ref() {
            let line = line
                .unwrap_or_else(|e| panic!("stream ended before {wanted:?}: {e}; saw {seen:?}"));
            let found = line.contains(wanted);
            seen.push(line);
            if found {
                return seen;
            }
        }
        panic!("stream closed before {wanted:?}; saw {seen:?}");
    };
    let head = read_until("event: hello");
    assert!(
        head.iter()
            .any(|l| l.to_ascii_lowercase().contains("text/event-stream")),
        "{head:?}"
    );
    edit(&site, REPORT, "for two hours", "for four hours");
    read_until("event: reload");
    assert!(served.get(PAGE).body.contains("for four hours"));
}

#[test]
fn a_port_in_use_is_a_clear_error() {
    let site = TestSite::fixture("basic");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("address").port().to_string();
    let run = site.run(&["serve", "--port", &port]);
    run.assert_code(2);
    assert!(
        run.stderr.contains(&format!("port {port}")) && run.stderr.contains("already in use"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_template_change_rebuilds_every_page_and_the_built_site_has_no_reload_script() {
    let site = TestSite::fixture("basic");
    let served = Served::start(&site, &["--no-drafts"]);
    assert_eq!(
        served.get("/reports/2025-08-01-draft-cache.html").status,
        404
    );
    site.write("templates/report.html", EDITED_TITLE);
    served.wait_until(PAGE, "uses the new template", |r| r.body.contains("EDITED"));
    // A template that fails on the content is shown like a broken report.
    site.write(
        "templates/report.html",
        "{% extends \"theme/report.html\" %}{% block content %}{{ report.no_such_field.deeper }}{% endblock content %}",
    );
    served.wait_until(PAGE, "shows the template error", |r| {
        r.body.contains("rollbook-problems") && r.body.contains("error[template]")
    });
    site.write("templates/report.html", EDITED_TITLE);
    served.wait_until(PAGE, "is fixed", |r| !r.body.contains("rollbook-problems"));
    assert!(
        served
            .get("/reports/2024-01-26-payments-pool.html")
            .body
            .contains("EDITED")
    );
    drop(served);

    site.build().assert_code(0);
    let mut pages = 0;
    for file in site.files("public") {
        if file.extension().is_some_and(|e| e == "html") {
            pages += 1;
            let html = site.read(&format!("public/{}", file.display()));
            assert!(
                !html.contains("__rollbook"),
                "{} has serve's script",
                file.display()
            );
        }
    }
    assert!(pages > 10);
}

/// The temporary output goes when serve stops.
#[test]
fn stopping_removes_the_served_directory() {
    let site = TestSite::fixture("basic");
    let served = Served::start(&site, &[]);
    let output: PathBuf = served.output.clone();
    assert!(output.join("index.html").is_file());
    drop(served);
    assert!(
        !Path::new(&output).exists(),
        "{} left behind",
        output.display()
    );
}

#[test]
fn a_broken_configuration_is_shown_until_fixed_even_when_a_template_changes() {
    let site = TestSite::fixture("basic");
    let served = Served::start(&site, &[]);
    let config = site.read("rollbook.toml");
    site.write("rollbook.toml", &format!("{config}\ntitel = \"Typo\"\n"));
    served.wait_until(PAGE, "shows the configuration error", |r| {
        r.body.contains("rollbook-problems") && r.body.contains("titel")
    });
    // A template saved meanwhile loads fine, but the configuration is still broken.
    site.write("templates/report.html", EDITED_TITLE);
    served.wait_for_stderr("templates or static files");
    assert!(
        served.get(PAGE).body.contains("titel"),
        "{}",
        served.stderr()
    );
    site.write("rollbook.toml", &config);
    let fixed = served.wait_until(PAGE, "is fixed", |r| !r.body.contains("rollbook-problems"));
    assert!(
        fixed.body.contains("EDITED"),
        "the template saved meanwhile is used"
    );
}
