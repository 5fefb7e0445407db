//! `rollbook build` on fixture sites: the JSON export, the pages, escaping, exit codes and
//! the output guarantees (atomic, reproducible, never deleting what it did not create).

mod common;

use std::path::Path;

use common::{TestSite, links};
use serde_json::Value;

/// The tags of an HTML page (`<a href=…>`, `<img …>`), as written.
fn tags(html: &str) -> Vec<&str> {
    html.match_indices('<')
        .filter_map(|(i, _)| {
            let rest = &html[i..];
            rest[1..]
                .starts_with(|c: char| c.is_ascii_alphabetic())
                .then(|| &rest[..rest.find('>').unwrap_or(rest.len()) + 1])
        })
        .collect()
}

fn report<'a>(json: &'a Value, id: &str) -> &'a Value {
    json["reports"]
        .as_array()
        .expect("reports array")
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no report {id}"))
}

#[test]
fn reports_json_holds_every_published_report_with_lessons_and_actions() {
    let site = TestSite::fixture("basic");
    site.build().assert_code(0);
    let json = site.json("public/reports.json");
    let ids: Vec<&str> = json["reports"]
        .as_array()
        .expect("array")
        .iter()
        .map(|r| r["id"].as_str().expect("id"))
        .collect();
    assert_eq!(
        ids,
        [
            "2025-05-27-webhook-backlog",
            "2024-01-26-payments-pool",
            "2023-03-03-hostile"
        ],
        "newest first, draft left out"
    );

    let pool = report(&json, "2024-01-26-payments-pool");
    assert_eq!(pool["severity"], "critical");
    assert_eq!(pool["status"], "final");
    assert_eq!(pool["response"], "rollback");
    assert_eq!(pool["release"]["from"], "2.5.0");
    assert_eq!(pool["timeline"]["started"], "2024-01-26T10:00:00Z");
    assert_eq!(pool["timeline"]["outcome"], "success");
    assert_eq!(pool["duration_minutes"], 45);
    assert_eq!(pool["url"], "reports/2024-01-26-payments-pool.html");

    let lessons: Vec<(&Value, &str)> = pool["lessons"]
        .as_array()
        .expect("lessons")
        .iter()
        .map(|l| (&l["category"], l["text"].as_str().expect("text")))
        .collect();
    assert_eq!(lessons.len(), 3);
    assert_eq!(
        lessons[0],
        (&Value::Null, "Canary stages must drive real concurrency.")
    );
    assert_eq!(
        lessons[1],
        (
            &Value::from("Areas for improvement"),
            "Alert on ratios, not counts."
        )
    );
    let first = &pool["lessons"][0];
    assert_eq!(
        first["url"],
        format!(
            "reports/2024-01-26-payments-pool.html#{}",
            first["id"].as_str().expect("id")
        )
    );

    let alert = &pool["actions"][0];
    assert_eq!(alert["text"], "Alert when the 5xx ratio exceeds 1%");
    assert_eq!(alert["owner"], "@wren");
    assert_eq!(alert["due"], "2024-02-15");
    assert_eq!(alert["ticket"], "PAY-123");
    assert_eq!(alert["status"], "open");
    assert_eq!(
        alert["overdue"], true,
        "due before SOURCE_DATE_EPOCH's date"
    );
    assert_eq!(pool["actions"][1]["status"], "done");
    assert_eq!(pool["actions"][1]["owner"], Value::Null);
    assert_eq!(pool["actions"][2]["overdue"], false, "due in 2099");

    let webhook = report(&json, "2025-05-27-webhook-backlog");
    assert_eq!(webhook["response"], "roll-forward");
    assert_eq!(webhook["duration_minutes"], 125);
    assert_eq!(webhook["timeline"]["detected"], Value::Null);
    let table: Vec<(&str, &str, &str)> = webhook["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .map(|a| {
            (
                a["type"].as_str().expect("type"),
                a["status"].as_str().expect("status"),
                a["ticket"].as_str().expect("ticket"),
            )
        })
        .collect();
    assert_eq!(
        table,
        [
            ("prevent", "done", "PAY-1610"),
            ("detect", "open", "PAY-1625")
        ]
    );
    let categories: Vec<&str> = webhook["lessons"]
        .as_array()
        .expect("lessons")
        .iter()
        .map(|l| l["category"].as_str().expect("category"))
        .collect();
    assert_eq!(categories, ["What went well", "What went wrong"]);
}

