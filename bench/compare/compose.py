"""Turns the figures of one bench-compare run into the Markdown section."""

import datetime
import os
import platform

import queries
import report
import victoria


def machine():
    """'nproc = 2, MemTotal 23.4 GiB, <CPU model>, Linux <release>'."""
    mem = cpu = "?"
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 2**20:.1f} GiB"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"`nproc` = {len(os.sched_getaffinity(0))}, MemTotal {mem}, {cpu}, Linux {platform.release()}"


def _span(seconds):
    """'2 h', '10 min', '30 d'."""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:g} s"


def _utc(seconds):
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _per_million(cpu, samples):
    return cpu / samples * 1e6 if samples else None


def _per(value, count):
    return value / count if count else None


def _ms(figures):
    return None if not figures else figures["median"] * 1000


def tsvault_disk_text(tsv):
    samples = max(1, tsv["summary"]["samples_acknowledged"])
    steps = ("SIGTERM (clean close: a final checkpoint, then every memtable flushed to SST files); then "
             f"`tsvault compact` ({tsv['compact_seconds']:.0f} s: checkpoint, flush, full RocksDB compaction, so "
             "superseded chunk versions and deleted WAL records are gone)")
    return (f"{steps}. Then the data directory, every file except RocksDB's LOG*, OPTIONS-* and LOCK: "
            f"{tsv['disk']:,} bytes. For transparency: right after the close (superseded chunk versions and "
            f"deleted WAL records not yet compacted away) {tsv['raw_disk']:,} bytes = "
            f"{tsv['raw_disk'] / samples:.2f} bytes/sample.")


def vm_disk_text(vm):
    samples = max(1, vm["summary"]["samples_acknowledged"])
    return (f"VictoriaMetrics 1.79 keeps its newest small parts in memory until a merge or its shutdown writes "
            f"them, so: SIGTERM (a clean shutdown writes every part), then the data directory (data parts, indexdb, "
            f"metadata; not the `cache` directory that the shutdown saves, {vm['cache_disk']:,} bytes, nor "
            f"snapshots or lock files): {vm['raw_disk']:,} bytes = {vm['raw_disk'] / samples:.2f} bytes/sample "
            f"(the row \"data dir as left after the backfill\"; {vm['parts_before']} parts before the shutdown). "
            f"Then it started again, `/internal/force_merge` merged every part of the month's partition, waited for "
            f"until `vm_active_force_merges` was 0 again ({vm['merge_seconds']:.0f} s; {vm['parts_after']} part(s) "
            f"holding {vm['stored_rows']:,} samples, `vm_rows`), SIGTERM, and the directory again: "
            f"{vm['disk']:,} bytes (the row \"long-term format\").")


def _vm(vm, key, default=None):
    return default if vm is None else vm.get(key, default)


def main_rows(tsv, prom, vm=None):
    ts, ps = tsv["summary"], prom["summary"]
    t_samples, p_samples = ts["samples_acknowledged"], ps["samples_acknowledged"]
    t_series, p_series = ts["series"], ps["series"]
    vs = (vm or {}).get("summary") or {}
    v_samples, v_series = vs.get("samples_acknowledged"), vs.get("series")

    def v(value):
        return None if vm is None else value

    return [
        report.Row("ingest throughput (samples/s, wall)", _per(t_samples, ts["seconds"]), _per(p_samples, ps["seconds"]),
                   victoria=v(_per(v_samples, vs.get("seconds")))),
        report.Row("CPU seconds per million samples", _per_million(tsv["cpu"], t_samples),
                   _per_million(prom["cpu"], p_samples), 2, 1 / 3, "≤ 0.33x",
                   victoria=v(vm and _per_million(vm["cpu"], v_samples)), vm_limit=0.6, vm_target="≤ 0.6x"),
        report.Row("peak RSS per active series (bytes)", _per(tsv["rss_peak"], t_series),
                   _per(prom["rss_peak"], p_series), 0, 0.5, "≤ 0.5x",
                   victoria=v(vm and _per(vm["rss_peak"], v_series)), vm_limit=1.0, vm_target="≤ 1x"),
        report.Row("steady RSS per active series (bytes)", _per(tsv["rss_steady"], t_series),
                   _per(prom["rss_steady"], p_series), 0, 0.5, "≤ 0.5x",
                   victoria=v(vm and _per(vm["rss_steady"], v_series)), vm_limit=1.0, vm_target="≤ 1x"),
        report.Row("disk bytes per sample (long-term format)", _per(tsv["disk"], t_samples),
                   _per(prom["disk"], p_samples), 3, 0.7, "≤ 0.7x",
                   victoria=v(vm and _per(vm["disk"], v_samples)), vm_limit=1.0, vm_target="≤ 1x"),
        report.Row("disk bytes per sample (data dir as left after the backfill)", _per(tsv["raw_disk"], t_samples),
                   _per(prom["raw_disk"], p_samples), 3, victoria=v(vm and _per(vm["raw_disk"], v_samples))),
    ]


