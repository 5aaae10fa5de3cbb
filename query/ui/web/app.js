// The trend page (docs/trend-page.md): a PromQL box with completion, a time
// range in the team's time zone, a uPlot chart with a legend, a table, CSV
// downloads through /api/v1/export/csv, ready-made views for the seed's
// questions and a status view. Everything is read through tsvault's
// Prometheus API; the whole state lives in the URL.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);

  // ---- Constants ---------------------------------------------------------

  const RANGES = [
    ["5m", 300], ["15m", 900], ["1h", 3600], ["3h", 10800], ["6h", 21600], ["12h", 43200],
    ["1d", 86400], ["2d", 172800], ["1w", 604800], ["2w", 1209600], ["30d", 2592000],
    ["90d", 7776000], ["180d", 15552000], ["1y", 31536000], ["2y", 63072000], ["5y", 157680000],
  ];
  const NICE_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200,
    86400, 172800, 604800, 2592000];
  // The seed's questions (../shared/context/seed-workload.md), one click away.
  const READY_VIEWS = [
    { title: "Notifications per day by level and type", range: "1y", step: "1d",
      expr: "sum by (level, type) (increase(reengagement_notifications_sent_total[1d]))" },
    { title: "Return rate per week by level", range: "1y", step: "1w",
      expr: "sum by (level) (increase(reengagement_users_returned_total[1w]))\n/\n" +
            "sum by (level) (increase(reengagement_notifications_sent_total[1w]))" },
    { title: "Click rate per campaign", range: "90d", step: "1d",
      expr: "sum by (campaign) (increase(reengagement_clicks_total[1d]))\n/\n" +
            "sum by (campaign) (increase(reengagement_notifications_sent_total[1d]))" },
    { title: "Course completions per month", range: "2y", step: "30d",
      expr: "sum(increase(courses_completions_total[30d]))" },
    { title: "Error rate by app and type", range: "1d", step: "",
      expr: "sum by (app, type) (rate(app_errors_total[5m]))" },
    { title: "HTTP p95 latency by app", range: "1d", step: "",
      expr: "histogram_quantile(0.95, sum by (le, app) (rate(http_request_duration_seconds_bucket[5m])))" },
    { title: "HTTP requests by app and status", range: "6h", step: "",
      expr: "sum by (app, status) (rate(http_requests_total[5m]))" },
    { title: "Queue backlog", range: "1d", step: "",
      expr: "sum by (queue) (bullmq_queue_size{state=~\"waiting|delayed\"})" },
  ];
  const FUNCTIONS = ["abs", "absent", "absent_over_time", "avg_over_time", "ceil", "changes", "clamp", "clamp_max",
    "clamp_min", "count_over_time", "day_of_month", "day_of_week", "day_of_year", "days_in_month", "delta", "deriv",
    "exp", "floor", "histogram_count", "histogram_fraction", "histogram_quantile", "histogram_sum", "holt_winters",
    "hour", "idelta", "increase", "irate", "label_join", "label_replace", "last_over_time", "ln", "log10", "log2",
    "max_over_time", "min_over_time", "minute", "month", "predict_linear", "present_over_time",
    "quantile_over_time", "rate", "resets", "round", "scalar", "sgn", "sort", "sort_desc", "sqrt",
    "stddev_over_time", "stdvar_over_time", "sum_over_time", "time", "timestamp", "vector", "year"];
  const AGGREGATIONS = ["sum", "avg", "min", "max", "count", "group", "stddev", "stdvar", "topk", "bottomk",
    "quantile", "count_values"];
  const KEYWORDS = ["by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool", "and", "or",
    "unless"];
  // uPlot's time axis formats by tick spacing, on a 24-hour clock with ISO
  // dates: [spacing, tick, first-of-larger-unit...] as its axis.values.
  const TIME_AXIS = [
    [31536000, "{YYYY}", null, null, null, null, null, null, 1],
    [2419200, "{YYYY}-{MM}", null, null, null, null, null, null, 1],
    [86400, "{MM}-{DD}", "\n{YYYY}", null, null, null, null, null, 1],
    [3600, "{HH}:{mm}", "\n{YYYY}-{MM}-{DD}", null, "\n{MM}-{DD}", null, null, null, 1],
    [60, "{HH}:{mm}", "\n{YYYY}-{MM}-{DD}", null, "\n{MM}-{DD}", null, null, null, 1],
    [1, "{HH}:{mm}:{ss}", "\n{YYYY}-{MM}-{DD}", null, "\n{MM}-{DD}", null, null, null, 1],
    [0.001, ":{ss}.{fff}", "\n{YYYY}-{MM}-{DD} {HH}:{mm}", null, "\n{MM}-{DD} {HH}:{mm}", null, "\n{HH}:{mm}", null, 1],
  ];
  const PALETTE = ["#1f6feb", "#e5534b", "#2da44e", "#bf8700", "#8250df", "#1b7c83", "#d4388b", "#6e7781",
    "#fb8f44", "#0550ae", "#a40e26", "#116329", "#7d4e00", "#512a97", "#0a5c63"];

  // ---- Small helpers -----------------------------------------------------

  function parseDuration(text) {  // "1h30m", "15s", "1d", "1w", "1y" or seconds; null if bad
    text = String(text).trim();
    if (text === "") return null;
    if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
    const units = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };
    const re = /(\d+)(ms|s|m|h|d|w|y)/g;
    let total = 0, used = 0, match;
    while ((match = re.exec(text)) !== null) {
      total += Number(match[1]) * units[match[2]];
      used += match[0].length;
    }
    return used === text.length && total > 0 ? total : null;
  }

  function formatDuration(seconds) {
    const parts = [["y", 31536000], ["w", 604800], ["d", 86400], ["h", 3600], ["m", 60], ["s", 1]];
    for (const [unit, size] of parts) {
      if (seconds >= size && seconds % size === 0) return seconds / size + unit;
    }
    return seconds + "s";
  }

  function seriesName(metric) {  // {__name__="x", a="b"} as Prometheus writes it: x{a="b"}
    const name = metric.__name__ || "";
    const labels = Object.keys(metric).filter((k) => k !== "__name__").sort()
      .map((k) => k + "=" + JSON.stringify(metric[k]));
    return labels.length === 0 && name !== "" ? name : name + "{" + labels.join(", ") + "}";
  }

  function formatValue(v) {
    if (v === null || v === undefined || Number.isNaN(v)) return v === null || v === undefined ? "" : "NaN";
    if (!Number.isFinite(v)) return v > 0 ? "+Inf" : "-Inf";
    const abs = Math.abs(v);
    if (abs !== 0 && (abs < 1e-3 || abs >= 1e9)) return v.toExponential(3);
    return String(Math.round(v * 1e4) / 1e4);
  }

  function element(tag, attributes, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attributes || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function fillTable(table, header, rows, numeric) {
    table.replaceChildren();
    const head = table.createTHead().insertRow();
    for (const h of header) head.appendChild(element("th", {}, h));
    const body = table.createTBody();
    for (const row of rows) {
      const tr = body.insertRow();
      row.forEach((cell, i) => {
        const td = tr.insertCell();
        td.textContent = cell;
        if (numeric && numeric[i]) td.className = "number";
      });
    }
    if (rows.length === 0) {
      const td = body.insertRow().insertCell();
      td.colSpan = header.length;
      td.textContent = "none";
    }
  }

  // ---- Time zones ----------------------------------------------------------

  const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

  function zoneOffsetMs(epochMs, zone) {  // wall clock minus UTC, in ms, in `zone` at that instant
    const parts = new Intl.DateTimeFormat("en-US", { timeZone: zone, hourCycle: "h23", year: "numeric",
      month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" })
      .formatToParts(new Date(epochMs));
    const get = (type) => Number(parts.find((p) => p.type === type).value);
    const wall = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
    return wall - Math.floor(epochMs / 1000) * 1000;
  }

  function wallClockToEpoch(text, zone) {  // "2026-12-07T10:00[:ss]" in `zone` -> Unix seconds
    const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(text);
    if (!m) return null;
    const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0));
    let epoch = wall - zoneOffsetMs(wall, zone);
    epoch = wall - zoneOffsetMs(epoch, zone);  // across a DST change
    return epoch / 1000;
  }

  function epochToWallClock(seconds, zone) {  // for the datetime-local input
    const shifted = new Date(seconds * 1000 + zoneOffsetMs(seconds * 1000, zone));
    return shifted.toISOString().slice(0, 19);
  }

  // ---- State (all of it in the URL) ------------------------------------------

  const state = { expr: "", range: "1h", end: "", step: "", res: "auto", tz: "", stacked: false, tab: "chart",
    view: "trends" };

  function readUrl() {
    const p = new URLSearchParams(location.search);
    state.expr = p.get("expr") ?? p.get("g0.expr") ?? "";
    state.range = p.get("range") ?? p.get("g0.range_input") ?? "1h";
    state.end = p.get("end") ?? "";
    state.step = p.get("step") ?? "";
    state.res = p.get("max_source_resolution") ?? p.get("res") ?? "auto";
    state.tz = p.get("tz") ?? localStorage.getItem("tsvault.tz") ?? browserZone;
    state.stacked = p.get("stacked") === "1";
    state.tab = p.get("tab") === "table" ? "table" : "chart";
    state.view = p.get("view") === "status" ? "status" : "trends";
  }

  function writeUrl() {
    const p = new URLSearchParams();
    if (state.view === "status") p.set("view", "status");
    if (state.expr) p.set("expr", state.expr);
    p.set("range", state.range);
    if (state.end) p.set("end", state.end);
    if (state.step) p.set("step", state.step);
    if (state.res !== "auto") p.set("max_source_resolution", state.res);
    p.set("tz", state.tz);
    if (state.stacked) p.set("stacked", "1");
    if (state.tab === "table") p.set("tab", "table");
    history.replaceState(null, "", "?" + p.toString());
  }

  function showState() {
    $("expr").value = state.expr;
    if (!RANGES.some(([name]) => name === state.range)) {
      const seconds = parseDuration(state.range);
      if (seconds !== null) $("range").appendChild(element("option", { value: state.range }, state.range));
    }
    $("range").value = state.range;
    $("end").value = state.end ? epochToWallClock(Number(state.end), state.tz) : "";
    $("step").value = state.step;
    $("resolution").value = state.res;
    if (![...$("tz").options].some((o) => o.value === state.tz)) $("tz").appendChild(element("option", {}, state.tz));
    $("tz").value = state.tz;
    $("stacked").checked = state.stacked;
  }

  // The query's time window: [start, end] in Unix seconds and the step.
  function window_() {
    const rangeSeconds = parseDuration(state.range) || 3600;
    const end = state.end ? Number(state.end) : Math.floor(Date.now() / 1000);
    let step = parseDuration(state.step);
    if (step === null) {  // about one point per two pixels, on a round step
      const width = Math.max(200, $("chart-pane").clientWidth || 1000);
      const wanted = rangeSeconds / (width / 2);
      step = NICE_STEPS.find((s) => s >= wanted) || Math.ceil(wanted / 86400) * 86400;
    }
    // Whole steps, so every view of the same range shows the same points;
    // steps of whole days start at the time zone's midnights.
    const offset = step % 86400 === 0 ? zoneOffsetMs(end * 1000, state.tz) / 1000 : 0;
    const alignedEnd = Math.floor((end + offset) / step) * step - offset;
    return { start: alignedEnd - rangeSeconds, end: alignedEnd, step };
  }

  // ---- The API -------------------------------------------------------------

  class ApiError extends Error {}

  async function api(path, params, method) {
    const body = new URLSearchParams(params || {});
    let response;
    try {
      response = method === "GET" ? await fetch(path + (body.toString() ? "?" + body : ""))
        : await fetch(path, { method: "POST", body });
    } catch (e) {
      throw new ApiError("cannot reach tsvault: " + e.message);
    }
    const text = await response.text();
    let json = null;
    try { json = JSON.parse(text); } catch (e) { /* not JSON: reported below */ }
    if (!response.ok || !json || json.status !== "success") {
      const what = json && json.error ? (json.errorType ? json.errorType + ": " : "") + json.error
        : "HTTP " + response.status + (text ? ": " + text.slice(0, 300) : "");
      throw new ApiError(what);
    }
    json.headers = response.headers;
    return json;
  }

  // ---- Completion ------------------------------------------------------------

  const cache = { metrics: null, labels: new Map(), values: new Map() };
  let completion = { items: [], selected: 0, from: 0, to: 0 };

  async function metricNames() {
    if (!cache.metrics) cache.metrics = api("/api/v1/label/__name__/values", {}, "GET").then((r) => r.data).catch(() => []);
    return cache.metrics;
  }
  async function labelNames(metric) {
    const key = metric || "";
    if (!cache.labels.has(key)) {
      const params = metric ? { "match[]": metric } : {};
      cache.labels.set(key, api("/api/v1/labels", params, "GET").then((r) => r.data).catch(() => []));
    }
    return cache.labels.get(key);
  }
  async function labelValues(label, metric) {
    const key = label + "\u0000" + (metric || "");
    if (!cache.values.has(key)) {
      const params = metric ? { "match[]": metric } : {};
      cache.values.set(key, api("/api/v1/label/" + encodeURIComponent(label) + "/values", params, "GET")
        .then((r) => r.data).catch(() => []));
    }
    return cache.values.get(key);
  }

  // What the cursor is in: a metric or function name, a label name or a
  // label value; and the text to replace.
  function completionContext(text, cursor) {
    const before = text.slice(0, cursor);
    const value = /([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"([^"\\]*)$/.exec(before);
    const braceOpen = before.lastIndexOf("{"), braceClose = before.lastIndexOf("}");
    const metricMatch = braceOpen > braceClose ? /([a-zA-Z_:][a-zA-Z0-9_:]*)\s*$/.exec(before.slice(0, braceOpen)) : null;
    const metric = metricMatch ? metricMatch[1] : "";
    if (value && braceOpen > braceClose) {
      return { kind: "value", label: value[1], metric, prefix: value[3], from: cursor - value[3].length };
    }
    const word = /([a-zA-Z_:][a-zA-Z0-9_:]*)$/.exec(before);
    const prefix = word ? word[1] : "";
    const from = cursor - prefix.length;
    if (braceOpen > braceClose) return { kind: "label", metric, prefix, from };
    const grouping = /\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)$/.exec(before);
    if (grouping) return { kind: "label", metric: "", prefix, from };
    if (prefix === "") return null;
    return { kind: "name", prefix, from };
  }

  async function updateCompletions() {
    const box = $("expr");
    const context = completionContext(box.value, box.selectionStart);
    if (!context) return hideCompletions();
    let candidates = [];
    if (context.kind === "value") {
      candidates = (await labelValues(context.label, context.metric)).map((v) => [v, "value"]);
    } else if (context.kind === "label") {
      candidates = (await labelNames(context.metric)).map((v) => [v, "label"]);
    } else {
      candidates = (await metricNames()).map((v) => [v, "metric"])
        .concat(FUNCTIONS.map((f) => [f, "function"]), AGGREGATIONS.map((a) => [a, "aggregation"]),
          KEYWORDS.map((k) => [k, "keyword"]));
    }
    const prefix = context.prefix.toLowerCase();
    const starts = candidates.filter(([v]) => v.toLowerCase().startsWith(prefix));
    const contains = prefix ? candidates.filter(([v]) => !v.toLowerCase().startsWith(prefix) &&
      v.toLowerCase().includes(prefix)) : [];
    const items = starts.concat(contains).slice(0, 100);
    if (items.length === 0 || (items.length === 1 && items[0][0] === context.prefix)) return hideCompletions();
    completion = { items, selected: 0, from: context.from, to: box.selectionStart };
    const list = $("completions");
    list.replaceChildren();
    items.forEach(([text, kind], i) => {
      const li = element("li", { role: "option" });
      li.appendChild(element("span", {}, text));
      li.appendChild(element("span", { class: "kind" }, kind));
      li.addEventListener("mousedown", (e) => { e.preventDefault(); acceptCompletion(i); });
      list.appendChild(li);
    });
    list.hidden = false;
    highlightCompletion();
  }

  function highlightCompletion() {
    [...$("completions").children].forEach((li, i) => li.classList.toggle("selected", i === completion.selected));
    const selected = $("completions").children[completion.selected];
    if (selected) selected.scrollIntoView({ block: "nearest" });
  }

  function hideCompletions() {
    $("completions").hidden = true;
    completion.items = [];
  }

  function acceptCompletion(index) {
    const box = $("expr");
    const [text] = completion.items[index];
    box.value = box.value.slice(0, completion.from) + text + box.value.slice(completion.to);
    const cursor = completion.from + text.length;
    box.setSelectionRange(cursor, cursor);
    hideCompletions();
    box.focus();
  }

  // ---- Running a query -----------------------------------------------------

  let chart = null;
  let lastResult = null;   // {series: [{name, metric, values}], times}
  let running = 0;

  function showError(message) {
    $("error").textContent = message;
    $("error").hidden = !message;
  }

  function showWarnings(warnings) {
    $("warnings").textContent = (warnings || []).join("\n");
    $("warnings").hidden = !warnings || warnings.length === 0;
  }

  function csvLink(layout) {
    const w = window_();
    const p = new URLSearchParams({ query: state.expr, start: w.start, end: w.end, step: w.step, layout, tz: state.tz });
    if (state.res !== "auto") p.set("max_source_resolution", state.res);
    return "/api/v1/export/csv?" + p.toString();
  }

  async function run() {
    hideCompletions();
    state.expr = $("expr").value.trim();
    writeUrl();
    showWarnings([]);
    if (!state.expr) {
      showError("");
      return clearChart("Enter a PromQL expression, or pick one of the views above.");
    }
    const ticket = ++running;
    const w = window_();
    $("result-info").textContent = "running...";
    const started = performance.now();
    let result;
    try {
      result = await api("/api/v1/query_range", { query: state.expr, start: w.start, end: w.end, step: w.step,
        max_source_resolution: state.res });
    } catch (e) {
      if (ticket !== running) return;
      showError(e.message);
      $("result-info").textContent = "";
      lastResult = null;
      clearChart("No chart: the query failed (see above).");
      fillResultTable();
      return;
    }
    if (ticket !== running) return;  // a newer query runs
    showError("");
    showWarnings(result.warnings);
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    const data = result.data;
    if (data.resultType !== "matrix") {
      showError("the query returned a " + data.resultType + "; a range query needs a vector or matrix expression");
      return clearChart("No chart.");
    }
    const times = [];
    for (let k = 0; w.start + k * w.step <= w.end; k++) times.push(w.start + k * w.step);
    const index = new Map(times.map((t, i) => [Math.round(t * 1000), i]));
    const series = data.result.map((s) => {
      const values = new Array(times.length).fill(null);
      for (const [t, v] of s.values || []) {
        const i = index.get(Math.round(t * 1000));
        if (i !== undefined) values[i] = Number(v);
      }
      return { name: seriesName(s.metric), metric: s.metric, values, histograms: (s.histograms || []).length };
    });
    series.sort((a, b) => a.name.localeCompare(b.name));
    lastResult = { series, times };
    const points = series.reduce((n, s) => n + s.values.filter((v) => v !== null).length, 0);
    const resolutions = result.headers.get("X-Tsvault-Resolutions") || "raw";
    const histogramSeries = series.filter((s) => s.histograms > 0).length;
    $("result-info").textContent = series.length + " series, " + points + " points, step " +
      formatDuration(w.step) + ", resolution " + resolutions + ", " + seconds + " s" +
      (histogramSeries ? "; " + histogramSeries + " series of native histograms are not drawn (query them " +
        "with histogram_quantile, histogram_count or histogram_sum)" : "");
    $("result-info").dataset.resolution = resolutions;
    $("csv-long").href = csvLink("long");
    $("csv-wide").href = csvLink("wide");
    drawChart();
    fillResultTable();
  }

  function clearChart(message) {
    if (chart) { chart.destroy(); chart = null; }
    const pane = $("chart");
    pane.replaceChildren(element("div", { class: "empty-chart" }, message));
  }

  function drawChart() {
    if (!lastResult) return;
    const { series, times } = lastResult;
    if (series.length === 0) return clearChart("The query returned no series in this range.");
    if (chart) { chart.destroy(); chart = null; }
    $("chart").replaceChildren();
    let plotted = series.map((s) => s.values);
    if (state.stacked) {  // each series on top of the ones before it
      const sums = new Array(times.length).fill(0);
      plotted = series.map((s) => s.values.map((v, i) => (v === null ? null : (sums[i] += v))));
    }
    const zone = state.tz;
    const options = {
      width: Math.max(300, $("chart-pane").clientWidth),
      height: 380,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), zone),
      scales: { x: { time: true } },
      legend: { show: true, live: true },
      cursor: { focus: { prox: 16 } },
      focus: { alpha: 0.3 },
      series: [{ label: "time (" + zone + ")" }].concat(series.map((s, i) => ({
        label: s.name,
        stroke: PALETTE[i % PALETTE.length],
        fill: state.stacked ? PALETTE[i % PALETTE.length] + "33" : undefined,
        width: 1.5,
        spanGaps: false,
        points: { show: false },
        value: (u, v, seriesIndex, dataIndex) => formatValue(dataIndex === null || dataIndex === undefined
          ? v : series[seriesIndex - 1].values[dataIndex]),
      }))),
      axes: [{ values: TIME_AXIS }, { values: (u, ticks) => ticks.map(formatValue), size: 70 }],
    };
    chart = new uPlot(options, [times].concat(plotted), $("chart"));
  }

  function fillResultTable() {
    const table = $("result-table");
    if (!lastResult) return fillTable(table, ["series", "last", "min", "max", "avg", "points"], []);
    const rows = lastResult.series.map((s) => {
      const present = s.values.filter((v) => v !== null);
      const last = present.length ? present[present.length - 1] : null;
      const min = present.length ? Math.min(...present) : null;
      const max = present.length ? Math.max(...present) : null;
      const avg = present.length ? present.reduce((a, b) => a + b, 0) / present.length : null;
      return [s.name, formatValue(last), formatValue(min), formatValue(max), formatValue(avg), String(present.length)];
    });
    fillTable(table, ["series", "last", "min", "max", "avg", "points"], rows, [false, true, true, true, true, true]);
    [...table.tBodies[0].rows].forEach((tr) => tr.cells[0] && tr.cells[0].classList.add("labels"));
  }

  function selectTab(tab) {
    state.tab = tab;
    $("tab-chart").classList.toggle("active", tab === "chart");
    $("tab-table").classList.toggle("active", tab === "table");
    $("chart-pane").hidden = tab !== "chart";
    $("table-pane").hidden = tab !== "table";
    writeUrl();
    if (tab === "chart") drawChart();
  }

  async function formatQuery() {
    try {
      const r = await api("/api/v1/format_query", { query: $("expr").value });
      $("expr").value = r.data;
      showError("");
    } catch (e) {
      showError(e.message);
    }
  }

  // ---- Status view ---------------------------------------------------------

  function dateText(ms) {
    if (ms === undefined || ms === null) return "";
    return new Intl.DateTimeFormat("sv-SE", { timeZone: state.tz, dateStyle: "short", timeStyle: "medium" })
      .format(new Date(ms));
  }

  function bytesText(n) {
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? n : n.toFixed(1)) + " " + units[i];
  }

  async function loadStatus() {
    const failures = [];
    const get = (path) => api(path, {}, "GET").catch((e) => { failures.push(path + ": " + e.message); return null; });
    const [tsdb, forward, build, flags] = await Promise.all([get("/api/v1/status/tsdb"), get("/api/v1/status/forward"),
      get("/api/v1/status/buildinfo"), get("/api/v1/status/flags")]);
    showError(failures.join("\n"));
    if (tsdb) {
      const d = tsdb.data;
      fillTable($("status-resolutions"), ["resolution", "series", "chunks", "samples / windows", "bytes", "from", "to",
        "sealed until", "dropped before"], (d.resolutions || []).map((r) => [r.resolution, r.numSeries, r.numChunks,
        r.numSamples ?? r.numWindows, bytesText(r.bytes), dateText(r.minTime), dateText(r.maxTime),
        dateText(r.sealedUntil), dateText(r.droppedBefore)]), [false, true, true, true, true]);
      const h = d.headStats;
      fillTable($("status-head"), ["series", "from", "to"], [[h.numSeries, dateText(h.minTime), dateText(h.maxTime)]],
        [true]);
      const pairs = (list) => (list || []).map((e) => [e.name, e.value]);
      fillTable($("status-metrics"), ["metric", "series"], pairs(d.seriesCountByMetricName), [false, true]);
      fillTable($("status-pairs"), ["label pair", "series"], pairs(d.seriesCountByLabelValuePair), [false, true]);
      fillTable($("status-labels"), ["label", "values"], pairs(d.labelValueCountByLabelName), [false, true]);
    }
    if (forward) {
      const now = Date.now() / 1000;
      fillTable($("status-forward"), ["target", "url", "pending records", "lag", "samples sent", "dropped", "retried",
        "last error"], forward.data.targets.map((t) => [t.name, t.url, t.pendingRecords,
        t.highestSentTimestamp > 0 ? formatDuration(Math.max(0, Math.round(now - t.highestSentTimestamp))) : "",
        t.samplesSent, Object.entries(t.dropped).map(([k, v]) => k + ": " + v).join(", "), t.retriedRequests,
        t.lastError]), [false, false, true, true, true]);
    }
    if (build) {
      fillTable($("status-build"), ["field", "value"], Object.entries(build.data));
      $("build-info").textContent = "tsvault " + build.data.version + " (" + build.data.revision + ")";
    }
    if (flags) fillTable($("status-flags"), ["flag", "value"], Object.entries(flags.data).map(([k, v]) => ["--" + k, v]));
  }

  function selectView(view) {
    state.view = view;
    $("trends-view").hidden = view !== "trends";
    $("status-view").hidden = view !== "status";
    $("nav-trends").classList.toggle("active", view === "trends");
    $("nav-status").classList.toggle("active", view === "status");
    writeUrl();
    if (view === "status") loadStatus();
    else if (state.expr) run();
  }

  // ---- Wiring ----------------------------------------------------------------

  function init() {
    for (const [name] of RANGES) $("range").appendChild(element("option", { value: name }, name));
    const zones = new Set(["UTC", browserZone, "Europe/Moscow", "Europe/Berlin", "Europe/London",
      "America/New_York", "America/Los_Angeles", "Asia/Tokyo", "Asia/Kolkata"]);
    if (Intl.supportedValuesOf) for (const z of Intl.supportedValuesOf("timeZone")) zones.add(z);
    for (const z of zones) $("tz").appendChild(element("option", { value: z }, z));
    READY_VIEWS.forEach((v) => {
      const button = element("button", { type: "button", title: v.expr }, v.title);
      button.addEventListener("click", () => {
        state.expr = v.expr;
        state.range = v.range;
        state.step = v.step;
        state.end = "";
        showState();
        selectView("trends");
        run();
      });
      $("ready-views").appendChild(button);
    });
    readUrl();
    showState();

    $("query-form").addEventListener("submit", (e) => { e.preventDefault(); run(); });
    const box = $("expr");
    box.addEventListener("input", () => { updateCompletions(); });
    box.addEventListener("blur", () => setTimeout(hideCompletions, 150));
    box.addEventListener("keydown", (e) => {
      const open = !$("completions").hidden && completion.items.length > 0;
      if (open && (e.key === "ArrowDown" || e.key === "ArrowUp")) {
        e.preventDefault();
        const n = completion.items.length;
        completion.selected = (completion.selected + (e.key === "ArrowDown" ? 1 : n - 1)) % n;
        highlightCompletion();
      } else if (open && (e.key === "Tab" || (e.key === "Enter" && !e.shiftKey))) {
        e.preventDefault();
        acceptCompletion(completion.selected);
      } else if (open && e.key === "Escape") {
        hideCompletions();
      } else if (e.key === "Enter" && !e.shiftKey) {
        e.preventDefault();
        run();
      }
    });
    $("range").addEventListener("change", () => { state.range = $("range").value; run(); });
    $("end").addEventListener("change", () => {
      const epoch = wallClockToEpoch($("end").value, state.tz);
      state.end = epoch === null ? "" : String(epoch);
      run();
    });
    $("end-now").addEventListener("click", () => { state.end = ""; $("end").value = ""; run(); });
    $("tz").addEventListener("change", () => {
      state.tz = $("tz").value;
      localStorage.setItem("tsvault.tz", state.tz);
      showState();
      if (state.view === "status") loadStatus(); else run();
    });
    $("step").addEventListener("change", () => {
      const text = $("step").value.trim();
      if (text !== "" && parseDuration(text) === null) return showError("bad step \"" + text + "\": use 15s, 5m, 1h, 1d or seconds");
      state.step = text;
      run();
    });
    $("resolution").addEventListener("change", () => { state.res = $("resolution").value; run(); });
    $("stacked").addEventListener("change", () => { state.stacked = $("stacked").checked; writeUrl(); drawChart(); });
    $("format").addEventListener("click", formatQuery);
    $("tab-chart").addEventListener("click", () => selectTab("chart"));
    $("tab-table").addEventListener("click", () => selectTab("table"));
    $("nav-trends").addEventListener("click", (e) => { e.preventDefault(); selectView("trends"); });
    $("nav-status").addEventListener("click", (e) => { e.preventDefault(); selectView("status"); });
    let resizeTimer = 0;
    window.addEventListener("resize", () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => { if (chart) chart.setSize({ width: $("chart-pane").clientWidth, height: 380 }); }, 100);
    });
    api("/api/v1/status/buildinfo", {}, "GET").then((b) => {
      $("build-info").textContent = "tsvault " + b.data.version + " (" + b.data.revision + ")";
    }).catch(() => {});
    selectTab(state.tab);
    selectView(state.view);
    if (!state.expr && state.view === "trends") clearChart("Enter a PromQL expression, or pick one of the views above.");
  }

  init();
})();