#[test]
fn drafts_are_published_only_with_the_drafts_flag() {
    let site = TestSite::fixture("basic");
    site.build().assert_code(0);
    assert!(!site.exists("public/reports/2025-08-01-draft-cache.html"));
    site.run(&["build", "--drafts"]).assert_code(0);
    assert!(site.exists("public/reports/2025-08-01-draft-cache.html"));
    let json = site.json("public/reports.json");
    assert_eq!(report(&json, "2025-08-01-draft-cache")["status"], "draft");
}

#[test]
fn report_page_shows_metadata_toc_body_and_anchored_lessons_and_actions() {
    let site = TestSite::fixture("basic");
    site.build().assert_code(0);
    let html = site.read("public/reports/2024-01-26-payments-pool.html");
    for expected in [
        "Payment errors after 2.5.0",
        "critical",
        "payments-api",
        "2.5.0",
        "2.4.0",
        "45 min",
        "Wren Okafor",
        "Incident Commander",
    ] {
        assert!(html.contains(expected), "report page lacks {expected:?}");
    }
    let json = site.json("public/reports.json");
    let pool = report(&json, "2024-01-26-payments-pool");
    for item in pool["lessons"]
        .as_array()
        .expect("lessons")
        .iter()
        .chain(pool["actions"].as_array().expect("actions"))
    {
        let id = item["id"].as_str().expect("id");
        assert!(
            html.contains(&format!("id=\"{id}\"")),
            "the body has no anchor {id}"
        );
        assert!(
            html.contains(&format!("href=\"#{id}\"")),
            "nothing links to the anchor {id}"
        );
    }
    assert!(
        html.contains("id=\"4-3-corrective-actions\""),
        "headings get ids for the table of contents"
    );
    assert!(
        html.contains("href=\"#4-3-corrective-actions\""),
        "the table of contents links to headings"
    );
    assert!(
        html.contains("href=\"../reports/2025-05-27-webhook-backlog.html\""),
        "a relative .md link becomes a relative link to the report page"
    );
    let webhook = site.read("public/reports/2025-05-27-webhook-backlog.html");
    assert!(
        webhook
            .contains("href=\"../reports/2024-01-26-payments-pool.html#4-2-root-cause-analysis\""),
        "@/ links keep their fragment"
    );
}

#[test]
fn lessons_and_actions_pages_list_everything_with_filters_and_pages() {
    let site = TestSite::fixture("basic");
    site.build().assert_code(0);
    let lessons = site.read("public/lessons/index.html");
    assert!(lessons.contains("Canary stages must drive real concurrency."));
    assert!(lessons.contains(
        "reports/2024-01-26-payments-pool.html#lesson-canary-stages-must-drive-real-concurrency"
    ));
    // paginate = 3 in the fixture: 6 lessons make two pages.
    assert!(site.exists("public/lessons/page-2.html"));
    assert!(
        lessons.contains("lessons/page-2.html"),
        "page 1 links to page 2"
    );
    assert!(site.exists("public/lessons/category/what-went-well/index.html"));
    assert!(
        site.read("public/lessons/category/areas-for-improvement/index.html")
            .contains("Rehearse the rollback.")
    );

    assert!(
        lessons.contains("href=\"../services/payments-api/lessons/index.html\""),
        "the lessons list filters by service"
    );
    assert!(
        lessons.contains("href=\"../tags/dependency-upgrade/lessons/index.html\""),
        "… and by tag"
    );
    let open = site.read("public/actions/index.html");
    assert!(
        open.contains("href=\"../services/payments-api/actions/index.html\""),
        "the open actions list filters by service"
    );
    assert!(open.contains("Alert when the 5xx ratio exceeds 1%"));
    assert!(
        !open.contains("Ship the hotfix"),
        "done actions are not on the open list"
    );
    let anchor = "reports/2024-01-26-payments-pool.html#action-alert-when-the-5xx-ratio-exceeds";
    assert_eq!(
        open.matches(anchor).count(),
        1,
        "a listed action links to its anchor once, from the Report column"
    );
    assert!(
        lessons.contains(
            "#lesson-canary-stages-must-drive-real-concurrency\" title=\"Show in the report\" \
             aria-label=\"Show this lesson in the report\"></a>"
        ),
        "a lesson's link to its anchor has an accessible name (its icon comes from CSS)"
    );
    let report = site.read("public/reports/2024-01-26-payments-pool.html");
    assert!(
        report.contains(
            "href=\"#action-alert-when-the-5xx-ratio-exceeds\" title=\"Show in the report\" \
             aria-label=\"Show this action in the report\""
        ),
        "on its report page an action links to its anchor in the body"
    );
    let overdue = site.read("public/actions/overdue/index.html");
    assert!(overdue.contains("Alert when the 5xx ratio exceeds 1%"));
    assert!(overdue.contains("Replay recorded webhooks against every release"));
    assert!(
        !overdue.contains("Load-test with production pool sizes"),
        "due in 2099 is not overdue"
    );
    assert!(
        site.read("public/actions/done/index.html")
            .contains("Ship the hotfix")
    );
    assert!(
        !site.exists("public/actions/all/index.html"),
        "open and done together are all"
    );
}

