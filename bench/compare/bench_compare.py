#!/usr/bin/env python3
"""tsvault vs Prometheus 2.42 and VictoriaMetrics 1.79, side by side on one machine (issues 4 and 15).

Sends the same seed-workload backfill to tsvault, to a real Prometheus and to
a real VictoriaMetrics, one after the other, measures ingest CPU, memory,
disk and query latency of each server process, and prints a Markdown table
(optionally written into bench/RESULTS.md). See bench/compare/README.md for what each figure means.
Python 3 standard library only.
"""

import argparse
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import compose  # noqa: E402
import queries  # noqa: E402
import report  # noqa: E402
import servers  # noqa: E402
import churn  # noqa: E402
import trend  # noqa: E402
import victoria  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LONG_FILTER = "reengagement_notifications_sent_total"


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scale", type=float, default=10, help="seed workload scale (1 = ~8.7k series)")
    p.add_argument("--hours", type=float, default=2, help="hours of backfill, ending now")
    p.add_argument("--interval", default="15s", help="scrape interval of the backfill")
    p.add_argument("--long-days", type=float, default=30, help="days of the long data set (30-day query)")
    p.add_argument("--long-interval", default="60s", help="scrape interval of the long data set")
    p.add_argument("--long-scale", type=float, default=1, help="seed workload scale of the long data set")
    p.add_argument("--runs", type=int, default=5, help="timed runs per query (after one warm-up)")
    p.add_argument("--concurrency", type=int, default=4, help="loadgen connections (same for both)")
    p.add_argument("--batch", type=int, default=2000, help="loadgen series per request (same for both)")
    p.add_argument("--seed", type=int, default=1, help="workload seed")
    p.add_argument("--settle-max", type=float, default=30, help="longest wait for a server to go quiet after ingest")
    p.add_argument("--smoke", action="store_true",
                   help="CI smoke: tiny data, 1 run per query; every code path, no RESULTS.md write")
    p.add_argument("--write-results", action="store_true", help="replace the bench-compare section of bench/RESULTS.md")
    p.add_argument("--strict", action="store_true", help="exit 1 when the run produced any warning")
    p.add_argument("--results-file", default=os.path.join(REPO, "bench", "RESULTS.md"))
    p.add_argument("--tsvault-binary", default=os.path.join(REPO, "build", "tools", "tsvault"))
    p.add_argument("--tsvault-flag", action="append", default=[], help="extra flag for tsvault serve (repeatable)")
    p.add_argument("--prometheus-binary", default=shutil.which("prometheus") or "/usr/bin/prometheus")
    p.add_argument("--promtool-binary", default=shutil.which("promtool") or "/usr/bin/promtool")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    p.add_argument("--no-victoria-metrics", dest="victoria_metrics", action="store_false",
                   help="leave VictoriaMetrics out (the table then has the Prometheus columns only)")
    p.add_argument("--victoria-metrics-binary",
                   default=shutil.which("victoria-metrics") or "/usr/bin/victoria-metrics")
    p.add_argument("--victoria-metrics-flag", action="append", default=[],
                   help="extra flag for victoria-metrics (repeatable, e.g. --victoria-metrics-flag=-memory.allowedPercent=20)")
    p.add_argument("--trend-days", type=float, default=365, help="days of the trend data set (one year)")
    p.add_argument("--trend-interval", default="300s", help="scrape interval of the trend data set (seconds)")
    p.add_argument("--trend-scale", type=float, default=0.5, help="seed workload scale of the trend data set")
    p.add_argument("--churn-days", type=float, default=46, help="days of the churn data set (1h steps)")
    p.add_argument("--churn-scale", type=float, default=1.15, help="seed workload scale of the churn data set")
    p.add_argument("--churn-probability", type=float, default=0.35,
                   help="loadgen --churn of the churn data set (per step and churnable series)")
    p.add_argument("--churn-settle", type=float, default=15, help="seconds before the settled RSS figures")
    p.add_argument("--churn-evict-timeout", type=float, default=1800,
                   help="longest wait for the downsampler and checkpoints to evict the ended series")
    p.add_argument("--phases", default="main,long,trend,churn",
                   help="comma-separated phases: main (ingest, disk, dashboard pack), long (30-day query), "
                        "trend (one-year trend queries), churn (memory and start-up with ~1M ended series); "
                        "--write-results needs main and long")
    args = p.parse_args(argv)
    args.phases = set(args.phases.split(","))
    if not args.phases <= {"main", "long", "trend", "churn"}:
        p.error(f"--phases: unknown phase in {sorted(args.phases)}")
    if args.write_results and not {"main", "long"} <= args.phases:
        p.error("--write-results needs the main and long phases")
    if args.smoke:
        args.scale, args.hours, args.long_days, args.runs = 0.05, 10 / 60, 1, 1
        args.trend_days, args.trend_scale = 70, 0.05
        args.churn_days, args.churn_scale, args.churn_probability, args.churn_evict_timeout = 10, 0.05, 0.3, 300
        args.churn_settle = 1
        args.settle_max = min(args.settle_max, 3)
    return args


