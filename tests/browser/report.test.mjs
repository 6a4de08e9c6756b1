// Opens a KexecSim HTML report in headless Chromium (Debian's chromium, driven by playwright-core) and checks
// what docs/html-report.md promises: a lane per CPU, the violating step highlighted, keyboard step-through that
// changes the step and the caches shown, no console errors and no request leaving the file. run.sh writes the
// report (REPORT) and names the screenshot (SCREENSHOT).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

const report = resolve(process.env.REPORT ?? "artifacts/report.html");
const screenshot = resolve(process.env.SCREENSHOT ?? "artifacts/report.png");
// A report with a collapsed row (a run of uneventful steps), for the expand test.
const collapsedReport = resolve(process.env.COLLAPSED_REPORT ?? "artifacts/collapsed.html");
// run.sh finds Debian's chromium on PATH and names it here.
const executablePath = process.env.CHROMIUM;
if (!executablePath) { throw new Error("CHROMIUM must name the chromium executable (tests/browser/run.sh sets it)"); }

// The flags a closed network needs (no background connections, no component updates), and a fresh profile.
const flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];

test("the HTML report of sme-no-relocate-wbinvd shows its lanes, its violation and steps through", async () => {
  const profile = mkdtempSync(join(tmpdir(), "kexecsim-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath, headless: true, args: flags, viewport: { width: 1800, height: 1100 },
  });
  try {
    const page = context.pages()[0] ?? await context.newPage();
    const problems = [];
    const requests = [];
    page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") { problems.push(`console ${m.type()}: ${m.text()}`); } });
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("request", (r) => { if (!r.url().startsWith("file:")) { requests.push(r.url()); } });
    await page.goto(pathToFileURL(report).href, { waitUntil: "load" });

    // Lanes: one per CPU (2), then the memory lines the run changes, no firmware on this platform.
    assert.deepEqual(await page.locator("#diagram .lane-cpu .lane-title").allTextContents(), ["CPU 0", "CPU 1"]);
    assert.deepEqual(await page.locator("#diagram .lane-line .lane-title").allTextContents(), ["text[0]", "data[0]"]);
    assert.equal(await page.locator("#diagram .lane-firmware").count(), 0);
    assert.equal(await page.locator("#verdict").textContent(), "CORRUPTION");

    // The violating step: one row, step 23, explained under it; the page opens on it.
    const violation = page.locator("#diagram .step.violation");
    assert.equal(await violation.count(), 1);
    assert.equal(await violation.getAttribute("id"), "step-23");
    assert.match(await page.locator("#violation-explanation").textContent(), /CORRUPTION: CPU 0 \(next kernel\) read GARBAGE from data\[0\] with KEY_NONE/);
    assert.equal(await page.locator("#violation-explanation").getAttribute("data-step"), "23");
    assert.equal(await page.locator("#step-panel").getAttribute("data-step"), "23");
    assert.equal(await page.locator("#step-title").textContent(), "step 23 of 23 · violation");
    assert.equal(await page.locator("#diagram .step.current").getAttribute("id"), "step-23");
    assert.equal(await page.locator("#source-path").textContent(), "models/linux/kexec.kflow:29");
    assert.equal(await page.locator(".src-line.current").getAttribute("id"), "src-0-29".replace("0", await sourceIndex(page, "models/linux/kexec.kflow")));
    const cachesAtViolation = await page.locator("#caches").textContent();
    assert.match(cachesAtViolation, /data\[0\]KEY_NONEGARBAGEclean/);

    // k goes back a step: the row, the panel and the caches follow.
    await page.keyboard.press("k");
    assert.equal(await page.locator("#step-panel").getAttribute("data-step"), "22");
    assert.equal(await page.locator("#step-title").textContent(), "step 22 of 23");
    assert.equal(await page.locator("#diagram .step.current").getAttribute("id"), "step-22");
    assert.equal(await page.locator("#step-description").textContent(), "cache 0 evicts data[0] (KEY_SME)");
    const cachesBefore = await page.locator("#caches").textContent();
    assert.notEqual(cachesBefore, cachesAtViolation);
    assert.doesNotMatch(cachesBefore, /GARBAGE/);

    // Home: the initial state (the init blocks left data[0] dirty under KEY_SME in CPU 1's cache); j and ArrowDown step forward
    // (steps 2-5 write stopping_cpu and cpus_stop_mask: rows of their own, their values shown).
    await page.keyboard.press("Home");
    assert.equal(await page.locator("#step-title").textContent(), "initial state");
    assert.equal(await page.locator("#caches").textContent(), "cache 0 · CPU 0: emptycache 1 · CPU 1linekeyvaluestatedata[0]KEY_SMEOLD_CONTENTdirty");
    await page.keyboard.press("j");
    assert.equal(await page.locator("#step-panel").getAttribute("data-step"), "1");
    assert.equal(await page.locator("#caches table.cache tr.changed").count(), 1);
    await page.keyboard.press("ArrowDown");
    assert.equal(await page.locator("#diagram .step.current").getAttribute("id"), "step-2");
    await page.keyboard.press("End");
    assert.equal(await page.locator("#step-panel").getAttribute("data-step"), "23");

    // A click on a row selects its step.
    const row = await page.locator("#step-10 .row-bg").boundingBox();
    await page.mouse.click(row.x + row.width * 0.75, row.y + row.height / 2);
    assert.equal(await page.locator("#step-description").textContent(), "CPU 1's WBINVD writes back data[0] (KEY_SME)");
    await page.keyboard.press("End");
    await page.mouse.move(0, 0);

    await page.screenshot({ path: screenshot, fullPage: true });
    assert.deepEqual(problems, []);
    assert.deepEqual(requests, []);
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
});

test("a collapsed row of parked-hlt-stray-smi expands into its steps (keyboard and click) and collapses again", async () => {
  const profile = mkdtempSync(join(tmpdir(), "kexecsim-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath, headless: true, args: flags, viewport: { width: 1800, height: 1100 },
  });
  try {
    const page = context.pages()[0] ?? await context.newPage();
    const problems = [];
    page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") { problems.push(`console ${m.type()}: ${m.text()}`); } });
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    await page.goto(pathToFileURL(collapsedReport).href, { waitUntil: "load" });

    const row = page.locator("#steps-10-13");
    assert.equal(await row.getAttribute("aria-expanded"), "false");
    assert.equal(await page.locator("#diagram .step.sub").count(), 0);
    const gap = async () => (await page.locator("#step-14 .row-bg").boundingBox()).y - (await page.locator("#steps-10-13 .row-bg").boundingBox()).y;
    const height = async () => +(await page.locator("#diagram").getAttribute("height"));
    const [gapBefore, heightBefore] = [await gap(), await height()];
    // (Within a pixel: a highlighted row's outline widens its box.)
    assert.ok(Math.abs(gapBefore - 30) <= 1, `gap ${gapBefore}`);

    // Keyboard: the row takes the focus and Enter expands it: a line per step inside, the rows below move down four rows.
    await row.focus();
    await page.keyboard.press("Enter");
    assert.equal(await row.getAttribute("aria-expanded"), "true");
    assert.deepEqual(await page.locator("#diagram .step.sub").evaluateAll((es) => es.map((e) => e.id)), ["step-10", "step-11", "step-12", "step-13"]);
    const lines = await page.locator("#diagram .step.sub text.what").allTextContents();
    assert.equal(lines.length, 4);
    for (const line of lines) { assert.match(line, /^CPU \d: .+parked\.kflow:\d+/); }
    const gapExpanded = await gap();
    assert.ok(Math.abs(gapExpanded - gapBefore - 4 * 30) <= 1, `gap ${gapExpanded} after ${gapBefore}`);
    assert.equal(await height(), heightBefore + 4 * 30);

    // A click on an inner step's line selects that step, and its line is the one highlighted.
    const inner = await page.locator("#step-11 .row-bg").boundingBox();
    await page.mouse.click(inner.x + inner.width * 0.75, inner.y + inner.height / 2);
    assert.equal(await page.locator("#step-panel").getAttribute("data-step"), "11");
    assert.equal(await page.locator("#diagram .step.current").getAttribute("id"), "step-11");
    assert.equal(await page.locator("#narrative > li.current").getAttribute("data-step"), "11");
    await page.screenshot({ path: screenshot.replace(/\.png$/, "-expanded.png"), fullPage: true });

    // e at a step inside collapses the row again: everything back where it was.
    await page.keyboard.press("e");
    assert.equal(await row.getAttribute("aria-expanded"), "false");
    assert.equal(await page.locator("#diagram .step.sub").count(), 0);
    const gapAgain = await gap();
    assert.ok(Math.abs(gapAgain - gapBefore) <= 1, `gap ${gapAgain}, first ${gapBefore}`);
    assert.equal(await height(), heightBefore);
    assert.equal(await page.locator("#diagram .step.current").getAttribute("id"), "steps-10-13");

    // A click on the collapsed row expands it and selects its first step; a second click collapses it.
    const collapsed = await page.locator("#steps-10-13 .row-bg").boundingBox();
    await page.mouse.click(collapsed.x + collapsed.width * 0.75, collapsed.y + collapsed.height / 2);
    assert.equal(await row.getAttribute("aria-expanded"), "true");
    assert.equal(await page.locator("#step-panel").getAttribute("data-step"), "10");
    assert.equal(await page.locator("#diagram .step.current").getAttribute("id"), "step-10");
    await page.mouse.click(collapsed.x + collapsed.width * 0.75, collapsed.y + collapsed.height / 2);
    assert.equal(await row.getAttribute("aria-expanded"), "false");

    // The narrative is there, and a sentence selects its step.
    await page.locator("#narrative > li[data-step='3']").click();
    assert.equal(await page.locator("#step-panel").getAttribute("data-step"), "3");
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
});

async function sourceIndex(page, path) {
  return page.locator(`.source-file[data-path="${path}"]`).evaluate((e) => e.id.slice("source-".length));
}
