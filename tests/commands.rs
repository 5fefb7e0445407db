//! `rollbook init` and `rollbook new`: the files they write build, and they never overwrite.

mod common;

use common::TestSite;

#[test]
fn init_writes_a_site_that_builds() {
    let site = TestSite::empty();
    site.run(&["init", "kb"]).assert_code(0);
    assert!(site.exists("kb/rollbook.toml"));
    assert!(site.exists("kb/.gitignore"));
    let run = site.run(&["build", "--root", "kb"]);
    run.assert_code(0);
    let json = site.json("kb/public/reports.json");
    let report = &json["reports"][0];
    assert!(
        report["lessons"].as_array().is_some_and(|l| !l.is_empty()),
        "the example has lessons"
    );
    assert!(
        report["actions"].as_array().is_some_and(|a| !a.is_empty()),
        "the example has actions"
    );
}

#[test]
fn init_does_not_overwrite_a_site() {
    let site = TestSite::empty();
    site.run(&["init", "kb"]).assert_code(0);
    site.write("kb/rollbook.toml", "title = \"Mine\"\n");
    site.run(&["init", "kb"]).assert_code(2);
    assert_eq!(site.read("kb/rollbook.toml"), "title = \"Mine\"\n");
}

#[test]
fn new_writes_a_dated_draft_that_builds_and_refuses_to_overwrite() {
    let site = TestSite::empty();
    let run = site.run(&["new", "Checkout 500s after \"2.5.0\""]);
    run.assert_code(0);
    // SOURCE_DATE_EPOCH in the harness is 2025-09-01.
    let path = "content/2025-09-01-checkout-500s-after-2-5-0.md";
    assert!(
        run.stdout.trim().ends_with(path),
        "prints the new file: {}",
        run.stdout
    );
    let text = site.read(path);
    assert!(text.contains("date = 2025-09-01"));
    assert!(text.contains("status = \"draft\""));
    assert!(text.contains("Corrective Actions"));

    site.run(&["build"]).assert_code(0);
    assert!(
        !site.exists("public/reports/2025-09-01-checkout-500s-after-2-5-0.html"),
        "drafts are not published"
    );
    site.run(&["build", "--drafts"]).assert_code(0);
    assert!(site.exists("public/reports/2025-09-01-checkout-500s-after-2-5-0.html"));
    let json = site.json("public/reports.json");
    assert_eq!(
        json["reports"][0]["title"], "Checkout 500s after \"2.5.0\"",
        "quotes in the title survive"
    );

    site.write(path, "edited by hand");
    let again = site.run(&["new", "Checkout 500s after \"2.5.0\""]);
    again.assert_code(2);
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
    assert_eq!(site.read(path), "edited by hand");
}
