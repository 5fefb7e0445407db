// Live reload in a real browser, run by tests/browser.rs against `rollbook serve`:
//
//   node tests/browser/serve.mjs BASE_URL SITE_DIR
//
// BASE_URL is the server's address, SITE_DIR the served site's root (the script edits its
// files). CHROMIUM is the browser binary, PROFILE_DIR a fresh profile directory. The page is
// never reloaded by the script: every change it waits for must come from the live-reload
// script that `serve` adds to each page. Exits 0 when all steps pass, 1 with the reason.

import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [base, siteDir] = process.argv.slice(2);
const REPORT = join(siteDir, "content/2025-05-27-webhook-backlog.md");
const PAGE = "reports/2025-05-27-webhook-backlog.html";

function edit(from, to) {
  const text = readFileSync(REPORT, "utf8");
  assert.ok(text.includes(from), `the report has no ${JSON.stringify(from)}`);
  writeFileSync(REPORT, text.replace(from, to));
}

async function waitForText(page, text) {
  await page.waitForFunction((t) => document.body && document.body.textContent.includes(t), text, {
    timeout: 15000,
  });
}

const browser = await chromium.launchPersistentContext(process.env.PROFILE_DIR, {
  executablePath: process.env.CHROMIUM,
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ],
});
let failed = false;
try {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(base + PAGE);
  await waitForText(page, "for two hours");
  // The script is connected before the first change: the server says hello.
  await page.waitForTimeout(300);

  // 1. An edit reloads the page by itself. A mark on the old page's window is gone from the
  // new one's (counting `load` events raced: the new text shows before the event fires).
  await page.evaluate(() => {
    window.rollbookTestMark = true;
  });
  edit("for two hours", "for five hours");
  await waitForText(page, "for five hours");
  assert.equal(await page.evaluate(() => window.rollbookTestMark), undefined, "the page was reloaded");

  // 2. A broken report: the last good page, under the problems panel.
  edit('severity = "high"', 'severity = "hihg"');
  await page.waitForSelector("#rollbook-problems", { state: "visible", timeout: 15000 });
  const panel = await page.textContent("#rollbook-problems");
  assert.match(panel, /hihg/);
  assert.match(panel, /2025-05-27-webhook-backlog\.md:4:/);
  assert.ok((await page.textContent("body")).includes("for five hours"), "the last good page stays");
  // The panel can be hidden to read the page under it.
  await page.click("#rollbook-problems button");
  await page.waitForSelector("#rollbook-problems", { state: "hidden", timeout: 5000 });

  // 3. Fixed: the panel goes and the new page shows.
  edit('severity = "hihg"', 'severity = "low"');
  await page.waitForFunction(() => !document.querySelector("#rollbook-problems"), null, { timeout: 15000 });
  await waitForText(page, "low");
  assert.deepEqual(errors, [], "no script errors");
  console.log("live reload: ok");
} catch (e) {
  failed = true;
  console.log(String(e && e.stack ? e.stack : e));
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