#[test]
fn every_term_has_a_page_with_its_reports_lessons_and_open_actions() {
    let site = TestSite::fixture("basic");
    site.build().assert_code(0);
    let service = site.read("public/services/payments-api/index.html");
    assert!(service.contains("Payment errors after 2.5.0"));
    assert!(service.contains("Webhook backlog after SDK upgrade"));
    assert!(!service.contains("Hostile"));
    assert!(
        service.contains("Load-test with production pool sizes"),
        "open actions of the term"
    );
    assert!(
        site.read("public/services/payments-api/lessons/index.html")
            .contains("Feature flags do not protect dependency versions.")
    );
    assert!(
        site.read("public/services/payments-api/actions/index.html")
            .contains("Replay recorded webhooks")
    );
    assert!(site.exists("public/teams/payments/lessons/index.html"));
    assert!(
        !site.exists("public/severity/critical/lessons/index.html")
            && !site.exists("public/years/2024/actions/index.html"),
        "severities and years have no lists of their own: nothing links to them"
    );
    for page in [
        "tags/connection-pool",
        "teams/payments",
        "severity/critical",
        "years/2024",
    ] {
        assert!(site.exists(&format!("public/{page}/index.html")), "{page}");
    }
    for index in ["services", "tags", "teams", "severity", "years"] {
        assert!(
            site.exists(&format!("public/{index}/index.html")),
            "{index}"
        );
    }
}

