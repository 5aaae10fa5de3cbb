"""The one-year trend phase of bench-compare (issue 10).

A year of the seed's re-engagement and course counters goes to tsvault
(remote write) and, through one OpenMetrics file, to Prometheus blocks made
by promtool. tsvault seals its rollups with `tsvault compact` (as a stopped
node would, or the downsampler over the year). Then the seed's trend
questions run on both at 1d, 1w and 30d steps from a UTC midnight: on
tsvault with max_source_resolution=auto (rollups) and =raw, on Prometheus
as it is. The answers must agree; the figures are the latencies and their
ratios. VictoriaMetrics 1.79 (issue 15) gets the same year by remote write
(the same loadgen command) and answers the same questions with its cache
off; its answers are checked against Prometheus' and tsvault's raw ones.
"""

import os
import time

import queries
import servers
import victoria

TREND_FILTER = "reengagement_.*|courses_.*"

TREND_QUERIES = [
    (queries.Query("notifications per day by level and type",
                   "sum by (level, type) (increase(reengagement_notifications_sent_total[1d]))",
                   "reengagement_notifications_sent_total"), 86400),
    (queries.Query("return rate per week by level",
                   "sum by (level) (increase(reengagement_users_returned_total[1w]))"
                   " / sum by (level) (increase(reengagement_notifications_sent_total[1w]))",
                   "reengagement_notifications_sent_total"), 7 * 86400),
    (queries.Query("course completions per 30 days",
                   "sum(increase(courses_completions_total[30d]))", "courses_completions_total"), 30 * 86400),
]


def _measure(run, server, query, window, extra=None):
    start, end, step = window
    try:
        median, times, answer = queries.measure(server.base_url, query.expr, start, end, step, run.args.runs,
                                                extra=extra)
    except (queries.QueryError, OSError) as error:
        run.warn(f"{server.name}: trend query '{query.name}' failed: {error}")
        return None
    return {"median": median, "times": times, "answer": answer}


