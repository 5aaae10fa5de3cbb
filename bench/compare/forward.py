#!/usr/bin/env python3
"""Forwarding cost and catch-up (issue 11), measured side by side.

The same seed-workload backfill goes to:
  1. tsvault with no forward target,
  2. tsvault forwarding to one VictoriaMetrics,
  3. tsvault forwarding to two targets,
  4. vmagent 1.79 relaying to VictoriaMetrics with its persistent queue (the anchor);
and once more to tsvault with its target down, which is then started: the
queue drains at the catch-up rate. Reported per sample: CPU of the relaying
process (tsvault or vmagent) until everything was delivered, disk per queued
sample. Python 3 standard library only; see bench/compare/README.md.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import report  # noqa: E402
import servers  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def log(message):
    print(f"[bench-forward {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class VmAgent(servers.Server):
    name = "vmagent"
    ready_path = "/health"

    def __init__(self, binary, data_dir, log_path, remote_write_url):
        super().__init__(binary, data_dir, log_path)
        self.remote_write_url = remote_write_url

    def command(self):
        return [self.binary, f"-remoteWrite.url={self.remote_write_url}", f"-remoteWrite.tmpDataPath={self.data_dir}",
                f"-httpListenAddr=127.0.0.1:{self.port}", "-loggerLevel=ERROR"]

    def pending_bytes(self):
        with urllib.request.urlopen(self.base_url + "/metrics", timeout=10) as response:
            text = response.read().decode()
        total = 0.0
        for line in text.splitlines():
            if line.startswith("vmagent_remotewrite_pending_data_bytes"):
                total += float(line.split()[-1])
        return total


def forward_status(tsv):
    return servers.http_get_json(tsv.base_url + "/api/v1/status/forward")["data"]


def wait_delivered(tsv, limit=1800):
    """Waits until every target has nothing pending; returns seconds waited."""
    began = time.monotonic()
    while time.monotonic() - began < limit:
        targets = forward_status(tsv)["targets"]
        if all(t["pendingRecords"] == 0 for t in targets):
            return time.monotonic() - began
        time.sleep(0.2)
    raise RuntimeError("forward targets did not catch up")


def loadgen(args, tmp, url, tag):
    command = [args.tsvault_binary, "loadgen", "--url", url, "--protocol", "v1", "--backfill",
               "--from", str(int(args.start)), "--to", str(int(args.end)), "--interval", args.interval,
               "--scale", f"{args.scale:g}", "--seed", "1", "--concurrency", "4", "--batch", "2000"]
    with open(os.path.join(tmp, f"loadgen-{tag}.log"), "wb") as err:
        done = subprocess.run(command, stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL, check=True)
    return json.loads(done.stdout.decode().strip().splitlines()[-1])


def tsvault_phase(args, tmp, tag, targets):
    """Backfill into tsvault forwarding to `targets` (URLs); CPU until all is delivered."""
    config = os.path.join(tmp, f"forward-{tag}.yml")
    with open(config, "w") as f:
        f.write("remote_write:\n")
        for i, url in enumerate(targets):
            f.write(f"  - url: {url}\n    name: target{i}\n    queue_config: {{max_samples_per_send: 2000}}\n")
    flags = [f"--forward.config-file={config}"] if targets else []
    tsv = servers.Tsvault(args.tsvault_binary, os.path.join(tmp, f"tsvault-{tag}"),
                          os.path.join(tmp, f"tsvault-{tag}.log"), flags + ["--storage.wal-sync=none"])
    tsv.start()
    cpu_before = servers.cpu_seconds(tsv.pid)
    began = time.monotonic()
    summary = loadgen(args, tmp, tsv.write_url, tag)
    if targets:
        wait_delivered(tsv)
    wall = time.monotonic() - began
    cpu = servers.cpu_seconds(tsv.pid) - cpu_before
    tsv.stop()
    samples = summary["samples_acknowledged"]
    log(f"{tag}: {samples:,} samples, {cpu:.1f} s CPU, {wall:.1f} s until delivered")
    return {"samples": samples, "cpu": cpu, "wall": wall}


def vmagent_phase(args, tmp, vm):
    agent = VmAgent(args.vmagent_binary, os.path.join(tmp, "vmagent"), os.path.join(tmp, "vmagent.log"),
                    vm.write_url)
    agent.start()
    cpu_before = servers.cpu_seconds(agent.pid)
    began = time.monotonic()
    summary = loadgen(args, tmp, agent.base_url + "/api/v1/write", "vmagent")
    while agent.pending_bytes() > 0 and time.monotonic() - began < 1800:
        time.sleep(0.2)
    time.sleep(1)  # its queue flushes every second
    wall = time.monotonic() - began
    cpu = servers.cpu_seconds(agent.pid) - cpu_before
    agent.stop()
    samples = summary["samples_acknowledged"]
    log(f"vmagent: {samples:,} samples, {cpu:.1f} s CPU, {wall:.1f} s until delivered")
    return {"samples": samples, "cpu": cpu, "wall": wall}


def catch_up_phase(args, tmp):
    """tsvault forwards to a VictoriaMetrics that is down during the backfill, then comes up."""
    vm = servers.VictoriaMetrics(args.vm_binary, os.path.join(tmp, "vm-late"), os.path.join(tmp, "vm-late.log"))
    config = os.path.join(tmp, "forward-late.yml")
    with open(config, "w") as f:
        f.write(f"remote_write:\n  - url: {vm.write_url}\n    name: late\n"
                "    queue_config: {max_samples_per_send: 2000, max_backoff: 1s}\n")
    tsv = servers.Tsvault(args.tsvault_binary, os.path.join(tmp, "tsvault-late"), os.path.join(tmp, "tsvault-late.log"),
                          [f"--forward.config-file={config}", "--storage.wal-sync=none",
                           "--storage.checkpoint-interval=5s"])
    tsv.start()
    summary = loadgen(args, tmp, tsv.write_url, "late")
    time.sleep(7)  # a checkpoint: the queue is what the log keeps for the target
    queued = forward_status(tsv)["queueBytes"]
    vm.start()
    waited = wait_delivered(tsv)
    tsv.stop()
    vm.stop()
    samples = summary["samples_acknowledged"]
    log(f"catch-up: {samples:,} samples queued in {queued:,} bytes, delivered in {waited:.1f} s")
    return {"samples": samples, "queued_bytes": queued, "seconds": waited}


def markdown(args, none, one, two, agent, late):
    def per_sample(phase):
        return phase["cpu"] / phase["samples"] * 1e9

    base = per_sample(none)
    rows = [
        ("tsvault, no target", per_sample(none), "-"),
        ("tsvault, 1 target", per_sample(one), f"+{(per_sample(one) - base) / base * 100:.0f}%"),
        ("tsvault, 2 targets", per_sample(two), f"+{(per_sample(two) - base) / base * 100:.0f}% "
                                                 f"(+{(per_sample(two) - base) / base * 50:.0f}% per target)"),
        ("vmagent 1.79 relaying to VictoriaMetrics", per_sample(agent), "anchor"),
    ]
    lines = [
        "## Forwarding: cost per sample and catch-up (issue 11)",
        "",
        f"Command: `make bench-forward` ({time.strftime('%Y-%m-%d')}), seed workload scale {args.scale:g}, "
        f"{(args.end - args.start) / 3600:g} h at {args.interval}, {none['samples']:,} samples per phase, "
        "targets are VictoriaMetrics 1.79 on this machine. CPU is the relaying process's (tsvault or vmagent) "
        "from the start of the backfill until every target has it.",
        "",
        "| relay | CPU ns per sample | overhead |",
        "|---|---|---|",
    ]
    lines += [f"| {name} | {value:,.0f} | {note} |" for name, value, note in rows]
    per_target = (per_sample(two) - base) / 2 / base * 100
    lines += [
        "",
        f"The goal of at most 25% more CPU per target is {'met' if per_target <= 25 else 'missed'} "
        f"({per_target:.0f}% per target). Each target reads and decodes the write log itself, resolves and "
        "relabels its series, and encodes and compresses its requests; the baseline here is cheap "
        "(`--storage.wal-sync=none`, the seed workload's short label sets).",
        "",
        f"tsvault with one target forwards ingest and forwarding together at "
        f"{per_sample(one) / per_sample(agent):.2f}x vmagent's CPU per sample for the relay alone.",
        "",
        f"Catch-up: with the target down during the backfill, {late['samples']:,} samples waited in "
        f"{late['queued_bytes'] / 2**20:.1f} MiB of write log ({late['queued_bytes'] / late['samples']:.1f} bytes "
        f"per sample); once the target came up they were delivered in {late['seconds']:.1f} s "
        f"({late['samples'] / max(late['seconds'], 1e-9):,.0f} samples/s).",
        "",
    ]
    return "\n".join(lines)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scale", type=float, default=2)
    p.add_argument("--hours", type=float, default=1)
    p.add_argument("--interval", default="15s")
    p.add_argument("--smoke", action="store_true", help="tiny data, no RESULTS.md write")
    p.add_argument("--write-results", action="store_true")
    p.add_argument("--results-file", default=os.path.join(REPO, "bench", "RESULTS.md"))
    p.add_argument("--tsvault-binary", default=os.path.join(REPO, "build", "tools", "tsvault"))
    p.add_argument("--vm-binary", default=shutil.which("victoria-metrics") or "/usr/bin/victoria-metrics")
    p.add_argument("--vmagent-binary", default=shutil.which("vmagent") or "/usr/bin/vmagent")
    args = p.parse_args(argv)
    if args.smoke:
        args.scale, args.hours = 0.05, 0.25
    args.end = int(time.time()) // 60 * 60
    args.start = args.end - int(args.hours * 3600)
    tmp = tempfile.mkdtemp(prefix="bench-forward-", dir="/tmp")
    vm = servers.VictoriaMetrics(args.vm_binary, os.path.join(tmp, "vm"), os.path.join(tmp, "vm.log"))
    try:
        vm.start()
        none = tsvault_phase(args, tmp, "none", [])
        one = tsvault_phase(args, tmp, "one", [vm.write_url])
        two = tsvault_phase(args, tmp, "two", [vm.write_url, vm.write_url])
        agent = vmagent_phase(args, tmp, vm)
        late = catch_up_phase(args, tmp)
    finally:
        vm.kill()
    text = markdown(args, none, one, two, agent, late)
    print(text)
    if args.write_results and not args.smoke:
        report.replace_section(args.results_file, text)
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
