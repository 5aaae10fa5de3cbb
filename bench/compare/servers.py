"""Starting, watching and stopping the two servers under comparison.

Everything a figure needs from the operating system comes from /proc of the
server process: CPU time (utime + stime from /proc/<pid>/stat) and memory
(VmRSS and VmHWM from /proc/<pid>/status). Disk usage is the sum of file
sizes under a directory.
"""

import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port():
    """Returns a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_seconds(pid):
    """User + system CPU seconds the process has used so far."""
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    # The command name may contain spaces; fields resume after its ')'.
    fields = text[text.rindex(")") + 2:].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / CLOCK_TICKS


def memory_bytes(pid):
    """(VmRSS, VmHWM) of the process in bytes."""
    values = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) * 1024
    return values.get("VmRSS", 0), values.get("VmHWM", 0)


def directory_bytes(path, exclude=lambda name: False, skip_dirs=()):
    """Sum of the sizes of regular files under `path` (each inode once).

    `exclude(name)` drops files by base name; `skip_dirs` are directory base
    names not descended into.
    """
    total, seen = 0, set()
    for root, dirs, files in os.walk(path):
        dirs[:] = [d for d in dirs if d not in skip_dirs]
        for name in files:
            if exclude(name):
                continue
            st = os.lstat(os.path.join(root, name))
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            total += st.st_size
    return total


def block_samples(path):
    """Sum of stats.numSamples over the Prometheus blocks (meta.json) directly under `path`."""
    samples = 0
    for block in os.listdir(path):
        meta = os.path.join(path, block, "meta.json")
        if os.path.exists(meta):
            with open(meta) as f:
                samples += json.load(f).get("stats", {}).get("numSamples", 0)
    return samples


def settle(pid, limit):
    """Waits until the process uses < 5% of a core over 1 s (at least 2 s, at most `limit`). Returns seconds waited."""
    began = time.monotonic()
    last = cpu_seconds(pid)
    while True:
        time.sleep(1)
        now = cpu_seconds(pid)
        waited = time.monotonic() - began
        if (now - last < 0.05 and waited >= 2) or waited >= limit:
            return waited
        last = now


class RssSampler:
    """Samples VmRSS of a process every `period` seconds in a thread."""

    def __init__(self, pid, period=0.2):
        self.pid, self.period = pid, period
        self.max_rss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            try:
                self.max_rss = max(self.max_rss, memory_bytes(self.pid)[0])
            except OSError:
                return
            self._stop.wait(self.period)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def http_get_json(url, timeout=600):
    """GETs `url` and decodes the JSON body (also for 4xx/5xx answers)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        body = error.read()
        try:
            return json.loads(body)
        except ValueError:
            return {"status": "error", "error": f"HTTP {error.code}: {body[:200]!r}"}


def http_post(url, timeout=600):
    """POSTs an empty form to `url`; returns the decoded JSON answer."""
    request = urllib.request.Request(url, data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def create_blocks(promtool, openmetrics, out_dir):
    """`promtool tsdb create-blocks-from openmetrics` (31-day blocks at most)
    into `out_dir`; returns its wall seconds. Raises on failure."""
    os.makedirs(out_dir, exist_ok=True)
    began = time.monotonic()
    done = subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=744h",
                           openmetrics, out_dir], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        raise RuntimeError(f"promtool create-blocks-from failed: {done.stdout.decode()[-500:]}")
    return time.monotonic() - began