#[test]
fn every_relative_link_on_every_page_points_at_a_file_in_the_output() {
    let site = TestSite::fixture("basic");
    site.build().assert_code(0);
    let public = site.path().join("public");
    let mut checked = 0;
    for file in site.files("public") {
        if file.extension().is_none_or(|e| e != "html") || file == Path::new("404.html") {
            continue;
        }
        let html = site.read(&format!("public/{}", file.display()));
        let dir = public.join(&file).parent().expect("parent").to_path_buf();
        for link in links(&html) {
            if link.starts_with('#') || link.contains("://") || link.starts_with("mailto:") {
                continue;
            }
            let target = link.split('#').next().unwrap_or_default();
            assert!(
                !target.starts_with('/'),
                "{}: root-absolute link {link} breaks sub-path hosting",
                file.display()
            );
            assert!(
                dir.join(target).is_file(),
                "{}: broken link {link}",
                file.display()
            );
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} links checked");
}

#[test]
fn hostile_markdown_is_shown_as_text_and_never_runs() {
    let site = TestSite::fixture("basic");
    site.build().assert_code(0);
    let pages = [
        "public/reports/2023-03-03-hostile.html",
        "public/lessons/index.html",
        "public/actions/index.html",
        "public/index.html",
        "public/tags/security/index.html",
        "public/tags/security/lessons/index.html",
        "public/lessons/page-2.html",
    ];
    for page in pages {
        let html = site.read(page);
        assert!(!html.contains("<script>alert"), "{page} runs a script");
        assert!(!html.contains("<img src=x"), "{page} has a raw img");
        for tag in tags(&html) {
            assert!(
                !tag.to_lowercase().contains("onerror"),
                "{page} has a live handler in {tag}"
            );
        }
        assert!(
            !html.to_lowercase().contains("javascript:"),
            "{page} has a javascript: URL"
        );
    }
    let body = site.read("public/reports/2023-03-03-hostile.html");
    assert!(
        body.contains("&lt;script&gt;alert("),
        "the script is shown as text"
    );
    assert!(body.contains("click me"), "the dropped link keeps its text");
    assert!(
        site.read("public/tags/security/lessons/index.html")
            .contains("&lt;script&gt;alert(")
    );
    let feed = site.read("public/atom.xml");
    assert!(!feed.contains("<script>alert"), "the feed escapes titles");
}

#[test]
fn unsafe_html_lets_raw_html_through_when_the_site_asks_for_it() {
    let site = TestSite::fixture("basic");
    site.write("rollbook.toml", "unsafe_html = true\n");
    site.build().assert_code(0);
    assert!(
        site.read("public/reports/2023-03-03-hostile.html")
            .contains("<script>alert('body')</script>")
    );
}

#[test]
fn content_errors_exit_1_and_name_file_line_and_column() {
    let site = TestSite::fixture("basic");
    site.write(
        "content/bad.md",
        "+++\ntitle = \"Bad\"\ndate = 2024-01-01\nseverity = \"critcal\"\n+++\n",
    );
    site.write(
        "content/worse.md",
        "+++\ntitle = \"Worse\"\ndate = 2024-01-01\nseverity = \"low\"\nservces = []\n+++\n",
    );
    let run = site.build();
    run.assert_code(1);
    assert!(run.stderr.contains("content/bad.md:4:12"), "{}", run.stderr);
    assert!(
        run.stderr.contains("did you mean \"critical\"?"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("content/worse.md:5:1"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("did you mean `services`?"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("2 errors"),
        "every problem in one run: {}",
        run.stderr
    );
    assert!(!site.exists("public"), "nothing is written");
}

#[test]
fn a_link_to_a_missing_report_is_an_error_at_its_line() {
    let site = TestSite::fixture("basic");
    site.write(
        "content/links.md",
        "+++\ntitle = \"Links\"\ndate = 2024-01-01\nseverity = \"low\"\n+++\n\nIntro.\n\nSee [gone](gone-report.md).\n",
    );
    let run = site.build();
    run.assert_code(1);
    assert!(run.stderr.contains("error[broken-link]"), "{}", run.stderr);
    assert!(
        run.stderr.contains("content/links.md:9:5"),
        "{}",
        run.stderr
    );
}

#[test]
fn duplicate_report_ids_are_an_error() {
    let site = TestSite::fixture("basic");
    site.write(
        "content/other/2025-05-27-webhook-backlog.md",
        "+++\ntitle = \"Copy\"\ndate = 2024-01-01\nseverity = \"low\"\n+++\n",
    );
    let run = site.build();
    run.assert_code(1);
    assert!(run.stderr.contains("error[duplicate-id]"), "{}", run.stderr);
}

#[test]
fn usage_and_environment_problems_exit_2() {
    let site = TestSite::fixture("basic");
    site.run(&["build", "--no-such-flag"]).assert_code(2);
    let missing = site.run(&["build", "--root", "does-not-exist"]);
    missing.assert_code(2);
    assert!(
        missing.stderr.contains("does-not-exist"),
        "{}",
        missing.stderr
    );
    let empty = tempfile::tempdir().expect("tempdir");
    let no_content = site.run(&["build", "--root", empty.path().to_str().expect("utf-8")]);
    no_content.assert_code(2);
    assert!(
        no_content.stderr.contains("rollbook init"),
        "{}",
        no_content.stderr
    );
}

#[test]
fn a_build_that_fails_midway_leaves_the_previous_output_untouched() {
    let site = TestSite::fixture("basic");
    site.build().assert_code(0);
    let before = site.read("public/index.html");
    // A site template that fails while pages are being rendered, after writing has begun.
    site.write("templates/report.html", "{% extends \"theme/report.html\" %}{% block content %}{{ report.no_such_field.deeper }}{% endblock content %}");
    site.write(
        "content/2024/2024-01-26-payments-pool.md",
        &site
            .read("content/2024/2024-01-26-payments-pool.md")
            .replace("Payment errors", "Changed title"),
    );
    let run = site.build();
    run.assert_code(1);
    assert!(run.stderr.contains("report.html"), "{}", run.stderr);
    assert_eq!(
        site.read("public/index.html"),
        before,
        "the old output is served as it was"
    );
    let leftovers: Vec<_> = std::fs::read_dir(site.path())
        .expect("ls")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("rollbook-tmp"))
        .collect();
    assert!(leftovers.is_empty(), "the temporary output is cleaned up");
}

#[test]
fn a_content_error_leaves_the_previous_output_untouched() {
    let site = TestSite::fixture("basic");
    site.build().assert_code(0);
    let before = site.read("public/reports.json");
    site.write("content/bad.md", "+++\ntitle = \"Bad\"\n+++\n");
    site.build().assert_code(1);
    assert_eq!(site.read("public/reports.json"), before);
}

#[test]
fn rollbook_refuses_to_replace_a_directory_it_did_not_create() {
    let site = TestSite::fixture("basic");
    site.write("precious/notes.txt", "do not delete");
    let run = site.run(&["build", "--output", "precious"]);
    run.assert_code(2);
    assert!(
        run.stderr.contains("not created by rollbook"),
        "{}",
        run.stderr
    );
    assert_eq!(site.read("precious/notes.txt"), "do not delete");
    // Its own output it replaces freely, build after build.
    site.run(&["build", "--output", "out"]).assert_code(0);
    site.run(&["build", "--output", "out"]).assert_code(0);
}

#[test]
fn the_same_content_and_date_give_byte_identical_output() {
    let site = TestSite::fixture("basic");
    site.run(&["build", "--output", "first"]).assert_code(0);
    site.run(&["build", "--output", "second"]).assert_code(0);
    // tantivy names index segments with random ids, and its writer threads may order
    // documents differently: the index, its chunks for the browser and the worker that names
    // them are the part of the output that changes from build to build. Everything else
    // (the engine included) is byte-identical.
    let outside_index = |dir: &str| -> Vec<std::path::PathBuf> {
        site.files(dir)
            .into_iter()
            .filter(|f| {
                !f.starts_with("search/index")
                    && !f.starts_with("search/web")
                    && !f.ends_with("search/worker.js")
            })
            .collect()
    };
    let files = outside_index("first");
    assert_eq!(files, outside_index("second"));
    assert!(files.len() > 30);
    assert!(site.exists("first/search/index/meta.json"));
    assert!(site.exists("second/search/index/meta.json"));
    for file in files {
        let a = std::fs::read(site.path().join("first").join(&file)).expect("read");
        let b = std::fs::read(site.path().join("second").join(&file)).expect("read");
        assert!(a == b, "{} differs between two builds", file.display());
    }
}

#[test]
fn base_url_makes_feed_sitemap_and_canonical_links_absolute() {
    let site = TestSite::fixture("basic");
    site.run(&["build", "--base-url", "https://kb.example.com/sre"])
        .assert_code(0);
    let sitemap = site.read("public/sitemap.xml");
    assert!(
        sitemap.contains(
            "<loc>https://kb.example.com/sre/reports/2024-01-26-payments-pool.html</loc>"
        ),
        "{sitemap}"
    );
    assert!(!sitemap.contains("404"));
    let feed = site.read("public/atom.xml");
    assert!(
        feed.contains("https://kb.example.com/sre/reports/2025-05-27-webhook-backlog.html"),
        "{feed}"
    );
    let page = site.read("public/reports/2024-01-26-payments-pool.html");
    assert!(page.contains(
        "rel=\"canonical\" href=\"https://kb.example.com/sre/reports/2024-01-26-payments-pool.html\""
    ));
    assert!(
        page.contains("href=\"../style.css\""),
        "page links stay relative"
    );
    let json = site.json("public/reports.json");
    assert_eq!(
        report(&json, "2024-01-26-payments-pool")["url"],
        "https://kb.example.com/sre/reports/2024-01-26-payments-pool.html"
    );
    assert!(
        site.read("public/404.html").contains("/sre/style.css"),
        "the 404 page links from the site's path"
    );
}

#[test]
fn a_site_template_extends_the_theme_and_overrides_one_block() {
    let site = TestSite::fixture("basic");
    site.write(
        "templates/report.html",
        "{% extends \"theme/report.html\" %}{% block report_footer %}<p class=\"house-rule\">Questions? #incident-review</p>{% endblock report_footer %}",
    );
    site.write("static/extra.txt", "copied");
    site.build().assert_code(0);
    let html = site.read("public/reports/2024-01-26-payments-pool.html");
    assert!(html.contains("house-rule"), "the override is used");
    assert!(
        html.contains("Payment errors after 2.5.0"),
        "the rest of the theme's page is kept"
    );
    assert_eq!(site.read("public/extra.txt"), "copied");
}

#[test]
fn the_theme_needs_nothing_from_outside_the_site() {
    let site = TestSite::fixture("basic");
    site.build().assert_code(0);
    let css = site.read("public/style.css");
    assert!(css.contains("prefers-color-scheme: dark"), "dark mode");
    assert!(css.contains("@media print"), "print stylesheet");
    for file in site.files("public") {
        let name = file.display().to_string();
        if name.ends_with(".html") || name.ends_with(".css") {
            let text = site.read(&format!("public/{name}"));
            // The one script is the theme's search.js, from the site itself: no inline code
            // and nothing a page needs except search (see the search page's test).
            for script in text.split("<script").skip(1) {
                let tag = &script[..script.find('>').expect("closed tag")];
                assert!(
                    tag.contains("search.js\" defer"),
                    "{name}: a script other than search.js: <script{tag}>"
                );
                assert!(
                    script[tag.len() + 1..].starts_with("</script>"),
                    "{name}: inline JavaScript"
                );
            }
            for link in links(&text) {
                assert!(
                    !link.starts_with("http") || link.contains("example.com"),
                    "{name}: external resource {link}"
                );
            }
            assert!(!text.contains("@import url(http"), "{name}: external CSS");
        }
    }
}

#[test]
fn bom_and_crlf_reports_build() {
    let site = TestSite::empty();
    site.write("content/crlf.md", "\u{feff}+++\r\ntitle = \"Windows\"\r\ndate = 2024-01-01\r\nseverity = \"low\"\r\n+++\r\n\r\n## Lessons\r\n\r\n- Line endings vary.\r\n");
    site.build().assert_code(0);
    let json = site.json("public/reports.json");
    assert_eq!(
        json["reports"][0]["lessons"][0]["text"],
        "Line endings vary."
    );
}

#[test]
fn report_ids_that_collide_with_list_pages_are_an_error() {
    let site = TestSite::fixture("basic");
    site.write(
        "content/page-2.md",
        "+++\ntitle = \"Page\"\ndate = 2024-01-01\nseverity = \"low\"\n+++\n",
    );
    let run = site.build();
    run.assert_code(1);
    assert!(run.stderr.contains("error[reserved-id]"), "{}", run.stderr);
    assert!(run.stderr.contains("content/page-2.md"), "{}", run.stderr);
}

#[test]
fn every_page_has_the_search_box_and_the_search_page_says_what_it_needs() {
    let site = TestSite::fixture("basic");
    site.run(&["build", "--base-url", "https://kb.example.com/sre"])
        .assert_code(0);
    let mut pages = 0;
    for file in site.files("public") {
        let name = file.display().to_string();
        if !name.ends_with(".html") {
            continue;
        }
        let html = site.read(&format!("public/{name}"));
        // A plain GET form, so that the box leads to the search page without JavaScript.
        let root = if name == "404.html" {
            "/sre/".to_string()
        } else {
            "../".repeat(name.matches('/').count())
        };
        let form = format!("action=\"{root}search/index.html\" method=\"get\"");
        assert!(html.contains(&form), "{name}: no search form ({form})");
        assert!(html.contains("type=\"search\" name=\"q\""), "{name}");
        assert!(
            html.contains(&format!("<script src=\"{root}search.js\" defer")),
            "{name}: search.js"
        );
        pages += 1;
    }
    assert!(pages > 30, "only {pages} pages");
    assert!(
        site.exists("public/search.js"),
        "search.js ships with the theme"
    );

    let search = site.read("public/search/index.html");
    assert!(search.contains("<h1>Search</h1>"), "{search}");
    let noscript = search
        .split("<noscript>")
        .nth(1)
        .and_then(|rest| rest.split("</noscript>").next())
        .expect("a <noscript> block");
    assert!(noscript.contains("needs JavaScript"), "{noscript}");
    for list in ["reports", "lessons", "actions"] {
        assert!(
            noscript.contains(&format!("href=\"../{list}/index.html\"")),
            "{list} in {noscript}"
        );
    }
    let sitemap = site.read("public/sitemap.xml");
    assert!(
        sitemap.contains("<loc>https://kb.example.com/sre/search/</loc>"),
        "{sitemap}"
    );
}

#[test]
fn timings_split_the_index_stage_and_the_pages_by_kind() {
    let site = TestSite::fixture("basic");
    let run = site.run_with(&["build"], &[("ROLLBOOK_TIMINGS", "1")]);
    run.assert_code(0);
    let line = |name: &str| {
        run.stderr
            .lines()
            .find(|l| l.split_whitespace().take(2).eq(["timing:", name]))
            .unwrap_or_else(|| panic!("no timing line for {name}:\n{}", run.stderr))
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    for part in [
        "create",
        "record",
        "hash",
        "cut",
        "pack",
        "index+related",
        "related",
        "render+write",
    ] {
        line(part);
    }
    // Each kind of page: how many, and their bytes, which are the files written.
    let reports: Vec<_> = site
        .files("public/reports")
        .into_iter()
        .filter(|p| p != Path::new("index.html") && !p.to_string_lossy().starts_with("page-"))
        .collect();
    assert_eq!(reports.len(), 3, "{reports:?}");
    let pages = line("reports");
    assert_eq!(
        pages[2].parse::<usize>().expect("pages"),
        reports.len(),
        "{pages:?}"
    );
    let bytes: u64 = reports
        .iter()
        .map(|p| {
            std::fs::metadata(site.path().join("public/reports").join(p))
                .expect("page")
                .len()
        })
        .sum();
    let kib: f64 = pages[4].parse().expect("KiB");
    assert!(
        (kib - bytes as f64 / 1024.0).abs() <= 0.5,
        "{kib} KiB, {bytes} bytes"
    );
    // Without the variable, none of it.
    let quiet = site.build();
    assert!(!quiet.stderr.contains("timing:"), "{}", quiet.stderr);
}

#[test]
fn the_benchmarks_build_without_the_index_writes_the_site_alone() {
    let site = TestSite::fixture("basic");
    let run = site.run_with(&["build"], &[("ROLLBOOK_BENCH_WITHOUT_INDEX", "1")]);
    run.assert_code(0);
    assert!(
        !site.path().join("public/search/index").exists(),
        "no index"
    );
    assert!(
        !site.path().join("public/search/worker.js").exists(),
        "no browser copy"
    );
    let json: serde_json::Value =
        serde_json::from_str(&site.read("public/reports.json")).expect("reports.json");
    let reports = json["reports"].as_array().expect("reports");
    assert!(!reports.is_empty());
    for report in reports {
        assert_eq!(report["related"], serde_json::json!([]), "{report}");
    }
    // The same build with the index relates the fixture's reports.
    let run = site.run(&["build"]);
    run.assert_code(0);
    assert!(site.path().join("public/search/index/meta.json").exists());
    let json: serde_json::Value =
        serde_json::from_str(&site.read("public/reports.json")).expect("reports.json");
    assert!(
        json["reports"]
            .as_array()
            .expect("reports")
            .iter()
            .any(|r| r["related"].as_array().is_some_and(|a| !a.is_empty())),
        "{json}"
    );
}
