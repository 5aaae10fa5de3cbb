"""The churn phase of bench-compare (issue 10): memory follows active series.

A long-term store accumulates series that ended (pods, course ids,
campaigns). `tsvault loadgen --churn` backfills ~1M of them, ~10k active at
any step: each churned series ends with a staleness marker and a new one
takes its place. tsvault ingests them with the downsampler held back (a
grace longer than the data), so every series is still resident; a restart
then measures start-up with every series in memory. With the default grace
the downsampler seals the windows and checkpoints evict every ended series;
a second restart measures start-up with the resident set only. Prometheus
2.42 gets the same data as promtool blocks (the OpenMetrics file of the same
loadgen run) and is measured the same way. A series query over the whole
range must find the same series on both.
"""

import os
import time

import servers

DAY = 86400


def _ready_seconds(server):
    began = time.monotonic()
    server.start(timeout=900)
    return time.monotonic() - began


def _rss_after(server, seconds):
    time.sleep(seconds)
    return servers.memory_bytes(server.pid)[0]


def _metric(server, name, labels=""):
    """The value of one sample of tsvault's /metrics, or None."""
    import urllib.request
    with urllib.request.urlopen(server.base_url + "/metrics", timeout=60) as response:
        for line in response.read().decode().splitlines():
            if line.startswith(name + labels + " "):
                return float(line.split()[-1])
    return None


def _churned_series(run, server, start, end):
    """Series of the churned instances (instance ends in -r<n>) over the whole range."""
    answer = server.query("/api/v1/series", {"match[]": '{instance=~".+-r[0-9]+"}', "start": start, "end": end})
    if answer.get("status") != "success":
        run.warn(f"{server.name}: series query failed: {answer.get('error')}")
        return None
    return len(answer["data"])