def query_rows(tsv, prom, long_results, long_window, vm=None):
    rows, ratios, vm_ratios = [], [], []
    for query in queries.DASHBOARD_PACK:
        row = report.Row(f"query ms: {query.name}", _ms(tsv["queries"].get(query.name)),
                         _ms(prom["queries"].get(query.name)), 1, 1.0, "≤ 1x",
                         victoria=None if vm is None else _ms(vm["queries"].get(query.name)),
                         vm_limit=1.0, vm_target="≤ 1x")
        rows.append(row)
        ratios.append(row.ratio())
        vm_ratios.append(row.vm_ratio())
    gm = report.geometric_mean(ratios)
    vm_gm = report.geometric_mean(vm_ratios) if vm is not None else None
    rows.append(report.Row("dashboard pack, geometric mean of the ratios", None, None, 2, 1.0, "≤ 1x",
                           ratio=gm, vm_ratio=vm_gm, vm_limit=0.8, vm_target="≤ 0.8x"))
    rows.append(report.Row(f"query ms: re-engagement increase[1d], {_span(long_window[1] - long_window[0])} at 1 h",
                           _ms(long_results.get("tsvault")),
                           _ms(long_results.get("Prometheus")), 1, 1.0, "≤ 1x",
                           victoria=_ms(long_results.get("VictoriaMetrics")), vm_limit=1.0, vm_target="≤ 1x"))
    return rows


def query_details(tsv, prom, long_results, comparisons, vm=None, vm_comparisons=None):
    victoria_text = vm is not None
    head = ("| query | input series | result series (tsvault / Prometheus) | answers agree | "
            "tsvault runs (ms) | Prometheus runs (ms) |")
    rule = "|---|---|---|---|---|---|"
    if victoria_text:
        head += " VictoriaMetrics runs (ms) |"
        rule += "---|"
    lines = [head, rule]
    pairs = [(q, tsv["queries"].get(q.name), prom["queries"].get(q.name),
              None if vm is None else vm["queries"].get(q.name)) for q in queries.DASHBOARD_PACK]
    pairs.append((queries.LONG_QUERY, long_results.get("tsvault"), long_results.get("Prometheus"),
                  long_results.get("VictoriaMetrics")))
    for query, a, b, v in pairs:
        c = comparisons.get(query.name)
        if c is None:
            agree, counts = "n/a (a query failed)", "n/a"
        else:
            counts = f"{c['series_a']} / {c['series_b']}"
            same = not c["series_only_in_one"] and not c["points_only_in_one"]
            agree = (f"yes (max rel. diff {c['max_relative_difference']:.1g})"
                     if same and c["max_relative_difference"] <= 1e-6 else
                     f"**no** ({c['series_only_in_one']} series, {c['points_only_in_one']} points in one only, "
                     f"max rel. diff {c['max_relative_difference']:.2g})")
        inputs = (b or a or {}).get("input_series")
        shown = (a, b, v) if victoria_text else (a, b)
        runs = [", ".join(f"{t * 1000:.0f}" for t in (x or {}).get("times", [])) or "failed" for x in shown]
        lines.append(f"| `{query.expr}` | {inputs if inputs is not None else 'n/a'} | {counts} | {agree} | "
                     + " | ".join(runs) + " |")
    return "\n".join(lines)


