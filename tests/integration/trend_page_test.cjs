// The trend page in a real headless Chromium (issue 14): tsvault filled by
// `tsvault loadgen`, the page opened at /?expr=...&range=1h; the legend
// must list the series the API returns, the canvas must have drawn them,
// the table must list them, the CSV download must be the export endpoint's
// answer with one row per point on screen; a bad query shows the API's
// error; completion offers metric names; a ready-made view and the status
// view work. A screenshot is saved as a test artifact.
//
// node tests/integration/trend_page_test.cjs --tsvault BIN --node-modules DIR [--artifacts DIR]
// Exit 0 passed, 1 failed, 77 Chromium cannot start here (ctest: skipped,
// with the reason printed).
"use strict";

const assert = require("node:assert/strict");
const childProcess = require("node:child_process");
const fs = require("node:fs");
const net = require("node:net");
const os = require("node:os");
const path = require("node:path");

function argument(name, fallback) {
  const i = process.argv.indexOf("--" + name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const tsvaultBinary = argument("tsvault", "build/tools/tsvault");
const nodeModules = argument("node-modules", "build/query/ui/npm/node_modules");
const artifacts = argument("artifacts", "build/test-artifacts");
const chromiumPath = argument("chromium", "/usr/bin/chromium");

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

async function waitReady(base, child, log) {
  const deadline = Date.now() + 30000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error("tsvault exited: " + fs.readFileSync(log, "utf8").slice(-2000));
    try {
      const response = await fetch(base + "/-/ready");
      if (response.ok) return;
    } catch (e) { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("tsvault did not get ready");
}

function run(command, args) {
  const result = childProcess.spawnSync(command, args, { encoding: "utf8" });
  if (result.status !== 0) throw new Error(command + " " + args.join(" ") + " failed:\n" + result.stderr);
  return result.stdout;
}

// The series name as the page writes it (Prometheus' notation).
function seriesName(metric) {
  const name = metric.__name__ || "";
  const labels = Object.keys(metric).filter((k) => k !== "__name__").sort()
    .map((k) => k + "=" + JSON.stringify(metric[k]));
  return labels.length === 0 && name !== "" ? name : name + "{" + labels.join(", ") + "}";
}

async function apiJson(base, endpoint, params) {
  const response = await fetch(base + endpoint, { method: "POST", body: new URLSearchParams(params) });
  const json = await response.json();
  assert.equal(json.status, "success", endpoint + ": " + JSON.stringify(json));
  return json.data;
}

async function main() {
  let playwright;
  try {
    playwright = require(path.resolve(nodeModules, "playwright-core"));
  } catch (e) {
    console.error("FAILED: playwright-core is not in " + nodeModules + " (the build's npm ci installs it): " + e.message);
    return 1;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tsvault-trend-page-"));
  const port = await freePort();
  const base = "http://127.0.0.1:" + port;
  const log = path.join(dir, "tsvault.log");
  const server = childProcess.spawn(tsvaultBinary, ["serve", "--storage.path", path.join(dir, "data"),
    "--web.listen-address", "127.0.0.1:" + port], { stdio: ["ignore", fs.openSync(log, "w"), fs.openSync(log, "a")] });
  let browser = null;
  try {
    await waitReady(base, server, log);
    // Two hours of the seed workload at 1/20 of its cardinality.
    run(tsvaultBinary, ["loadgen", "--url", base + "/api/v1/write", "--backfill", "--from", "-2h", "--to", "now",
      "--interval", "15s", "--scale", "0.05", "--seed", "3"]);

    try {
      browser = await playwright.chromium.launch({
        executablePath: chromiumPath, headless: true,
        args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
          "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
      });
    } catch (e) {
      console.log("SKIPPED: Chromium (" + chromiumPath + ") cannot start here: " + e.message.split("\n")[0]);
      return 77;
    }
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true,
      timezoneId: "UTC" });
    const page = await context.newPage();
    const pageErrors = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));

    // 1. A query in the URL opens as a chart with its legend.
    const expr = "sum by (app) (rate(http_requests_total[5m]))";
    await page.goto(base + "/?expr=" + encodeURIComponent(expr) + "&range=1h&tz=UTC");
    await page.waitForFunction(() => /\d+ series/.test(document.getElementById("result-info").textContent),
      null, { timeout: 20000 });
    const info = await page.textContent("#result-info");
    const legend = await page.$$eval("#chart .u-legend .u-series .u-label", (cells) => cells.map((c) => c.textContent));
    // The API's answer for the same window (the CSV link carries it).
    const csvHref = await page.getAttribute("#csv-long", "href");
    const window = new URL(csvHref, base).searchParams;
    const expected = await apiJson(base, "/api/v1/query_range", { query: expr, start: window.get("start"),
      end: window.get("end"), step: window.get("step") });
    const expectedNames = expected.result.map((s) => seriesName(s.metric)).sort();
    assert.ok(expectedNames.length >= 3, "loadgen's data has several apps: " + JSON.stringify(expectedNames));
    assert.deepEqual(legend.slice(1).sort(), expectedNames, "the legend lists the API's series");
    assert.match(legend[0], /time/);
    const expectedPoints = expected.result.reduce((n, s) => n + s.values.length, 0);
    assert.ok(info.includes(expectedNames.length + " series, " + expectedPoints + " points"), info);
    assert.ok(/resolution raw/.test(info), "a 1h range is served raw: " + info);

    // 2. The canvas has drawn them: many pixels in the series' colours.
    const drawn = await page.$eval("#chart canvas", (canvas) => {
      const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
      let coloured = 0;
      for (let i = 0; i < data.length; i += 4) {
        const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
        if (a > 0 && Math.max(r, g, b) - Math.min(r, g, b) > 60) coloured++;
      }
      return { coloured, width: canvas.width, height: canvas.height };
    });
    assert.ok(drawn.coloured > 500, "the chart drew coloured lines: " + JSON.stringify(drawn));

    fs.mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: path.join(artifacts, "trend-page.png"), fullPage: true });

    // 2b. Hover values, stacking and toggling. The legend shows each
    // series' own value under the cursor, stacked or not; a click on a
    // series in the legend hides it.
    const box = await page.$eval("#chart .u-over", (over) => {
      const r = over.getBoundingClientRect();
      return { x: r.x, y: r.y, width: r.width, height: r.height };
    });
    const hoverValues = async () => {
      await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2);
      await page.mouse.move(box.x + box.width * 0.6 + 1, box.y + box.height / 2);
      return page.$$eval("#chart .u-legend .u-series .u-value", (cells) => cells.map((c) => c.textContent));
    };
    const plainValues = await hoverValues();
    assert.ok(plainValues.slice(1).some((v) => /\d/.test(v)), "hover values shown: " + JSON.stringify(plainValues));
    await page.check("#stacked");
    assert.ok(page.url().includes("stacked=1"), "stacking is in the URL: " + page.url());
    const stackedValues = await hoverValues();
    assert.deepEqual(stackedValues.slice(1), plainValues.slice(1), "stacked, the legend still shows each series' own value");
    await page.uncheck("#stacked");
    await page.click("#chart .u-legend .u-series:nth-child(2) .u-label");
    const hidden = await page.$$eval("#chart .u-legend .u-series", (rows) => rows.map((r) => r.classList.contains("u-off")));
    assert.deepEqual(hidden.slice(1), expectedNames.map((_, i) => i === 0), "the clicked series is hidden: " + JSON.stringify(hidden));
    await page.click("#chart .u-legend .u-series:nth-child(2) .u-label");

    // 3. The table lists the same series.
    await page.click("#tab-table");
    const rows = await page.$$eval("#result-table tbody tr", (trs) => trs.map((tr) => tr.cells[0].textContent));
    assert.deepEqual(rows.slice().sort(), expectedNames, "the table lists the API's series");
    assert.ok(page.url().includes("tab=table"), "the tab is in the URL: " + page.url());

    // 4. The CSV download is the export endpoint's answer, a row per point.
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#csv-long")]);
    const downloaded = fs.readFileSync(await download.path(), "utf8");
    const direct = await (await fetch(new URL(csvHref, base))).text();
    assert.equal(downloaded, direct, "the download is /api/v1/export/csv's answer");
    const lines = downloaded.trim().split("\n");
    assert.equal(lines.length - 1, expectedPoints, "one CSV row per point on screen (after the header)");
    for (const name of ["web", "admin-panel"]) {
      assert.ok(downloaded.includes(name), "the CSV names app " + name);
    }

    // 5. A bad query shows the API's error, not a blank chart.
    await page.click("#tab-chart");
    await page.fill("#expr", "sum(rate(http_requests_total[5m])");
    await page.press("#expr", "Enter");
    await page.waitForSelector("#error:not([hidden])", { timeout: 10000 });
    const error = await page.textContent("#error");
    assert.match(error, /^bad_data: .*(parse error|unclosed|expected)/i, error);
    assert.ok((await page.textContent("#chart")).includes("the query failed"));

    // 6. Completion offers metric names from the label endpoints.
    await page.fill("#expr", "");
    await page.type("#expr", "reengagement_notif");
    await page.waitForSelector("#completions:not([hidden]) li", { timeout: 10000 });
    const offered = await page.$$eval("#completions li span:first-child", (s) => s.map((x) => x.textContent));
    assert.ok(offered.includes("reengagement_notifications_sent_total"), JSON.stringify(offered));
    await page.press("#expr", "Tab");
    assert.equal(await page.inputValue("#expr"), "reengagement_notifications_sent_total");
    await page.type("#expr", "{type=\"");
    await page.waitForFunction(() => [...document.querySelectorAll("#completions li span:first-child")]
      .some((s) => s.textContent === "telegram"), null, { timeout: 10000 });

    // 6b. Hundreds of series and tens of thousands of points: all in the
    // legend and drawn. The time to draw is printed (measured, not asserted).
    const manyExpr = "http_request_duration_seconds_bucket";
    const manyStarted = Date.now();
    await page.goto(base + "/?expr=" + encodeURIComponent(manyExpr) + "&range=1h&tz=UTC");
    await page.waitForFunction(() => /\d+ series/.test(document.getElementById("result-info").textContent),
      null, { timeout: 30000 });
    const manyMs = Date.now() - manyStarted;
    const manyInfo = await page.textContent("#result-info");
    const manyLegend = await page.$$eval("#chart .u-legend .u-series", (rows) => rows.length - 1);
    const manyWindow = new URL(await page.getAttribute("#csv-long", "href"), base).searchParams;
    const many = await apiJson(base, "/api/v1/query_range", { query: manyExpr, start: manyWindow.get("start"),
      end: manyWindow.get("end"), step: manyWindow.get("step") });
    const manyPoints = many.result.reduce((n, s) => n + s.values.length, 0);
    assert.ok(many.result.length >= 100, "hundreds of series: " + many.result.length);
    assert.equal(manyLegend, many.result.length, "every series is in the legend");
    assert.ok(manyInfo.includes(many.result.length + " series, " + manyPoints + " points"), manyInfo);

    // 7. A ready-made view, one click away.
    await page.click("#ready-views button:has-text('HTTP requests by app and status')");
    await page.waitForFunction(() => document.getElementById("expr").value.includes("http_requests_total") &&
      /\d+ series/.test(document.getElementById("result-info").textContent), null, { timeout: 20000 });
    const viewLegend = await page.$$eval("#chart .u-legend .u-series .u-label", (c) => c.length);
    assert.ok(viewLegend > 3, "the view charted series: " + viewLegend);

    // 8. The status view: storage per resolution, cardinality, build.
    await page.click("#nav-status");
    await page.waitForFunction(() => document.querySelectorAll("#status-resolutions tbody tr").length >= 4,
      null, { timeout: 10000 });
    const resolutions = await page.$$eval("#status-resolutions tbody tr", (trs) => trs.map((tr) => tr.cells[0].textContent));
    assert.deepEqual(resolutions, ["raw", "5m", "1h", "1d"]);
    const metrics = await page.$$eval("#status-metrics tbody tr", (trs) => trs.map((tr) => tr.cells[0].textContent));
    assert.ok(metrics.includes("http_request_duration_seconds_bucket"), JSON.stringify(metrics));
    await page.screenshot({ path: path.join(artifacts, "trend-page-status.png"), fullPage: true });

    assert.deepEqual(pageErrors, [], "no script errors on the page");
    console.log("trend page: " + expectedNames.length + " series in the legend and the table, " + drawn.coloured +
      " coloured pixels drawn, CSV of " + expectedPoints + " rows matches the export endpoint; " + many.result.length +
      " series of " + manyPoints + " points loaded and drawn in " + manyMs + " ms; screenshots in " + artifacts);
    return 0;
  } finally {
    if (browser) await browser.close();
    server.kill("SIGKILL");
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().then((code) => process.exit(code), (e) => {
  console.error("FAILED: " + (e && e.stack ? e.stack : e));
  process.exit(1);
});
