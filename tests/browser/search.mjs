// Browser cases of the site's search, run by tests/browser.rs:
//
//   node tests/browser/search.mjs BASE_URL CASE
//
// BASE_URL is the built search fixture (tests/fixtures/search), served over HTTP, or its
// output directory as a file: URL for `from_disk`. CHROMIUM is the browser binary,
// PROFILE_DIR a fresh profile directory, EXPECTED (for `parity`) what `rollbook search --json`
// found. Exits 0 when the case passes, 1 with the reason when it does not.

import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [base, name] = process.argv.slice(2);
const PAYMENTS = "reports/2024-01-26-payments-pool.html";
const HOSTILE_TITLE = 'Hostile <img src=x onerror="window.__pwned=1"> markup in the sanitizer';

// ---------- helpers ----------

/** Waits until the search form (page or header box) has the answer to its latest request. */
async function settled(page, form) {
  await page.waitForFunction((selector) => {
    const node = document.querySelector(selector);
    return node && !node.hasAttribute("aria-busy");
  }, form);
}

async function openSearchPage(page, params) {
  await page.goto(base + "search/index.html" + (params ? "?" + params : ""));
  await page.waitForSelector("#search-page:not([hidden])");
  await page.waitForFunction(() => {
    const form = document.querySelector("#search-page");
    return !form.hasAttribute("aria-busy") && (document.querySelector("#search-status").textContent || document.querySelector("#search-error:not([hidden])"));
  });
}

/** What the search page shows: the total and each hit's kind, url and text. */
async function pageResults(page) {
  return page.evaluate(() => {
    const count = document.querySelector("#search-status .search-count strong");
    const total = count ? Number(count.textContent.replace(/[^0-9]/g, "")) : 0;
    const hits = [...document.querySelectorAll("#search-hits > .search-hit")].map((li) => {
      const link = li.querySelector(".hit-title");
      return {
        kind: li.dataset.kind,
        href: link.getAttribute("href"),
        title: link.textContent,
        text: li.textContent,
        marks: [...li.querySelectorAll("mark")].map((m) => m.textContent),
        severity: (li.querySelector(".sev") || {}).dataset?.severity,
      };
    });
    return { total, hits, status: document.querySelector("#search-status").textContent };
  });
}

/** The href of a hit, back to the url relative to the site root (the page is one level down). */
function urlOf(href) {
  assert.ok(href.startsWith("../"), "a hit link relative to the root: " + href);
  return href.slice(3);
}

/** Types into the header box of the current page and waits for its results. */
async function typeInBox(page, text) {
  await page.keyboard.press("/");
  assert.equal(await page.evaluate(() => document.activeElement.id), "site-search-q", "/ focuses the box");
  await page.keyboard.type(text);
  await settled(page, "form.site-search");
  await page.waitForSelector("#site-search-popup:not([hidden])");
}

async function boxResults(page) {
  return page.evaluate(() => {
    const popup = document.querySelector("#site-search-popup");
    return {
      groups: [...popup.querySelectorAll("[role=group]")].map((g) => ({
        label: document.getElementById(g.getAttribute("aria-labelledby")).textContent,
        options: [...g.querySelectorAll("[role=option]")].map((o) => ({
          id: o.id,
          kind: o.dataset.kind,
          href: o.querySelector(".hit-title").getAttribute("href"),
          text: o.textContent,
          marks: [...o.querySelectorAll("mark")].map((m) => m.textContent.toLowerCase()),
        })),
      })),
      message: popup.querySelector(".ss-message").textContent,
      all: popup.querySelector(".ss-foot").hidden ? null : { text: popup.querySelector(".ss-all").textContent, href: popup.querySelector(".ss-all").getAttribute("href") },
      expanded: document.querySelector("#site-search-q").getAttribute("aria-expanded"),
      active: document.querySelector("#site-search-q").getAttribute("aria-activedescendant"),
      html: popup.innerHTML,
    };
  });
}

// ---------- cases ----------

