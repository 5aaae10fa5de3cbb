#!/usr/bin/env python3
"""CSV import and export side by side with VictoriaMetrics 1.79, and the
PostgreSQL import (issue 12).

The same generated CSV (SERIES series x POINTS points, 15 s apart, ending an
hour ago) is POSTed to tsvault's and to VictoriaMetrics' /api/v1/import/csv
with the same format=, then read back with each one's /api/v1/export/csv and
the same format=. Each server runs pinned to CPU 0 (`taskset -c 0`: "on one
core"); this script, the client, reads and writes on CPU 1. Reported: rows
per second (wall) and per CPU-second of the server, and the server's resident
memory before and at the peak of the export (sampled every 50 ms), which
stays flat when the export streams (a second export shows it once the
first one has opened every table file). Then `tsvault import postgres` of a
generated ReengagementMetrics table (a year of daily rows, most older than
the raw retention) from a real PostgreSQL 15. Python 3 standard library only.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import report  # noqa: E402
import servers  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
IMPORT_FORMAT = "1:label:instance,2:label:job,3:metric:bench_csv_value,4:time:unix_ms"
EXPORT_FORMAT = "instance,job,__value__,__timestamp__:unix_ms"
PG_BIN = "/usr/lib/postgresql/15/bin/"


def log(message):
    print(f"[bench-csv {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Pinned:
    """Mixin: the server runs on CPU 0 only."""

    def command(self):
        return ["taskset", "-c", "0"] + super().command()


class Tsvault(Pinned, servers.Tsvault):
    pass


class VictoriaMetrics(Pinned, servers.VictoriaMetrics):
    pass


def write_csv(path, series, points, end_ms):
    start_ms = end_ms - (points - 1) * 15_000
    with open(path, "w") as f:
        for s in range(series):
            prefix = f"host-{s:05d},node,"
            f.write("".join(f"{prefix}{(s * 7 + p) % 1000 / 10},{start_ms + p * 15_000}\n" for p in range(points)))
    return start_ms


def import_csv(server, path, rows, flush_path=None):
    pid = server.pid  # taskset execs the server: the same pid
    cpu0, began = servers.cpu_seconds(pid), time.monotonic()
    with open(path, "rb") as body:
        request = urllib.request.Request(
            server.base_url + "/api/v1/import/csv?" + urllib.parse.urlencode({"format": IMPORT_FORMAT}), data=body,
            method="POST", headers={"Content-Type": "text/csv", "Content-Length": str(os.path.getsize(path))})
        with urllib.request.urlopen(request, timeout=3600) as response:
            response.read()
    if flush_path:  # VictoriaMetrics answers before its data is searchable
        urllib.request.urlopen(server.base_url + flush_path, timeout=600).read()
    seconds, cpu = time.monotonic() - began, servers.cpu_seconds(pid) - cpu0
    return {"rows": rows, "seconds": seconds, "cpu": cpu}


def export_csv(server, start_ms, end_ms):
    pid = server.pid  # taskset execs the server: the same pid
    time.sleep(1)
    before = servers.memory_bytes(pid)[0]
    params = {"match[]": "bench_csv_value", "format": EXPORT_FORMAT, "start": start_ms / 1000, "end": end_ms / 1000}
    rows, cpu0, began = 0, servers.cpu_seconds(pid), time.monotonic()
    with servers.RssSampler(pid, period=0.05) as watch:
        with urllib.request.urlopen(server.base_url + "/api/v1/export/csv?" + urllib.parse.urlencode(params),
                                    timeout=3600) as response:
            while True:
                piece = response.read(1 << 20)
                if not piece:
                    break
                rows += piece.count(b"\n")
    seconds, cpu = time.monotonic() - began, servers.cpu_seconds(pid) - cpu0
    return {"rows": rows, "seconds": seconds, "cpu": cpu, "rss_before": before, "rss_peak": watch.max_rss}


def postgres_phase(args, tmp, tsvault_binary):
    """A real PostgreSQL 15 with a generated ReengagementMetrics table; times `tsvault import postgres`."""
    if not os.path.exists(PG_BIN + "initdb"):
        log("PostgreSQL 15 is not installed: the PostgreSQL import is not measured")
        return None
    pg_dir = os.path.join(tmp, "pg")
    os.makedirs(pg_dir)
    as_owner = []
    if os.geteuid() == 0:
        os.chmod(tmp, 0o755)
        shutil.chown(pg_dir, "postgres", "postgres")
        as_owner = ["runuser", "-u", "postgres", "--"]
    user = "postgres" if os.geteuid() == 0 else os.environ.get("USER", "postgres")
    port = servers.free_port()
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    subprocess.run(as_owner + [PG_BIN + "initdb", "-D", pg_dir + "/data", "-U", user, "--auth=trust", "--no-sync"],
                   check=True, **quiet)
    subprocess.run(as_owner + [PG_BIN + "pg_ctl", "-D", pg_dir + "/data", "-l", pg_dir + "/log", "-w", "-o",
                               f"-p {port} -k {pg_dir} -c listen_addresses=127.0.0.1 -c fsync=off", "start"],
                   check=True, **quiet)
    connection = f"host=127.0.0.1 port={port} user={user} dbname=postgres"
    # The default retention: most rows are older than the raw retention.
    tsv = Tsvault(tsvault_binary, os.path.join(tmp, "tsvault-pg"), os.path.join(tmp, "tsvault-pg.log"),
                  ["--storage.wal-sync=none", "--downsample.interval=1s"], keep_raw=False)
    try:
        campaigns = max(1, args.pg_rows // (args.pg_days * 6))
        sql = f"""