def duration_seconds(text):
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
    for unit in sorted(units, key=len, reverse=True):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * units[unit]
    return float(text)


def log(message):
    print(f"[bench-compare {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Run:
    """The state of one comparison run: directories, children, warnings."""

    def __init__(self, args):
        self.args = args
        self.tmp = tempfile.mkdtemp(prefix="bench-compare-", dir="/tmp")
        self.servers = []
        self.warnings = []
        self.phase_seconds = {}  # phase name -> wall seconds
        self.vm_differences_found = {}  # known MetricsQL difference -> where VictoriaMetrics' answers met it
        self.vm_seconds = 0.0  # wall seconds spent on VictoriaMetrics (its share of the run)

    def warn(self, message):
        self.warnings.append(message)
        log("WARNING: " + message)

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def tsvault(self, tag):
        server = servers.Tsvault(self.args.tsvault_binary, self.path(f"tsvault-{tag}"),
                                 self.path(f"tsvault-{tag}.log"), self.args.tsvault_flag)
        self.servers.append(server)
        return server

    def prometheus(self, tag):
        server = servers.Prometheus(self.args.prometheus_binary, self.path(f"prometheus-{tag}"),
                                    self.path(f"prometheus-{tag}.log"), self.path(f"prometheus-{tag}.yml"))
        self.servers.append(server)
        return server

    def cleanup(self):
        for server in self.servers:
            server.kill()

    def loadgen(self, url, tag, start, end, interval, scale, extra=()):
        """Runs `tsvault loadgen --backfill` over [start, end] (Unix seconds); returns its JSON summary."""
        a = self.args
        command = [a.tsvault_binary, "loadgen", "--url", url, "--protocol", "v1", "--backfill",
                   "--from", str(int(start)), "--to", str(int(end)), "--interval", interval,
                   "--scale", f"{scale:g}", "--seed", str(a.seed), "--concurrency", str(a.concurrency),
                   "--batch", str(a.batch)] + list(extra)
        with open(self.path(f"loadgen-{tag}.log"), "wb") as err:
            done = subprocess.run(command, stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL)
        lines = done.stdout.decode().strip().splitlines()
        if not lines:
            raise RuntimeError(f"loadgen ({tag}) printed no summary (exit {done.returncode}); "
                               f"see {self.path(f'loadgen-{tag}.log')}")
        summary = json.loads(lines[-1])
        if done.returncode != 0 or summary["failed_requests"] or summary["samples_acknowledged"] == 0:
            self.warn(f"loadgen to {tag}: exit {done.returncode}, {summary['failed_requests']} failed requests, "
                      f"{summary['samples_acknowledged']:,} of {summary['samples_sent']:,} samples acknowledged "
                      f"(see {self.path(f'loadgen-{tag}.log')})")
        return summary


settle = servers.settle  # waits until a server is quiet (< 5% of a core over 1 s, at least 2 s, at most `limit`)


def ingest_and_measure(run, server, window, pack, query_window, query_extra=None):
    """Starts `server`, backfills the main data set, measures it, runs the dashboard pack.

    Leaves the server running; returns a dict of figures.
    """
    a = run.args
    server.start()
    version = server.version()
    pid = server.pid
    rss_start = servers.memory_bytes(pid)[0]
    cpu_before = servers.cpu_seconds(pid)
    with servers.RssSampler(pid) as sampler:
        began = time.monotonic()
        summary = run.loadgen(server.write_url, server.name.lower(), window[0], window[1], a.interval, a.scale)
        wall = time.monotonic() - began
        cpu_ingest = servers.cpu_seconds(pid) - cpu_before
        settled = settle(pid, a.settle_max)
    cpu_total = servers.cpu_seconds(pid) - cpu_before
    rss_steady, hwm = servers.memory_bytes(pid)
    figures = {
        "version": version, "summary": summary, "wall": wall, "cpu_ingest": cpu_ingest, "cpu": cpu_total,
        "settle": settled, "rss_start": rss_start, "rss_steady": rss_steady, "rss_peak": max(hwm, sampler.max_rss),
        "head_series": server.head_series(), "queries": {},
    }
    log(f"{server.name}: {summary['samples_acknowledged']:,} samples in {wall:.1f}s, "
        f"CPU {cpu_total:.1f}s, RSS peak {figures['rss_peak'] / 2**20:.0f} MiB")
    for query in pack:
        figures["queries"][query.name] = run_query(run, server, query, query_window, query_extra)
    return figures


def run_query(run, server, query, window, extra=None):
    start, end, step = window
    try:
        median, times, answer = queries.measure(server.base_url, query.expr, start, end, step, run.args.runs,
                                                extra=extra)
    except (queries.QueryError, OSError) as error:
        run.warn(f"{server.name}: query '{query.name}' failed: {error}")
        return None
    return {"median": median, "times": times, "answer": answer,
            "input_series": queries.input_series(server.base_url, query.selector, end)}


def tsvault_disk(run, tsv):
    """Stops tsvault and measures its data directory: as the clean close left
    it ("raw_disk") and after `tsvault compact` ("disk")."""
    code = tsv.stop()
    if code != 0:
        run.warn(f"tsvault exited with {code} on SIGTERM")
    figures = {"raw_disk": tsv.disk_bytes()}
    figures["compact_seconds"] = tsv.compact()
    figures["disk"] = tsv.disk_bytes()
    return figures


def prometheus_disk(prom):
    """Snapshots Prometheus (head included), measures the snapshot and the raw directory, stops it."""
    snapshot, snapshot_samples = prom.snapshot()
    figures = {"disk": servers.directory_bytes(snapshot), "snapshot_samples": snapshot_samples,
               "raw_disk": prom.raw_disk_bytes()}
    prom.stop()
    return figures


def long_phase(run):
    """The 30-day data set: one loadgen run feeds tsvault (remote write) and
    an OpenMetrics file that promtool turns into Prometheus blocks; then the
    long query runs on each. Returns {server name: query figures}, details."""
    a = run.args
    step = duration_seconds(a.long_interval)
    end = int(time.time() // step * step)
    start = end - int(a.long_days * 86400)
    openmetrics = run.path("long.om")
    results = {}
    tsv = run.tsvault("long")
    tsv.start()
    summary = run.loadgen(tsv.write_url, "tsvault-long", start, end, a.long_interval, a.long_scale,
                          ["--metric-filter", LONG_FILTER, "--openmetrics-out", openmetrics,
                           "--steps-per-request", "60"])
    settle(tsv.pid, a.settle_max)
    check_long_data(run, tsv, summary, start, end, step)
    query_window = (max(start, end - 30 * 86400), end, 3600)
    results["tsvault"] = run_query(run, tsv, queries.LONG_QUERY, query_window)
    tsv.stop()

    prom_dir = run.path("prometheus-long")
    promtool_seconds = servers.create_blocks(a.promtool_binary, openmetrics, prom_dir)
    promtool_samples = servers.block_samples(prom_dir)
    if promtool_samples != summary["samples_acknowledged"]:
        run.warn(f"long data set: promtool's blocks hold {promtool_samples:,} samples, tsvault acknowledged "
                 f"{summary['samples_acknowledged']:,}")
    om_bytes = os.path.getsize(openmetrics)
    os.remove(openmetrics)
    prom = run.prometheus("long")
    prom.start()
    results["Prometheus"] = run_query(run, prom, queries.LONG_QUERY, query_window)
    prom.stop()
    details = {"summary": summary, "start": start, "end": end, "window": query_window,
               "promtool_seconds": promtool_seconds, "openmetrics_bytes": om_bytes}
    if a.victoria_metrics:
        with victoria.timed(run):
            results["VictoriaMetrics"], details["vm_summary"] = long_victoria_metrics(run, summary, start, end,
                                                                                      query_window)
    return results, details


def long_victoria_metrics(run, summary, start, end, query_window):
    """The same loadgen command (same seed, same fixed --from/--to: the same samples) by remote write to a
    fresh VictoriaMetrics, then the long query. Returns (query figures, loadgen summary)."""
    a = run.args
    vm = victoria.server(run, "long")
    vm.start()
    vm_summary = run.loadgen(vm.write_url, "victoria-metrics-long", start, end, a.long_interval, a.long_scale,
                             ["--metric-filter", LONG_FILTER, "--steps-per-request", "60"])
    settle(vm.pid, a.settle_max)
    vm.force_flush()
    if vm_summary["samples_acknowledged"] != summary["samples_acknowledged"]:
        run.warn(f"long data set: VictoriaMetrics acknowledged {vm_summary['samples_acknowledged']:,} samples, "
                 f"tsvault {summary['samples_acknowledged']:,}")
    figures = run_query(run, vm, queries.LONG_QUERY, query_window, victoria.QUERY_ARGS)
    vm.stop()
    return figures, vm_summary


def check_long_data(run, tsv, summary, start, end, step):
    """Checks that the filtered, packed long backfill reached tsvault whole and
    held only the filtered metric (a self-test of loadgen's --metric-filter
    and --steps-per-request)."""
    expected = summary["series"] * (int((end - start) // step) + 1)
    if summary["samples_acknowledged"] != expected:
        run.warn(f"long data set: {summary['samples_acknowledged']:,} samples acknowledged, expected {expected:,}")
    head = tsv.head_series()
    names = tsv.query("/api/v1/label/__name__/values", {}).get("data")
    if head != summary["series"] or names != [LONG_FILTER]:
        run.warn(f"long data set: tsvault holds {head} series named {names}, loadgen sent {summary['series']} "
                 f"series of {LONG_FILTER} only")


def compare_queries(run, pack, tsv, prom):
    """Checks both servers' answers per query; returns {query name: comparison}."""
    out = {}
    for query in pack:
        a, b = tsv.get(query.name), prom.get(query.name)
        if not a or not b:
            continue
        c = queries.compare_answers(a["answer"], b["answer"])
        out[query.name] = c
        if c["series_a"] != c["series_b"]:
            run.warn(f"query '{query.name}': tsvault returned {c['series_a']} series, "
                     f"Prometheus {c['series_b']}")
        elif c["series_only_in_one"] or c["points_only_in_one"] or c["max_relative_difference"] > 1e-6:
            run.warn(f"query '{query.name}': answers differ ({c['series_only_in_one']} series and "
                     f"{c['points_only_in_one']} points in only one, largest relative value difference "
                     f"{c['max_relative_difference']:.2g})")
    return out


def compare_victoria_metrics(run, pack, vm, refs, data_start, where="query"):
    """VictoriaMetrics' answers against each reference ({name: {query name: figures}}), every difference
    attributed to a known MetricsQL difference or warned about. Returns {query name: {ref name: result}}."""
    out = {}
    for query in pack:
        v = vm.get(query.name)
        if not v:
            continue
        for ref_name, ref in refs.items():
            r = ref.get(query.name)
            if r:
                out.setdefault(query.name, {})[ref_name] = victoria.check(
                    run, f"{where} '{query.name}'", query.expr, v["answer"], ref_name, r["answer"], data_start)
    return out


def timed_phase(run, name, function, *args):
    began = time.monotonic()
    try:
        return function(*args)
    finally:
        run.phase_seconds[name] = time.monotonic() - began
        log(f"phase {name}: {run.phase_seconds[name]:.0f} s")


def main(argv):
    args = parse_args(argv)
    binaries = [args.tsvault_binary, args.prometheus_binary, args.promtool_binary]
    if args.victoria_metrics:
        binaries.append(args.victoria_metrics_binary)
    for binary in binaries:
        if not os.access(binary, os.X_OK):
            sys.exit(f"bench-compare: {binary} is not an executable (build tsvault first: make build; "
                     f"VictoriaMetrics: scripts/install-deps.sh, or --no-victoria-metrics)")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    command = "python3 " + shlex.join([os.path.relpath(os.path.abspath(sys.argv[0]), REPO)] + argv)
    run = Run(args)
    log(f"working in {run.tmp}")
    began = time.monotonic()
    ok = False
    try:
        trend_text = ""
        if "trend" in args.phases:
            trend_text = trend.markdown(args, timed_phase(run, "trend", trend.trend_phase, run))
        if "churn" in args.phases:
            if args.victoria_metrics:
                log("churn: VictoriaMetrics is left out of this phase (a million-series backfill to it would "
                    "blow the run's 20-minute budget)")
            trend_text = ((trend_text + "\n\n" if trend_text else "") +
                          churn.markdown(args, timed_phase(run, "churn", churn.churn_phase, run)))
        if not {"main", "long"} <= args.phases:
            if args.victoria_metrics and "trend" in args.phases:
                trend_text += "\n\n" + victoria.differences_markdown(run.vm_differences_found)
            print(trend_text)
            ok = True
            return 1 if args.strict and run.warnings else 0
        step = duration_seconds(args.interval)
        end = int(time.time() // step * step)
        start = end - int(args.hours * 3600)
        window = (start, end)
        span = min(3600, end - start)
        query_window = (end - span, end, step)

        began_main = time.monotonic()
        tsv = run.tsvault("main")
        tsv_fig = ingest_and_measure(run, tsv, window, queries.DASHBOARD_PACK, query_window)
        tsv_fig.update(tsvault_disk(run, tsv))
        prom = run.prometheus("main")
        prom_fig = ingest_and_measure(run, prom, window, queries.DASHBOARD_PACK, query_window)
        prom_fig.update(prometheus_disk(prom))
        vm_fig = None
        if args.victoria_metrics:
            with victoria.timed(run):
                vm = victoria.server(run, "main")
                vm_fig = ingest_and_measure(run, vm, window, queries.DASHBOARD_PACK, query_window,
                                            victoria.QUERY_ARGS)
                vm_fig.update(victoria.disk(run, vm, vm_fig["summary"]["samples_acknowledged"]))
        run.phase_seconds["main"] = time.monotonic() - began_main
        log(f"phase main: {run.phase_seconds['main']:.0f} s")

        long_results, long_details = timed_phase(run, "long", long_phase, run)
        comparisons = compare_queries(run, queries.DASHBOARD_PACK, tsv_fig["queries"], prom_fig["queries"])
        comparisons.update(compare_queries(run, [queries.LONG_QUERY], {queries.LONG_QUERY.name: long_results["tsvault"]},
                                           {queries.LONG_QUERY.name: long_results["Prometheus"]}))
        vm_comparisons = {}
        if vm_fig is not None:
            vm_comparisons = compare_victoria_metrics(
                run, queries.DASHBOARD_PACK, vm_fig["queries"],
                {"Prometheus": prom_fig["queries"], "tsvault": tsv_fig["queries"]}, start)
            long_name = queries.LONG_QUERY.name
            vm_comparisons.update(compare_victoria_metrics(
                run, [queries.LONG_QUERY], {long_name: long_results.get("VictoriaMetrics")},
                {"Prometheus": {long_name: long_results.get("Prometheus")},
                 "tsvault": {long_name: long_results.get("tsvault")}}, long_details["start"]))
        elapsed = time.monotonic() - began
        section, all_met = compose.section(args, command, run, tsv_fig, prom_fig, long_results, long_details,
                                           comparisons, window, query_window, elapsed, vm_fig, vm_comparisons)
        if trend_text:
            section = section.rstrip("\n") + "\n\n" + trend_text + "\n"
        print(section)
        if args.write_results:
            report.write_results(args.results_file, section)
            log(f"wrote the bench-compare section of {args.results_file}")
        log(f"done in {elapsed:.0f}s; targets {'all met' if all_met else 'not all met'}")
        ok = True
    finally:
        run.cleanup()
        if args.keep or not ok:
            log(f"kept {run.tmp}")
        else:
            shutil.rmtree(run.tmp, ignore_errors=True)
    if args.strict and run.warnings:
        log(f"--strict: {len(run.warnings)} warning(s)")
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