const cases = {
  async box_results(page) {
    await page.goto(base + "index.html");
    await typeInBox(page, "pool");
    const box = await boxResults(page);
    assert.equal(box.expanded, "true");
    const labels = box.groups.map((g) => g.label);
    for (const label of ["Reports", "Lessons", "Actions"]) assert.ok(labels.includes(label), label + " in " + labels);
    const options = box.groups.flatMap((g) => g.options);
    for (const group of box.groups) {
      const kind = { Reports: "report", Lessons: "lesson", Actions: "action" }[group.label];
      assert.ok(group.options.every((o) => o.kind === kind), group.label + " holds only " + kind);
    }
    const titles = options.map((o) => o.text);
    assert.ok(titles.some((t) => t.includes("Payment errors after payments-api 2.5.0")), titles.join("\n"));
    assert.ok(titles.some((t) => t.includes("Add pool saturation to the checkout dashboard")), titles.join("\n"));
    assert.ok(titles.some((t) => t.includes("production pool sizes")), titles.join("\n"));
    const payments = options.find((o) => o.href === PAYMENTS);
    assert.ok(payments, "the payments report links to its page from the home page");
    assert.ok(payments.text.includes("2024-01-26") && payments.text.includes("critical") && payments.text.includes("payments-api"),
      "date, severity and services: " + payments.text);
    const lesson = options.find((o) => o.kind === "lesson");
    assert.ok(lesson.text.includes("in Payment errors") || lesson.text.includes("in Checkout 500s"), "a lesson names its report: " + lesson.text);
    assert.ok(lesson.href.includes("#lesson-"), lesson.href);
    assert.ok(options.every((o) => o.marks.some((m) => m.startsWith("pool"))), "every hit highlights pool");
    assert.ok(box.all, "a link to all results");
    assert.match(box.all.text, /^See all \d+ results?$/);
    assert.equal(box.all.href, "search/index.html?q=pool");
    assert.equal(await page.getAttribute("#site-search-q", "role"), "combobox");
    assert.equal(await page.getAttribute("#site-search-listbox", "role"), "listbox");
  },

  async box_keyboard(page) {
    const from = "reports/2024-06-10-checkout-pool.html";
    await page.goto(base + from);
    await typeInBox(page, "saturation");
    let box = await boxResults(page);
    const first = box.groups[0].options[0];
    assert.match(first.href, /^\.\.\/reports\/2024-06-10-checkout-pool\.html#action-add-pool-saturation/);
    await page.keyboard.press("ArrowDown");
    box = await boxResults(page);
    assert.equal(box.active, first.id, "ArrowDown selects the first hit");
    assert.equal(await page.getAttribute("#" + first.id, "aria-selected"), "true");
    await page.keyboard.press("Escape");
    box = await boxResults(page);
    assert.equal(box.expanded, "false", "Escape closes");
    assert.equal(await page.isHidden("#site-search-popup"), true);
    assert.equal(await page.inputValue("#site-search-q"), "saturation", "Escape keeps the text");
    await page.keyboard.press("ArrowDown");
    assert.equal(await page.isVisible("#site-search-popup"), true, "ArrowDown opens again");
    box = await boxResults(page);
    assert.equal(box.active, first.id, "on the first hit");
    const options = box.groups.flatMap((g) => g.options);
    if (options.length > 1) {
      await page.keyboard.press("ArrowDown");
      assert.equal((await boxResults(page)).active, options[1].id, "ArrowDown moves down");
      await page.keyboard.press("ArrowUp");
      assert.equal((await boxResults(page)).active, first.id, "ArrowUp moves up");
    }
    await page.keyboard.press("ArrowUp");
    assert.equal((await boxResults(page)).active, options[options.length - 1].id, "from the first hit, ArrowUp wraps to the last");
    await page.keyboard.press("ArrowDown");
    assert.equal((await boxResults(page)).active, first.id, "and ArrowDown back to the first");
    await Promise.all([page.waitForURL(/#action-add-pool-saturation/), page.keyboard.press("Enter")]);
    assert.equal(new URL(page.url()).pathname.endsWith("/reports/2024-06-10-checkout-pool.html"), true, page.url());

    // Enter with nothing selected: the search page, with the query.
    await page.goto(base + "lessons/index.html");
    await typeInBox(page, "deadlock");
    await Promise.all([page.waitForURL(/search\/index\.html\?q=deadlock$/), page.keyboard.press("Enter")]);
    await page.waitForSelector("#search-page:not([hidden])");
    assert.equal(await page.inputValue("#search-q"), "deadlock");

    // "/" in a text field is a character, not the shortcut.
    await page.goto(base + "index.html");
    await page.focus("#site-search-q");
    await page.keyboard.type("a/b");
    assert.equal(await page.inputValue("#site-search-q"), "a/b");
  },

  async phrase(page) {
    await openSearchPage(page, "q=" + encodeURIComponent('"connection pool exhausted"'));
    const phrase = await pageResults(page);
    assert.equal(phrase.total, 1, phrase.status);
    assert.equal(phrase.hits.length, 1);
    assert.equal(urlOf(phrase.hits[0].href), PAYMENTS);
    assert.deepEqual(phrase.hits[0].marks.slice(0, 3).map((m) => m.toLowerCase()), ["connection", "pool", "exhausted"]);
    await openSearchPage(page, "q=" + encodeURIComponent("connection pool exhausted"));
    const words = await pageResults(page);
    assert.ok(words.total > 1, "the words without quotes find more: " + words.status);
    assert.ok(words.hits.some((h) => urlOf(h.href).startsWith("reports/2024-06-10-checkout-pool.html")));
  },

  async facet(page) {
    await openSearchPage(page, "q=pool");
    const before = await pageResults(page);
    const count = async (param, value) => {
      const text = await page.textContent(`.facet-${param} input[value="${value}"] ~ .count`);
      return Number(text);
    };
    const critical = await count("severity", "critical");
    assert.ok(critical > 0 && critical < before.total, `critical ${critical} of ${before.total}`);
    await page.check('.facet-severity input[value="critical"]');
    await settled(page, "#search-page");
    const narrowed = await pageResults(page);
    assert.equal(narrowed.total, critical, "the count beside the facet is the number of results");
    assert.ok(narrowed.hits.every((h) => h.severity === "critical"), JSON.stringify(narrowed.hits.map((h) => h.severity)));
    assert.match(page.url(), /[?&]severity=critical(&|$)/);
    // A second facet narrows again, to its own count.
    const lessons = await count("kind", "lesson");
    await page.check('.facet-kind input[value="lesson"]');
    await settled(page, "#search-page");
    const both = await pageResults(page);
    assert.equal(both.total, lessons);
    assert.ok(both.hits.every((h) => h.kind === "lesson" && h.severity === "critical"));
    assert.equal(await page.isChecked('.facet-severity input[value="critical"]'), true);
    assert.match(page.url(), /q=pool&kind=lesson&severity=critical$/);
    // And unchecking brings the results back.
    await page.uncheck('.facet-severity input[value="critical"]');
    await page.uncheck('.facet-kind input[value="lesson"]');
    await settled(page, "#search-page");
    assert.equal((await pageResults(page)).total, before.total);
    assert.match(page.url(), /\?q=pool$/);
  },

  async typo(page) {
    await openSearchPage(page, "q=conection");
    const results = await pageResults(page);
    assert.ok(results.total > 0, "a misspelled word still finds: " + results.status);
    assert.ok(results.hits.some((h) => /connection/i.test(h.text)), results.hits.map((h) => h.title).join("\n"));
    assert.match(await page.textContent("#search-status .search-fuzzy"), /conection/);
  },

  async url_state(page) {
    await openSearchPage(page, "q=pool&kind=lesson&severity=critical&year=2024&sort=date");
    assert.equal(await page.inputValue("#search-q"), "pool");
    assert.equal(await page.isChecked('.facet-kind input[value="lesson"]'), true);
    assert.equal(await page.isChecked('.facet-severity input[value="critical"]'), true);
    assert.equal(await page.isChecked('.facet-year input[value="2024"]'), true);
    assert.equal(await page.inputValue("#search-sort"), "date");
    const results = await pageResults(page);
    assert.ok(results.total > 0, results.status);
    assert.ok(results.hits.every((h) => h.kind === "lesson" && h.severity === "critical"));
    assert.ok(results.hits.some((h) => h.title.includes("production pool sizes")));
    // Typing keeps the filters and updates the URL in place.
    const length = await page.evaluate(() => history.length);
    await page.fill("#search-q", "pool sizes");
    await settled(page, "#search-page");
    assert.equal(new URL(page.url()).search, "?q=pool+sizes&kind=lesson&severity=critical&year=2024&sort=date");
    assert.equal(await page.evaluate(() => history.length), length, "replaceState, not a new history entry");
    // Open actions only.
    await openSearchPage(page, "open=1");
    assert.equal(await page.isChecked("#search-open"), true);
    const open = await pageResults(page);
    assert.ok(open.total > 0);
    assert.ok(open.hits.every((h) => h.kind === "action" && /Open|Overdue/.test(h.text)), JSON.stringify(open.hits));
  },

  async lesson_anchor(page) {
    await openSearchPage(page, "q=" + encodeURIComponent('"production pool sizes"') + "&kind=lesson");
    const results = await pageResults(page);
    assert.equal(results.hits.length, 1, results.status);
    await Promise.all([page.waitForURL(/#lesson-/), page.click("#search-hits .hit-title")]);
    const url = new URL(page.url());
    assert.ok(url.pathname.endsWith("/" + PAYMENTS), url.pathname);
    const id = decodeURIComponent(url.hash.slice(1));
    assert.ok(id.startsWith("lesson-"), id);
    assert.equal(await page.evaluate((id) => Boolean(document.getElementById(id)), id), true, "the anchor " + id + " is on the page");
    assert.match(await page.evaluate((id) => document.getElementById(id).textContent, id), /production pool sizes/);
  },

  async query_error(page) {
    await openSearchPage(page, "q=pool");
    const good = await pageResults(page);
    await page.fill("#search-q", "title:(");
    await settled(page, "#search-page");
    assert.equal(await page.isVisible("#search-error"), true);
    assert.match(await page.textContent("#search-error .search-error-message"), /not valid/);
    assert.ok((await page.textContent("#search-error .search-error-help")).length > 10, "and how to fix it");
    assert.equal((await pageResults(page)).hits.length, good.hits.length, "the last results stay");
    await page.fill("#search-q", "pool");
    await settled(page, "#search-page");
    assert.equal(await page.isHidden("#search-error"), true, "the error goes with a valid query");
    await page.goto(base + "index.html");
    await typeInBox(page, "title:(");
    const box = await boxResults(page);
    assert.match(box.message, /not valid/);
  },

  async hostile(page) {
    await page.goto(base + "index.html");
    await typeInBox(page, "sanitizer markup");
    const box = await boxResults(page);
    const texts = box.groups.flatMap((g) => g.options.map((o) => o.text));
    assert.ok(texts.some((t) => t.includes(HOSTILE_TITLE)), "the title is shown as text: " + texts.join("\n"));
    assert.ok(!/<img|<script/i.test(box.html.replace(/&lt;(img|script)/gi, "")), "no element from report text: " + box.html);
    await openSearchPage(page, "q=sanitizer+markup");
    const results = await pageResults(page);
    assert.ok(results.total >= 2, results.status);
    assert.ok(results.hits.some((h) => h.title === HOSTILE_TITLE), results.hits.map((h) => h.title).join("\n"));
    assert.ok(results.hits.some((h) => h.text.includes("<script") || h.text.includes("<img src=x")), "markup in a snippet is text");
    assert.ok(results.hits.some((h) => h.text.includes(`& "quotes" and 'apostrophes'`)), "entities are decoded once: " + results.hits.map((h) => h.text).join("\n"));
    assert.ok(results.hits.every((h) => h.href.startsWith("../reports/")), "links stay on the site");
    const elements = await page.evaluate(() => document.querySelectorAll("#search-hits img, #search-hits script, #site-search-popup img").length);
    assert.equal(elements, 0);
    await page.waitForTimeout(300);
    assert.equal(await page.evaluate(() => typeof window.__pwned), "undefined", "nothing from a report ran");
    // The safety net itself: unsafe URLs are not links, entities decode to text.
    const checks = await page.evaluate(() => {
      const { safeHref, decodeEntities, appendHighlighted } = window.RollbookSearch;
      const div = appendHighlighted(document.createElement("div"), "a &lt;b&gt; <b>c&amp;d</b> &#60;img&#x3e; <i>x</i>");
      return {
        unsafe: ["javascript:alert(1)", "JavaScript:x", "java\nscript:x", "//evil.example", "\\\\evil", "/abs", "data:text/html,x", " javascript:x"].map(safeHref),
        safe: safeHref("reports/x.html#lesson-1"),
        decoded: decodeEntities("&amp;lt; &#39; &#x27; &quot; &#0; &bogus;"),
        html: div.innerHTML,
        marks: div.querySelectorAll("mark").length,
      };
    });
    assert.deepEqual(checks.unsafe, [null, null, null, null, null, null, null, null]);
    assert.equal(checks.safe, "../reports/x.html#lesson-1");
    assert.equal(checks.decoded, "&lt; ' ' \" \uFFFD &bogus;");
    assert.equal(checks.html, "a &lt;b&gt; <mark>c&amp;d</mark> &lt;img&gt; &lt;i&gt;x&lt;/i&gt;");
    assert.equal(checks.marks, 1);
  },

  async noscript(page) {
    await page.goto(base + "search/index.html?q=pool");
    assert.equal(await page.isHidden("#search-page"), true, "the form needs the script");
    const notice = await page.textContent("main");
    assert.match(notice, /needs JavaScript/);
    for (const list of ["reports", "lessons", "actions"]) {
      assert.equal(await page.isVisible(`main a[href="../${list}/index.html"]`), true, list);
    }
    // The header's box is a form: without JavaScript it leads to the search page.
    await page.goto(base + "reports/index.html");
    await page.fill("#site-search-q", "pool");
    await Promise.all([page.waitForURL(/search\/index\.html\?q=pool$/), page.press("#site-search-q", "Enter")]);
  },

  async from_disk(page) {
    await page.goto(base + "index.html");
    await typeInBox(page, "pool");
    const box = await boxResults(page);
    assert.match(box.message, /served over HTTP/);
    assert.match(box.message, /python3 -m http\.server/);
    assert.equal(await page.isVisible('#site-search-popup a[href="reports/index.html"]'), true);
    await page.goto(base + "search/index.html?q=pool");
    await page.waitForSelector("#search-page:not([hidden])");
    await page.waitForFunction(() => /served over HTTP/.test(document.querySelector("#search-status").textContent));
  },

  async parity(page) {
    const expected = JSON.parse(process.env.EXPECTED);
    for (const search of expected) {
      await openSearchPage(page, search.params);
      const results = await pageResults(page);
      const found = results.hits.map((h) => [h.kind, urlOf(h.href)]);
      assert.deepEqual(found, search.hits, `hits for ?${search.params}`);
      assert.equal(results.total, search.total, `total for ?${search.params}`);
    }
  },
};

// ---------- run ----------

const run = cases[name];
if (!base || !run) {
  console.error(`usage: node search.mjs BASE_URL CASE (one of ${Object.keys(cases).join(", ")})`);
  process.exit(2);
}
const watchdog = setTimeout(() => {
  console.error(`${name}: timed out`);
  process.exit(1);
}, 90_000);

const profile = process.env.PROFILE_DIR || mkdtempSync(join(tmpdir(), "rollbook-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  javaScriptEnabled: name !== "noscript",
  viewport: { width: 1280, height: 900 },
});
context.setDefaultTimeout(15_000);
const page = context.pages()[0] || (await context.newPage());
const problems = [];
page.on("pageerror", (error) => problems.push("page error: " + error.message));
page.on("dialog", (dialog) => {
  problems.push("a dialog opened: " + dialog.message());
  dialog.dismiss();
});
page.on("console", (message) => {
  if (message.type() === "error") console.log("console error:", message.text());
});

let failed = false;
try {
  await run(page);
  assert.deepEqual(problems, []);
  console.log(`${name}: ok`);
} catch (error) {
  failed = true;
  console.error(`${name}: FAILED`);
  console.error(error && error.stack ? error.stack : error);
  if (error && error.actual !== undefined && error.expected !== undefined) {
    console.error("actual:", JSON.stringify(error.actual));
    console.error("expected:", JSON.stringify(error.expected));
  }
} finally {
  await context.close();
  clearTimeout(watchdog);
}
process.exit(failed ? 1 : 0);