def churn_phase(run):
    a = run.args
    end = int(time.time() // 3600 * 3600)
    start = end - int(a.churn_days * DAY)
    openmetrics = run.path("churn.om")
    flags = list(a.tsvault_flag)
    # Held back: no window is sealed while the backfill runs, nothing is evicted.
    held = servers.Tsvault(a.tsvault_binary, run.path("tsvault-churn"), run.path("tsvault-churn.log"),
                           flags + [f"--downsample.grace={int(a.churn_days + 30)}d"])
    run.servers.append(held)
    held.start()
    began = time.monotonic()
    summary = run.loadgen(held.write_url, "tsvault-churn", start, end, "1h", a.churn_scale,
                          ["--churn", f"{a.churn_probability:g}", "--openmetrics-out", openmetrics,
                           "--steps-per-request", "24"])
    ingest_seconds = time.monotonic() - began
    held.stop()

    tsv = servers.Tsvault(a.tsvault_binary, run.path("tsvault-churn"), run.path("tsvault-churn.log"),
                          flags + ["--downsample.interval=2s", "--storage.checkpoint-interval=5s"])
    run.servers.append(tsv)
    figures = {"summary": summary, "ingest_seconds": ingest_seconds, "start": start, "end": end}
    figures["all_resident_restart"] = _ready_seconds(tsv)
    figures["all_resident_rss"] = servers.memory_bytes(tsv.pid)[0]
    figures["series_total"] = _metric(tsv, "tsvault_storage_series", '{state="all"}')
    # The downsampler seals every window, then a checkpoint evicts.
    began = time.monotonic()
    while time.monotonic() - began < a.churn_evict_timeout:
        sealed = _metric(tsv, "tsvault_downsample_sealed_until_seconds", '{resolution="1d"}') or 0
        resident = _metric(tsv, "tsvault_storage_series", '{state="resident"}')
        if sealed > 0 and resident is not None and resident < figures["series_total"] / 2:
            break
        time.sleep(2)
    else:
        run.warn(f"churn: series not evicted after {a.churn_evict_timeout} s")
    figures["evict_seconds"] = time.monotonic() - began
    figures["evicted_rss"] = _rss_after(tsv, a.churn_settle)
    tsv.stop()
    figures["restart"] = _ready_seconds(tsv)
    figures["restart_rss"] = servers.memory_bytes(tsv.pid)[0]
    figures["resident"] = _metric(tsv, "tsvault_storage_series", '{state="resident"}')
    figures["tsvault_series_found"] = _churned_series(run, tsv, start, end)
    figures["settled_rss"] = _rss_after(tsv, a.churn_settle)
    tsv.stop()

    prom_dir = run.path("prometheus-churn")
    figures["promtool_seconds"] = servers.create_blocks(a.promtool_binary, openmetrics, prom_dir)
    os.remove(openmetrics)
    prom = run.prometheus("churn")
    figures["prometheus_restart"] = _ready_seconds(prom)
    figures["prometheus_rss"] = servers.memory_bytes(prom.pid)[0]
    figures["prometheus_series_found"] = _churned_series(run, prom, start, end)
    figures["prometheus_settled_rss"] = _rss_after(prom, a.churn_settle)
    prom.stop()
    if figures["tsvault_series_found"] != figures["prometheus_series_found"]:
        run.warn(f"churn: tsvault finds {figures['tsvault_series_found']} churned series, "
                 f"Prometheus {figures['prometheus_series_found']}")
    return figures


def _mib(value):
    return f"{value / 2**20:,.0f} MiB"


def markdown(args, f):
    s = f["summary"]
    total = f["series_total"] or 0
    resident = f["resident"] or 0
    ended = max(1, total - resident)
    per_ended = (f["all_resident_rss"] - f["restart_rss"]) / ended
    lines = [
        "### Memory with many ended series (issue 10)",
        "",
        f"Data: `tsvault loadgen --churn {args.churn_probability:g}` at scale {args.churn_scale:g}, "
        f"{args.churn_days:g} days at 1h: {total:,.0f} series created ({s['series']:,} slots at a time), "
        f"{s['samples_acknowledged']:,} samples, ingested in {f['ingest_seconds']:.0f} s with the downsampler "
        f"held back. Then the downsampler sealed every window and checkpoints evicted the ended series in "
        f"{f['evict_seconds']:.0f} s; {resident:,.0f} series stay resident. Prometheus holds the same data "
        f"as promtool blocks (made in {f['promtool_seconds']:.0f} s). A `/api/v1/series` query for the churned "
        f"instances over the whole range finds {f['tsvault_series_found']} series on tsvault and "
        f"{f['prometheus_series_found']} on Prometheus.",
        "",
        f"| | start-up (to ready) | RSS after start | RSS settled ({args.churn_settle:g} s) |",
        "|---|---|---|---|",
        f"| tsvault, every series resident (before eviction) | {f['all_resident_restart']:.2f} s | "
        f"{_mib(f['all_resident_rss'])} | — |",
        f"| tsvault, resident set only (after eviction) | **{f['restart']:.2f} s** | **{_mib(f['restart_rss'])}** | "
        f"{_mib(f['settled_rss'])} |",
        f"| Prometheus 2.42 (blocks) | {f['prometheus_restart']:.2f} s | {_mib(f['prometheus_rss'])} | "
        f"{_mib(f['prometheus_settled_rss'])} |",
        "",
        f"Memory per ended series: {per_ended:,.0f} bytes while resident (the difference of the two RSS "
        f"figures at ready, over the {ended:,.0f} evicted series); once evicted, an 8-byte slot of the id-indexed "
        f"table. The settled figures "
        f"include up to `--storage.block-cache-bytes` (256 MiB) of RocksDB block cache that the downsampler "
        f"and the series query fill. Start-up is "
        f"{f['all_resident_restart'] / max(f['restart'], 1e-9):.1f}x faster with the resident set only.",
    ]
    if getattr(args, "victoria_metrics", False):
        lines += ["", "VictoriaMetrics 1.79 is not in this phase: remote-writing the churn data set to it as well "
                      "(about a million series created) would take the default run past its 20-minute budget on "
                      "2 cores, so the churn figures compare tsvault with Prometheus only."]
    return "\n".join(lines)