CREATE TABLE "ReengagementMetrics" (date date, level text, type text, campaign text, active_campaigns int,
  notifications_sent int, users_returned int, clicks int, opens int);
INSERT INTO "ReengagementMetrics"
SELECT d::date, l, t, 'c' || c, 1 + c % 5, (c * 31 + extract(doy FROM d)::int) % 5000, c % 300, c % 1000, c % 2000
FROM generate_series(current_date - {args.pg_days}, current_date - 1, interval '1 day') d,
     unnest(ARRAY['easy', 'medium', 'hard']) l, unnest(ARRAY['email', 'push']) t, generate_series(1, {campaigns}) c;
SELECT count(*) FROM "ReengagementMetrics";"""
        out = subprocess.run([PG_BIN + "psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                              "-p", str(port), "-U", user, "-d", "postgres", "-c", sql],
                             check=True, stdout=subprocess.PIPE).stdout.decode().split()
        rows = int(out[-1])
        tsv.start()
        time.sleep(3)  # the first downsampling pass sets the raw cutoff: most rows are history
        began = time.monotonic()
        cpu0 = servers.cpu_seconds(tsv.pid)
        done = subprocess.run(["taskset", "-c", "1", tsvault_binary, "import", "postgres", "--mapping",
                               os.path.join(REPO, "docs", "examples", "reengagement-metrics.yaml"),
                               "--connection", connection, "--url", tsv.base_url],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        seconds = time.monotonic() - began
        if done.returncode != 0:
            raise RuntimeError("tsvault import postgres failed: " + done.stdout.decode()[-1000:])
        return {"rows": rows, "samples": rows * 7, "seconds": seconds, "server_cpu": servers.cpu_seconds(tsv.pid) - cpu0,
                "days": args.pg_days}
    finally:
        tsv.kill()
        subprocess.run(as_owner + [PG_BIN + "pg_ctl", "-D", pg_dir + "/data", "-m", "immediate", "stop"], **quiet)


def markdown(args, rows, results, pg):
    def cell(phase):
        return (f"{phase['rows'] / phase['seconds']:,.0f} rows/s ({phase['seconds']:.1f} s), "
                f"{phase['rows'] / max(phase['cpu'], 1e-9):,.0f} rows per CPU-s")

    tsv_import, vm_import = results["tsvault"]["import"], results["VictoriaMetrics"]["import"]
    tsv_export, vm_export = results["tsvault"]["export"], results["VictoriaMetrics"]["export"]
    lines = [
        "## CSV import and export next to VictoriaMetrics 1.79, PostgreSQL import (issue 12)",
        "",
        f"Command: `make bench-csv` ({time.strftime('%Y-%m-%d')}, nproc {os.cpu_count()}). {rows:,} rows "
        f"({args.series:,} series x {args.points:,} points), the same file and `format=` for both servers; each "
        "server pinned to one core (`taskset -c 0`), the client on the other. Import: one POST of the whole file "
        "to `/api/v1/import/csv` (VictoriaMetrics: plus `/internal/force_flush`, so its rows are searchable). "
        "Export: `/api/v1/export/csv` of every row, read to the end.",
        "",
        "| | tsvault | VictoriaMetrics 1.79 | tsvault / VictoriaMetrics |",
        "|---|---|---|---|",
        f"| import | {cell(tsv_import)} | {cell(vm_import)} | "
        f"{(tsv_import['rows'] / tsv_import['seconds']) / (vm_import['rows'] / vm_import['seconds']):.2f}x rows/s |",
        f"| export | {cell(tsv_export)} | {cell(vm_export)} | "
        f"{(tsv_export['rows'] / tsv_export['seconds']) / (vm_export['rows'] / vm_export['seconds']):.2f}x rows/s |",
        f"| resident memory: before / peak of the first export / peak of a second one | "
        f"{tsv_export['rss_before'] / 2**20:,.0f} / {tsv_export['rss_peak'] / 2**20:,.0f} / "
        f"{tsv_export['rss_peak_again'] / 2**20:,.0f} MiB | {vm_export['rss_before'] / 2**20:,.0f} / "
        f"{vm_export['rss_peak'] / 2**20:,.0f} / {vm_export['rss_peak_again'] / 2**20:,.0f} MiB | |",
        "",
        f"Rows exported: tsvault {tsv_export['rows']:,}, VictoriaMetrics {vm_export['rows']:,} (both should be "
        f"{rows:,}).",
        "",
    ]
    if pg:
        lines += [
            f"PostgreSQL 15 import: a ReengagementMetrics table of {pg['rows']:,} daily rows over {pg['days']} days "
            f"(7 mapped metrics: {pg['samples']:,} samples; days older than 30 days go into rollups) with the shipped "
            f"example mapping, `tsvault import postgres --url`: {pg['seconds']:.1f} s, "
            f"{pg['rows'] / pg['seconds']:,.0f} rows/s, {pg['samples'] / pg['seconds']:,.0f} samples/s; the server "
            f"used {pg['server_cpu']:.1f} CPU-s.",
            "",
        ]
    return "\n".join(lines)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--series", type=int, default=1000)
    p.add_argument("--points", type=int, default=10000)
    p.add_argument("--pg-rows", type=int, default=200000, help="about this many PostgreSQL rows")
    p.add_argument("--pg-days", type=int, default=365)
    p.add_argument("--smoke", action="store_true", help="tiny data, no RESULTS.md write")
    p.add_argument("--write-results", action="store_true")
    p.add_argument("--results-file", default=os.path.join(REPO, "bench", "RESULTS.md"))
    p.add_argument("--tsvault-binary", default=os.path.join(REPO, "build", "tools", "tsvault"))
    p.add_argument("--vm-binary", default=shutil.which("victoria-metrics") or "/usr/bin/victoria-metrics")
    args = p.parse_args(argv)
    if args.smoke:
        args.series, args.points, args.pg_rows, args.pg_days = 50, 200, 2000, 60
    os.sched_setaffinity(0, {1} if os.cpu_count() > 1 else {0})
    tmp = tempfile.mkdtemp(prefix="bench-csv-", dir="/tmp")
    rows = args.series * args.points
    end_ms = (int(time.time()) // 60 * 60 - 3600) * 1000
    csv_path = os.path.join(tmp, "data.csv")
    log(f"writing {rows:,} rows")
    start_ms = write_csv(csv_path, args.series, args.points, end_ms)
    results = {}
    try:
        for server, flush in ((Tsvault(args.tsvault_binary, os.path.join(tmp, "tsvault"),
                                       os.path.join(tmp, "tsvault.log"), ["--storage.wal-sync=none"]), None),
                              (VictoriaMetrics(args.vm_binary, os.path.join(tmp, "vm"), os.path.join(tmp, "vm.log"),
                                               ["-search.maxExportDuration=100h", "-search.maxExportSeries=100000000"]),
                               "/internal/force_flush")):
            try:
                server.start()
                log(f"{server.name}: import")
                imported = import_csv(server, csv_path, rows, flush)
                log(f"{server.name}: export")
                exported = export_csv(server, start_ms, end_ms)
                log(f"{server.name}: export again (memory once warm)")
                exported["rss_peak_again"] = export_csv(server, start_ms, end_ms)["rss_peak"]
                results[server.name] = {"import": imported, "export": exported}
            finally:
                server.kill()
        pg = postgres_phase(args, tmp, args.tsvault_binary)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    text = markdown(args, rows, results, pg)
    print(text)
    for name, phases in results.items():
        if phases["export"]["rows"] != rows:
            log(f"{name} exported {phases['export']['rows']:,} rows, not {rows:,}")
            return 1
    if args.write_results and not args.smoke:
        report.replace_section(args.results_file, text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