def vm_answer_details(vm_comparisons):
    """One line per query: VictoriaMetrics' answer against Prometheus' (and tsvault's when that differs)."""
    lines = ["| query | VictoriaMetrics vs Prometheus 2.42 (series VM / Prometheus; points) | vs tsvault |",
             "|---|---|---|"]
    for query in queries.DASHBOARD_PACK + [queries.LONG_QUERY]:
        c = vm_comparisons.get(query.name) or {}
        p, t = c.get("Prometheus"), c.get("tsvault")
        p_text = victoria.summary_text(p)
        t_text = victoria.summary_text(t)
        lines.append(f"| `{query.expr}` | {p_text} | {'same' if t_text == p_text else t_text} |")
    return "\n".join(lines)


def _triple(values, vm, fmt):
    """'a / b' or 'a / b / c' (tsvault / Prometheus / VictoriaMetrics)."""
    shown = values if vm is None else values + [vm]
    return " / ".join(fmt(x) for x in shown)


def section(args, command, run, tsv, prom, long_results, long_details, comparisons, window, query_window, elapsed,
            vm=None, vm_comparisons=None):
    """Returns (Markdown section, whether every target was met)."""
    ts, ps = tsv["summary"], prom["summary"]
    rows = main_rows(tsv, prom, vm) + query_rows(tsv, prom, long_results, long_details["window"], vm)
    judged = [row.met() for row in rows if row.limit is not None]
    met = sum(1 for m in judged if m)
    vm_judged = [row.vm_met() for row in rows if row.vm_limit is not None] if vm is not None else []
    vm_met = sum(1 for m in vm_judged if m)
    start, end = window
    now = datetime.datetime.now(datetime.timezone.utc).timestamp()
    ld = long_details
    mib = lambda x: f"{x / 2**20:.0f} MiB"  # noqa: E731
    names = "tsvault / Prometheus" + (" / VictoriaMetrics" if vm is not None else "")
    phases = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in run.phase_seconds.items())
    if vm is not None and phases:
        phases += f"; VictoriaMetrics' share of it {run.vm_seconds:.0f} s"
    title = ("## Side by side with Prometheus 2.42 and VictoriaMetrics 1.79 (`make bench-compare`, issues 4 and 15)"
             if vm is not None else "## Side by side with Prometheus 2.42 (`make bench-compare`, issue 4)")
    versions = f"tsvault {tsv['version']}, Prometheus {prom['version']}"
    if vm is not None:
        versions += (f", VictoriaMetrics {vm['version']} (`{' '.join(victoria.FLAGS + list(args.victoria_metrics_flag))}`"
                     f"; every query with `nocache=1`)")
    sent_to = ("to tsvault, then the same to Prometheus" if vm is None else
               "to tsvault, then the same to Prometheus, then the same to VictoriaMetrics (`/api/v1/write`)")
    lines = [
        title,
        "",
        f"Date: {_utc(now)}. Machine: {machine()}. Run took {elapsed:.0f} s" + (f" ({phases})" if phases else "")
        + (", over the 20-minute budget of issue 15." if elapsed > 1200 and not args.smoke else "."),
        versions + "." + (" **Smoke run (tiny data): the figures mean nothing.**" if args.smoke else ""),
        "",
        f"Command: `{command}`",
        "",
        f"Main data set: seed workload at scale {args.scale:g}, {ts['series']:,} series, {_span(args.hours * 3600)} at "
        f"{args.interval} ({_utc(start)} to {_utc(end)}), sent with `tsvault loadgen --backfill --protocol v1 "
        f"--concurrency {args.concurrency} --batch {args.batch} --seed {args.seed}` {sent_to}; acknowledged samples: "
        + _triple([ts["samples_acknowledged"], ps["samples_acknowledged"]],
                  None if vm is None else vm["summary"]["samples_acknowledged"], lambda x: f"{x:,}")
        + ". Each server ran alone, with the load generator on the same machine.",
        "",
        report.table(rows, victoria=vm is not None),
        "",
        f"Targets vs Prometheus (issue 4) met: {met} of {len(judged)}."
        + (f" Targets vs VictoriaMetrics (issue 15) met: {vm_met} of {len(vm_judged)}." if vm is not None else ""),
        "",
        "How each figure was measured:",
        f"- CPU: utime + stime of the server process (/proc/<pid>/stat) from the start of the backfill until the "
        f"server went quiet after it (< 5% of a core over 1 s; waited "
        + _triple([tsv["settle"], prom["settle"]], _vm(vm, "settle"), lambda x: f"{x:.0f} s")
        + f" ({names})), per acknowledged sample. During the backfill alone: "
        + _triple([tsv["cpu_ingest"], prom["cpu_ingest"]], _vm(vm, "cpu_ingest"), lambda x: f"{x:.1f} s")
        + " of CPU.",
        f"- RSS: peak = VmHWM of the server process (also sampled from VmRSS every 0.2 s); steady = VmRSS once the "
        f"server went quiet, before any query. Divided by the active series the load generator sent "
        f"(head series reported by /api/v1/status/tsdb: "
        + _triple([tsv["head_series"], prom["head_series"]], _vm(vm, "head_series", "n/a") if vm else None, str)
        + "). Peak " + _triple([tsv["rss_peak"], prom["rss_peak"]], _vm(vm, "rss_peak"), mib)
        + ", steady " + _triple([tsv["rss_steady"], prom["rss_steady"]], _vm(vm, "rss_steady"), mib)
        + "; right after start, empty: " + _triple([tsv["rss_start"], prom["rss_start"]], _vm(vm, "rss_start"), mib)
        + f" ({names})."
        + (" VictoriaMetrics runs with its default cache sizes (`-memory.allowedPercent=60` of the machine's "
           "memory); its RSS includes what its caches hold." if vm is not None else ""),
        "- Disk, tsvault: " + tsvault_disk_text(tsv),
        f"- Disk, Prometheus: `POST /api/v1/admin/tsdb/snapshot?skip_head=false`, which writes the head as a "
        f"persistent block, its long-term format: {prom['disk']:,} bytes holding {prom['snapshot_samples']:,} "
        f"samples (meta.json). For transparency, the raw data directory as Prometheus kept it (WAL, chunks_head, "
        f"any blocks; no snapshot): {prom['raw_disk']:,} bytes = "
        f"{prom['raw_disk'] / max(1, ps['samples_acknowledged']):.2f} bytes/sample.",
    ]
    if vm is not None:
        lines.append("- Disk, VictoriaMetrics: " + vm_disk_text(vm))
    lines += [
        f"- Queries: `query_range` over the last {_span(query_window[1] - query_window[0])} of the data at "
        f"{query_window[2]:g} s step; one warm-up, then the median of {args.runs} run(s), timed on the client "
        f"until the whole answer arrived (JSON decoding not included). Servers ran one at a time."
        + (" VictoriaMetrics computes every run: `-search.disableCache` and `nocache=1`." if vm is not None else ""),
        f"- 30-day query: a second data set, `{queries.LONG_QUERY.selector}` only (`--metric-filter`), scale "
        f"{args.long_scale:g}, {ld['summary']['series']} series, {_span(args.long_days * 86400)} at {args.long_interval} "
        f"({ld['summary']['samples_acknowledged']:,} samples). One loadgen run sent it to a fresh tsvault by "
        f"remote write and wrote the same samples as OpenMetrics ({ld['openmetrics_bytes']:,} bytes), which "
        f"`promtool tsdb create-blocks-from openmetrics --max-block-duration=744h` turned into blocks for a fresh "
        f"Prometheus ({ld['promtool_seconds']:.0f} s)."
        + (f" The same loadgen command (same seed and fixed `--from`/`--to`, so the same samples) sent it to a fresh "
           f"VictoriaMetrics by remote write ({ld['vm_summary']['samples_acknowledged']:,} samples acknowledged)."
           if vm is not None and ld.get("vm_summary") else "")
        + f" Window {_utc(ld['window'][0])} to {_utc(ld['window'][1])} at 1 h step.",
        "",
        "Per query (input series = `count(selector)` at the window's end on Prometheus; answers compared point by "
        "point):",
        "",
        query_details(tsv, prom, long_results, comparisons, vm, vm_comparisons),
    ]
    if vm is not None:
        lines += ["", "VictoriaMetrics' answers, point by point against Prometheus' and tsvault's (equal = relative "
                      "difference ≤ 1e-6; every other point is put down to a known MetricsQL difference, listed "
                      "below, or counted as unexplained):", "",
                  vm_answer_details(vm_comparisons or {}), "",
                  victoria.differences_markdown(run.vm_differences_found)]
    if run.warnings:
        lines += ["", "Warnings:"] + [f"- {w}" for w in run.warnings]
    return "\n".join(lines) + "\n", met == len(judged) and vm_met == len(vm_judged)