class Server:
    """One server process with its own data directory and port."""

    name = "server"
    ready_path = "/-/ready"  # answers 200 once the server is ready

    def __init__(self, binary, data_dir, log_path):
        self.binary, self.data_dir, self.log_path = binary, data_dir, log_path
        self.port = free_port()
        self.process = None

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def write_url(self):
        return self.base_url + "/api/v1/write"

    @property
    def pid(self):
        return self.process.pid

    def command(self):
        raise NotImplementedError

    def start(self, timeout=60):
        """Starts the process and waits until its ready_path answers 200."""
        os.makedirs(self.data_dir, exist_ok=True)
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(self.command(), stdout=self._log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(self.base_url + self.ready_path, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready after {timeout}s; see {self.log_path}")

    def stop(self, timeout=120):
        """SIGTERM, wait for a clean exit (SIGKILL after `timeout`). Returns the exit code."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self._log.close()
        return code

    def kill(self):
        """Last-resort cleanup: SIGTERM, then SIGKILL after 10 s."""
        if self.process is not None and self.process.poll() is None:
            self.stop(timeout=10)

    def query(self, path, params):
        return http_get_json(self.base_url + path + "?" + urllib.parse.urlencode(params))

    def head_series(self):
        """headStats.numSeries from /api/v1/status/tsdb, or None."""
        answer = self.query("/api/v1/status/tsdb", {})
        try:
            return int(answer["data"]["headStats"]["numSeries"])
        except (KeyError, TypeError, ValueError):
            return None

    def version(self):
        answer = self.query("/api/v1/status/buildinfo", {})
        data = answer.get("data") or {}
        return f"{data.get('version', '?')} ({data.get('revision', '?')})"


def _rocksdb_housekeeping(name):
    """RocksDB's own log, options and lock files: not data."""
    return name.startswith("LOG") or name.startswith("OPTIONS-") or name == "LOCK"


class Tsvault(Server):
    name = "tsvault"

    def __init__(self, binary, data_dir, log_path, extra_flags=(), keep_raw=True):
        super().__init__(binary, data_dir, log_path)
        self.extra_flags = list(extra_flags)
        self.keep_raw = keep_raw

    def command(self):
        # Benchmarks backfill data older than the default raw retention
        # (30d); keep everything, as Prometheus is told to (retention 10y),
        # unless the default retention is what is measured (keep_raw=False).
        # Series lists are compared whole with Prometheus, which sets no
        # bound on them: --api.max-results=0.
        return ([self.binary, "serve", f"--storage.path={self.data_dir}",
                 f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn", "--api.max-results=0"] +
                (["--retention.resolution-raw=0"] if self.keep_raw else []) + self.extra_flags)

    def disk_bytes(self):
        """Data directory size without RocksDB's LOG*, OPTIONS-* and LOCK files."""
        return directory_bytes(self.data_dir, exclude=_rocksdb_housekeeping)

    def compact(self):
        """Runs `tsvault compact` on the (stopped) data directory; returns its wall seconds."""
        began = time.monotonic()
        with open(self.log_path, "ab") as log:
            subprocess.run([self.binary, "compact", f"--storage.path={self.data_dir}", "--retention.resolution-raw=0"],
                           stdout=log,
                           stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, check=True)
        return time.monotonic() - began


class VictoriaMetrics(Server):
    name = "VictoriaMetrics"
    ready_path = "/health"

    def __init__(self, binary, data_dir, log_path, extra_flags=()):
        super().__init__(binary, data_dir, log_path)
        self.extra_flags = list(extra_flags)

    def command(self):
        return [self.binary, f"-storageDataPath={self.data_dir}", f"-httpListenAddr=127.0.0.1:{self.port}",
                "-retentionPeriod=100y", "-loggerLevel=ERROR"] + self.extra_flags

    def version(self):
        """vm_app_version's short_version, else the Debian package's version (Debian's build leaves the
        binary's version empty)."""
        for key in self.metrics():
            if key.startswith("vm_app_version{"):
                short = key.partition('short_version="')[2].partition('"')[0]
                if short:
                    return short
        try:
            done = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "victoria-metrics"], stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, timeout=30)
            if done.returncode == 0 and done.stdout:
                return done.stdout.decode().strip() + " (Debian package)"
        except (OSError, subprocess.TimeoutExpired):
            pass
        return "?"

    def metrics(self):
        """Every sample of /metrics as {'name{labels}': value}."""
        with urllib.request.urlopen(self.base_url + "/metrics", timeout=60) as response:
            text = response.read().decode()
        out = {}
        for line in text.splitlines():
            if not line or line.startswith("#"):
                continue
            key, _, value = line.rpartition(" ")
            try:
                out[key] = float(value)
            except ValueError:
                pass
        return out

    def head_series(self):
        """totalSeries of /api/v1/status/tsdb (series with samples today, UTC), or None."""
        answer = self.query("/api/v1/status/tsdb", {})
        try:
            return int(answer["data"]["totalSeries"])
        except (KeyError, TypeError, ValueError):
            return None

    def stored_rows(self):
        """Samples in the storage parts (vm_rows of storage/small and storage/big)."""
        m = self.metrics()
        return int(m.get('vm_rows{type="storage/small"}', 0) + m.get('vm_rows{type="storage/big"}', 0))

    def parts(self):
        m = self.metrics()
        return int(m.get('vm_parts{type="storage/small"}', 0) + m.get('vm_parts{type="storage/big"}', 0))

    def force_flush(self):
        """/internal/force_flush: pending samples (kept in memory for about a second) go to parts on disk."""
        with urllib.request.urlopen(self.base_url + "/internal/force_flush", timeout=600) as response:
            response.read()

    def force_merge(self, timeout=1800):
        """/internal/force_merge, then waits until it is done: vm_active_force_merges back at 0 (after it
        was seen above 0, or after 2 s) and no merge running. Returns the wall seconds."""
        began = time.monotonic()
        with urllib.request.urlopen(self.base_url + "/internal/force_merge", timeout=600) as response:
            response.read()
        seen = False
        while time.monotonic() - began < timeout:
            m = self.metrics()
            active = m.get("vm_active_force_merges", 0)
            merging = sum(v for k, v in m.items() if k.startswith("vm_active_merges{") and "storage/" in k)
            seen = seen or active > 0
            if active == 0 and merging == 0 and (seen or time.monotonic() - began >= 2):
                return time.monotonic() - began
            time.sleep(0.2)
        raise RuntimeError(f"VictoriaMetrics: force merge not done after {timeout} s")

    def disk_bytes(self):
        """The data directory (data parts, indexdb, metadata) without snapshots, the caches saved at
        shutdown and the lock file."""
        return directory_bytes(self.data_dir, exclude=lambda name: name == "flock.lock",
                               skip_dirs=("snapshots", "cache"))


class Prometheus(Server):
    name = "Prometheus"

    def __init__(self, binary, data_dir, log_path, config_path):
        super().__init__(binary, data_dir, log_path)
        self.config_path = config_path
        with open(config_path, "w") as f:
            f.write("global:\n  scrape_interval: 15s\nscrape_configs: []\n")

    def command(self):
        return [self.binary, f"--config.file={self.config_path}", f"--storage.tsdb.path={self.data_dir}",
                f"--web.listen-address=127.0.0.1:{self.port}", "--web.enable-remote-write-receiver",
                "--web.enable-admin-api", "--storage.tsdb.retention.time=10y", "--log.level=warn"]

    def version(self):
        answer = self.query("/api/v1/status/buildinfo", {})
        return (answer.get("data") or {}).get("version", "?")

    def snapshot(self):
        """Writes a snapshot including the head (as a persistent block).

        Returns (snapshot directory, total samples in its blocks' meta.json).
        """
        answer = http_post(self.base_url + "/api/v1/admin/tsdb/snapshot?skip_head=false")
        path = os.path.join(self.data_dir, "snapshots", answer["data"]["name"])
        return path, block_samples(path)

    def raw_disk_bytes(self):
        """The data directory as Prometheus left it (WAL, chunks_head, blocks), without snapshots."""
        return directory_bytes(self.data_dir, skip_dirs=("snapshots",))
