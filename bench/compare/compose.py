"""Turns the figures of one bench-compare run into the Markdown section."""

import datetime
import os
import platform

import queries
import report


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


def main_rows(tsv, prom):
    ts, ps = tsv["summary"], prom["summary"]
    t_samples, p_samples = ts["samples_acknowledged"], ps["samples_acknowledged"]
    t_series, p_series = ts["series"], ps["series"]
    return [
        report.Row("ingest throughput (samples/s, wall)", _per(t_samples, ts["seconds"]), _per(p_samples, ps["seconds"])),
        report.Row("CPU seconds per million samples", _per_million(tsv["cpu"], t_samples),
                   _per_million(prom["cpu"], p_samples), 2, 1 / 3, "≤ 0.33x"),
        report.Row("peak RSS per active series (bytes)", _per(tsv["rss_peak"], t_series),
                   _per(prom["rss_peak"], p_series), 0, 0.5, "≤ 0.5x"),
        report.Row("steady RSS per active series (bytes)", _per(tsv["rss_steady"], t_series),
                   _per(prom["rss_steady"], p_series), 0, 0.5, "≤ 0.5x"),
        report.Row("disk bytes per sample (long-term format)", _per(tsv["disk"], t_samples),
                   _per(prom["disk"], p_samples), 3, 0.7, "≤ 0.7x"),
        report.Row("disk bytes per sample (data dir as left after the backfill)", _per(tsv["raw_disk"], t_samples),
                   _per(prom["raw_disk"], p_samples), 3),
    ]


def query_rows(tsv, prom, long_results, long_window):
    rows, ratios = [], []
    for query in queries.DASHBOARD_PACK:
        row = report.Row(f"query ms: {query.name}", _ms(tsv["queries"].get(query.name)),
                         _ms(prom["queries"].get(query.name)), 1, 1.0, "≤ 1x")
        rows.append(row)
        ratios.append(row.ratio())
    gm = report.geometric_mean(ratios)
    rows.append(report.Row("dashboard pack, geometric mean of the ratios", None, None, 2, 1.0, "≤ 1x",
                           ratio=gm))
    rows.append(report.Row(f"query ms: re-engagement increase[1d], {_span(long_window[1] - long_window[0])} at 1 h",
                           _ms(long_results.get("tsvault")),
                           _ms(long_results.get("Prometheus")), 1, 1.0, "≤ 1x"))
    return rows


def query_details(tsv, prom, long_results, comparisons):
    lines = ["| query | input series | result series (tsvault / Prometheus) | answers agree | "
             "tsvault runs (ms) | Prometheus runs (ms) |", "|---|---|---|---|---|---|"]
    pairs = [(q, tsv["queries"].get(q.name), prom["queries"].get(q.name)) for q in queries.DASHBOARD_PACK]
    pairs.append((queries.LONG_QUERY, long_results.get("tsvault"), long_results.get("Prometheus")))
    for query, a, b in pairs:
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
        runs = [", ".join(f"{t * 1000:.0f}" for t in (x or {}).get("times", [])) or "failed" for x in (a, b)]
        lines.append(f"| `{query.expr}` | {inputs if inputs is not None else 'n/a'} | {counts} | {agree} | "
                     f"{runs[0]} | {runs[1]} |")
    return "\n".join(lines)