def trend_phase(run):
    """Returns {"rows": [...], "details": {...}} for the Markdown table."""
    a = run.args
    step = int(a.trend_interval.rstrip("s"))
    end = int(time.time() // 86400 * 86400)  # the last UTC midnight
    start = end - int(a.trend_days * 86400)
    openmetrics = run.path("trend.om")

    tsv = run.tsvault("trend")
    tsv.start()
    began = time.monotonic()
    summary = run.loadgen(tsv.write_url, "tsvault-trend", start, end, a.trend_interval, a.trend_scale,
                          ["--metric-filter", TREND_FILTER, "--openmetrics-out", openmetrics,
                           "--steps-per-request", "240"])
    ingest_seconds = time.monotonic() - began
    tsv.stop()
    compact_seconds = tsv.compact()  # seals every rollup window of the year
    tsv.start()

    prom_dir = run.path("prometheus-trend")
    promtool_seconds = servers.create_blocks(a.promtool_binary, openmetrics, prom_dir)
    os.remove(openmetrics)
    prom = run.prometheus("trend")
    prom.start()

    rows = []
    for query, query_step in TREND_QUERIES:
        # The first step leaves room for the range inside the data.
        first = start + query_step + (query_step if query_step > 86400 else 0)
        first = (first + 86399) // 86400 * 86400
        window = (first, end, query_step)
        auto = _measure(run, tsv, query, window)
        raw = _measure(run, tsv, query, window, {"max_source_resolution": "raw"})
        prom_figures = _measure(run, prom, query, window)
        row = {"query": query, "step": query_step, "auto": auto, "raw": raw, "prometheus": prom_figures,
               "window": window}
        if auto and raw:
            row["auto_vs_raw"] = queries.compare_answers(auto["answer"], raw["answer"])
        if auto and prom_figures:
            row["auto_vs_prometheus"] = queries.compare_answers(auto["answer"], prom_figures["answer"])
            c = row["auto_vs_prometheus"]
            if c["series_only_in_one"] or c["points_only_in_one"] or c["max_relative_difference"] > 1e-6:
                run.warn(f"trend query '{query.name}': tsvault (auto) and Prometheus differ: {c}")
        rows.append(row)
    tsv.stop()
    prom.stop()
    details = {"summary": summary, "start": start, "end": end, "ingest_seconds": ingest_seconds,
               "compact_seconds": compact_seconds, "promtool_seconds": promtool_seconds,
               "tsvault_disk": tsv.disk_bytes(), "prometheus_disk": servers.directory_bytes(prom_dir)}
    if a.victoria_metrics:
        with victoria.timed(run):
            details.update(_victoria_metrics(run, rows, start, end, summary))
    return {"rows": rows, "details": details}


def _victoria_metrics(run, rows, start, end, summary):
    """The same year to a fresh VictoriaMetrics by remote write (the same loadgen command without the
    OpenMetrics copy), then the same questions; answers checked against Prometheus and tsvault (raw)."""
    a = run.args
    vm = victoria.server(run, "trend")
    vm.start()
    began = time.monotonic()
    vm_summary = run.loadgen(vm.write_url, "victoria-metrics-trend", start, end, a.trend_interval, a.trend_scale,
                             ["--metric-filter", TREND_FILTER, "--steps-per-request", "240"])
    ingest_seconds = time.monotonic() - began
    # Settled and merged, as tsvault is compacted and Prometheus' blocks are: quiet first, then every
    # part of each month's partition merged into one.
    settle_seconds = servers.settle(vm.pid, a.settle_max)
    merge_seconds = vm.force_merge()
    if vm_summary["samples_acknowledged"] != summary["samples_acknowledged"]:
        run.warn(f"trend data set: VictoriaMetrics acknowledged {vm_summary['samples_acknowledged']:,} samples, "
                 f"tsvault {summary['samples_acknowledged']:,}")
    for row in rows:
        query = row["query"]
        figures = _measure(run, vm, query, row["window"], victoria.QUERY_ARGS)
        row["victoria_metrics"] = figures
        if not figures:
            continue
        where = f"trend query '{query.name}'"
        if row["prometheus"]:
            row["vm_vs_prometheus"] = victoria.check(run, where, query.expr, figures["answer"], "Prometheus",
                                                     row["prometheus"]["answer"], start)
        if row["raw"]:
            row["vm_vs_raw"] = victoria.check(run, where, query.expr, figures["answer"], "tsvault (raw)",
                                              row["raw"]["answer"], start)
    stored = vm.stored_rows()
    if stored != vm_summary["samples_acknowledged"]:
        run.warn(f"trend data set: VictoriaMetrics holds {stored:,} samples in its parts, "
                 f"{vm_summary['samples_acknowledged']:,} were acknowledged")
    vm.stop()
    return {"vm_summary": vm_summary, "vm_ingest_seconds": ingest_seconds, "vm_settle_seconds": settle_seconds,
            "vm_merge_seconds": merge_seconds, "vm_disk": vm.disk_bytes()}


def _ms(figures):
    return "failed" if not figures else f"{figures['median'] * 1000:,.1f} ms"


def _ratio(a, b):
    if not a or not b or a["median"] <= 0:
        return "—"
    return f"{b['median'] / a['median']:,.0f}x"


def markdown(args, trend):
    if "vm_summary" in trend["details"]:
        return _markdown_with_victoria_metrics(args, trend)
    d = trend["details"]
    s = d["summary"]
    lines = [
        "### One-year trend queries (issue 10)",
        "",
        f"Data: {s['series']:,} series of `{TREND_FILTER}` at scale {args.trend_scale:g}, "
        f"{args.trend_days:g} days at {args.trend_interval} ending at the last UTC midnight: "
        f"{s['samples_acknowledged']:,} samples. tsvault ingested them in {d['ingest_seconds']:.0f} s and "
        f"`tsvault compact` sealed the rollups in {d['compact_seconds']:.0f} s; promtool made Prometheus' "
        f"blocks in {d['promtool_seconds']:.0f} s. Disk: tsvault {d['tsvault_disk'] / 2**20:,.0f} MiB (raw "
        f"and every rollup), Prometheus {d['prometheus_disk'] / 2**20:,.0f} MiB.",
        "",
        "| trend query (step) | tsvault auto | tsvault raw | Prometheus 2.42 | auto vs raw | auto vs Prometheus |"
        " answers (auto vs Prometheus) |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in trend["rows"]:
        same = _comparison_text(row.get("auto_vs_prometheus"))
        lines.append(f"| `{row['query'].expr}` ({row['step'] // 86400}d) | {_ms(row['auto'])} | {_ms(row['raw'])} | "
                     f"{_ms(row['prometheus'])} | **{_ratio(row['auto'], row['raw'])}** | "
                     f"**{_ratio(row['auto'], row['prometheus'])}** | {same} |")
    lines.append("")
    lines.append("Medians of the timed runs after one warm-up; ratios are how many times faster tsvault (auto) is.")
    return "\n".join(lines)


def _comparison_text(c):
    """The 'answers' cell for one comparison of tsvault (auto) with Prometheus, or a dash."""
    if not c:
        return "—"
    text = f"{c['series_a']} series, largest relative difference {c['max_relative_difference']:.2g}"
    if c["series_only_in_one"] or c["points_only_in_one"]:
        text += f", {c['series_only_in_one']} series and {c['points_only_in_one']} points in only one"
    return text


def _markdown_with_victoria_metrics(args, trend):
    d = trend["details"]
    s = d["summary"]
    lines = [
        "### One-year trend queries (issues 10 and 15)",
        "",
        f"Data: {s['series']:,} series of `{TREND_FILTER}` at scale {args.trend_scale:g}, "
        f"{args.trend_days:g} days at {args.trend_interval} ending at the last UTC midnight: "
        f"{s['samples_acknowledged']:,} samples. tsvault ingested them in {d['ingest_seconds']:.0f} s and "
        f"`tsvault compact` sealed the rollups in {d['compact_seconds']:.0f} s; promtool made Prometheus' "
        f"blocks in {d['promtool_seconds']:.0f} s; VictoriaMetrics took the same loadgen command by remote write "
        f"in {d['vm_ingest_seconds']:.0f} s ({d['vm_summary']['samples_acknowledged']:,} samples acknowledged), "
        f"went quiet {d['vm_settle_seconds']:.0f} s later and `/internal/force_merge` merged each month's parts "
        f"in {d['vm_merge_seconds']:.0f} s before the queries. "
        f"Disk: tsvault {d['tsvault_disk'] / 2**20:,.0f} MiB (raw and every rollup), Prometheus "
        f"{d['prometheus_disk'] / 2**20:,.0f} MiB, VictoriaMetrics {d['vm_disk'] / 2**20:,.0f} MiB (after the merge "
        f"and a clean shutdown, without its `cache` directory).",
        "",
        "| trend query (step) | tsvault auto | tsvault raw | Prometheus 2.42 | VictoriaMetrics 1.79 | auto vs raw | "
        "auto vs Prometheus | auto vs VictoriaMetrics | answers (auto vs Prometheus) | "
        "answers (VictoriaMetrics vs Prometheus) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in trend["rows"]:
        same = _comparison_text(row.get("auto_vs_prometheus"))
        vm_same = victoria.summary_text(row.get("vm_vs_prometheus"))
        lines.append(f"| `{row['query'].expr}` ({row['step'] // 86400}d) | {_ms(row['auto'])} | {_ms(row['raw'])} | "
                     f"{_ms(row['prometheus'])} | {_ms(row.get('victoria_metrics'))} | "
                     f"**{_ratio(row['auto'], row['raw'])}** | **{_ratio(row['auto'], row['prometheus'])}** | "
                     f"**{_ratio(row['auto'], row.get('victoria_metrics'))}** | {same} | {vm_same} |")
    lines.append("")
    lines.append("Medians of the timed runs after one warm-up; ratios are how many times faster tsvault (auto) is. "
                 "VictoriaMetrics computed every run (`-search.disableCache`, `nocache=1`); its answers were also "
                 "checked against tsvault's raw ones.")
    return "\n".join(lines)