def section(args, command, run, tsv, prom, long_results, long_details, comparisons, window, query_window, elapsed):
    """Returns (Markdown section, whether every target was met)."""
    ts, ps = tsv["summary"], prom["summary"]
    rows = main_rows(tsv, prom) + query_rows(tsv, prom, long_results, long_details["window"])
    judged = [row.met() for row in rows if row.limit is not None]
    met = sum(1 for m in judged if m)
    start, end = window
    now = datetime.datetime.now(datetime.timezone.utc).timestamp()
    ld = long_details
    lines = [
        "## Side by side with Prometheus 2.42 (`make bench-compare`, issue 4)",
        "",
        f"Date: {_utc(now)}. Machine: {machine()}. Run took {elapsed:.0f} s.",
        f"tsvault {tsv['version']}, Prometheus {prom['version']}."
        + (" **Smoke run (tiny data): the figures mean nothing.**" if args.smoke else ""),
        "",
        f"Command: `{command}`",
        "",
        f"Main data set: seed workload at scale {args.scale:g}, {ts['series']:,} series, {_span(args.hours * 3600)} at "
        f"{args.interval} ({_utc(start)} to {_utc(end)}), sent with `tsvault loadgen --backfill --protocol v1 "
        f"--concurrency {args.concurrency} --batch {args.batch} --seed {args.seed}` to tsvault, then the same to "
        f"Prometheus; acknowledged samples: {ts['samples_acknowledged']:,} / {ps['samples_acknowledged']:,}. "
        f"Each server ran alone, with the load generator on the same machine.",
        "",
        report.table(rows),
        "",
        f"Targets met: {met} of {len(judged)}.",
        "",
        "How each figure was measured:",
        f"- CPU: utime + stime of the server process (/proc/<pid>/stat) from the start of the backfill until the "
        f"server went quiet after it (< 5% of a core over 1 s; waited {tsv['settle']:.0f} s / "
        f"{prom['settle']:.0f} s), per acknowledged sample. During the backfill alone: {tsv['cpu_ingest']:.1f} s / "
        f"{prom['cpu_ingest']:.1f} s of CPU.",
        f"- RSS: peak = VmHWM of the server process (also sampled from VmRSS every 0.2 s); steady = VmRSS once the "
        f"server went quiet, before any query. Divided by the active series the load generator sent "
        f"(head series reported by /api/v1/status/tsdb: {tsv['head_series']} / {prom['head_series']}). "
        f"Peak {tsv['rss_peak'] / 2**20:.0f} MiB / {prom['rss_peak'] / 2**20:.0f} MiB, steady "
        f"{tsv['rss_steady'] / 2**20:.0f} MiB / {prom['rss_steady'] / 2**20:.0f} MiB; right after start, "
        f"empty: {tsv['rss_start'] / 2**20:.0f} MiB / {prom['rss_start'] / 2**20:.0f} MiB.",
        "- Disk, tsvault: " + tsvault_disk_text(tsv),
        f"- Disk, Prometheus: `POST /api/v1/admin/tsdb/snapshot?skip_head=false`, which writes the head as a "
        f"persistent block, its long-term format: {prom['disk']:,} bytes holding {prom['snapshot_samples']:,} "
        f"samples (meta.json). For transparency, the raw data directory as Prometheus kept it (WAL, chunks_head, "
        f"any blocks; no snapshot): {prom['raw_disk']:,} bytes = "
        f"{prom['raw_disk'] / max(1, ps['samples_acknowledged']):.2f} bytes/sample.",
        f"- Queries: `query_range` over the last {_span(query_window[1] - query_window[0])} of the data at "
        f"{query_window[2]:g} s step; one warm-up, then the median of {args.runs} run(s), timed on the client "
        f"until the whole answer arrived (JSON decoding not included). Servers ran one at a time.",
        f"- 30-day query: a second data set, `{queries.LONG_QUERY.selector}` only (`--metric-filter`), scale "
        f"{args.long_scale:g}, {ld['summary']['series']} series, {_span(args.long_days * 86400)} at {args.long_interval} "
        f"({ld['summary']['samples_acknowledged']:,} samples). One loadgen run sent it to a fresh tsvault by "
        f"remote write and wrote the same samples as OpenMetrics ({ld['openmetrics_bytes']:,} bytes), which "
        f"`promtool tsdb create-blocks-from openmetrics --max-block-duration=744h` turned into blocks for a fresh "
        f"Prometheus ({ld['promtool_seconds']:.0f} s). Window {_utc(ld['window'][0])} to "
        f"{_utc(ld['window'][1])} at 1 h step.",
        "",
        "Per query (input series = `count(selector)` at the window's end on Prometheus; answers compared point by "
        "point):",
        "",
        query_details(tsv, prom, long_results, comparisons),
    ]
    if run.warnings:
        lines += ["", "Warnings:"] + [f"- {w}" for w in run.warnings]
    return "\n".join(lines) + "\n", met == len(judged)
