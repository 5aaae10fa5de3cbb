#!/usr/bin/env python3
"""Checks the Grafana kit (contrib/grafana/) against a real tsvault.

What it does, in order:

1. Parses the two provisioning files (with a small YAML reader for the
   subset they use: Python's standard library has none, and PyYAML is not
   assumed) and every dashboard JSON, and checks their structure: the data
   source and its settings, unique uids and panel ids, panel types, every
   panel and variable naming the provisioned data source.
2. Starts VictoriaMetrics (a forward target, so tsvault's forwarding metrics
   exist), tsvault (forwarding Prometheus' self-scrape to it) and a real
   Prometheus 2.42 that scrapes tsvault's /metrics every second and
   remote-writes into tsvault: the data of the tsvault dashboard.
3. Fills tsvault with `tsvault loadgen`: the trend families (re-engagement,
   courses) and app_errors_total from 50 hours ago at a 5-minute interval,
   so the 1d-step trend panels have whole UTC days, then every seed family
   over the last 3 hours at 15 s. Scale 1: below 1 loadgen drops whole
   families (pg_up, redis_up, node_load1, ... vanish at 0.05).
4. For every dashboard, as Grafana would: resolves the template variables
   (label_values() through /api/v1/label/<name>/values, custom, constant,
   interval ...; default = the saved `current`, else the first option, which
   is All for includeAll variables), expands them in each target's expr with
   the Prometheus data source's escaping, expands $__interval, $__rate_interval,
   $__range and friends as Grafana's backend does, picks the step and aligns
   start and end to it, and runs the query (POST /api/v1/query_range, or
   /api/v1/query for instant targets) with the data source's custom query
   parameters. Each must answer "success" with at least one series holding a
   value that is not NaN, and the real Prometheus 2.42 must accept the same
   expanded expression (/api/v1/format_query). Trend panels (a minimum
   interval of whole days) must be answered from rollups, not raw samples
   (tsvault's X-Tsvault-Resolutions header).
5. Prints one line per query and a summary; exits 1 if anything failed.

Run: python3 tests/integration/grafana_kit_test.py [--tsvault-binary build/tools/tsvault]
Only the Python standard library is used.
"""

import argparse
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KIT = os.path.join(REPO, "contrib", "grafana")  # --kit-dir replaces it

PANEL_TYPES = {"timeseries", "stat", "table", "bargauge"}  # panels that query
LAYOUT_TYPES = {"row", "text"}  # panels without queries
SELF_DASHBOARD_UID = "tsvault-self"  # checked last: its data comes from Prometheus' scrape
MIN_SELF_SCRAPES = 15  # seconds of 1 s scrapes the self-monitoring data must hold

# Data plan (see the docstring). Trend families get a long, coarse history.
TREND_FILTER = "reengagement_.*|courses_.*|app_errors_total"
TREND_HISTORY_S = 50 * 3600
RECENT_S = 3 * 3600

STARTED = time.monotonic()


def log(message):
    print(f"[{time.monotonic() - STARTED:6.1f}s] {message}", flush=True)


# ----------------------------------------------------------------------------
# A small YAML reader: block mappings and sequences, plain and quoted scalars,
# comments. Enough for Grafana provisioning files; anything else is an error.


def _strip_comment(line):
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i]
    return line


def _scalar(text):
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return json.loads(text)
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("''", "'")
    if text.startswith("[") and text.endswith("]"):
        inner = text[1:-1].strip()
        return [_scalar(part) for part in inner.split(",")] if inner else []
    if text.startswith("{") or text.startswith("&") or text.startswith("*") or text.startswith("|") \
            or text.startswith(">"):
        raise ValueError(f"YAML construct not supported by this reader: {text!r}")
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("null", "~", ""):
        return None
    if re.fullmatch(r"[-+]?\d+", text):
        return int(text)
    if re.fullmatch(r"[-+]?(\d+\.\d*|\.\d+)([eE][-+]?\d+)?", text):
        return float(text)
    return text


def _split_key(text):
    """'key: value' -> (key, value or ''); None when the text is no mapping entry."""
    quote = None
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == ":" and (i + 1 == len(text) or text[i + 1] == " "):
            key = text[:i].strip()
            if len(key) >= 2 and key[0] == key[-1] and key[0] in "'\"":
                key = key[1:-1]
            return key, text[i + 1:].strip()
    return None


def parse_yaml(text):
    lines = []
    for number, raw in enumerate(text.splitlines(), 1):
        if raw.strip() in ("---", "..."):
            continue
        content = _strip_comment(raw).rstrip()
        if not content.strip():
            continue
        indent = len(content) - len(content.lstrip(" "))
        if content[indent:indent + 1] == "\t":
            raise ValueError(f"line {number}: tab in indentation")
        lines.append([indent, content.strip(), number])
    if not lines:
        return None
    value, i = _yaml_block(lines, 0, lines[0][0])
    if i != len(lines):
        raise ValueError(f"line {lines[i][2]}: unexpected indentation")
    return value


def _is_item(content):
    return content == "-" or content.startswith("- ")


def _yaml_block(lines, i, indent):
    if _is_item(lines[i][1]):
        items = []
        while i < len(lines) and lines[i][0] == indent and _is_item(lines[i][1]):
            rest = lines[i][1][1:].strip()
            if not rest:
                if i + 1 < len(lines) and lines[i + 1][0] > indent:
                    value, i = _yaml_block(lines, i + 1, lines[i + 1][0])
                else:
                    value, i = None, i + 1
            elif _split_key(rest) is not None or _is_item(rest):
                # "- key: value" opens a mapping indented at the key ("- - x" a sequence).
                lines[i][0] = indent + (len(lines[i][1]) - len(rest))
                lines[i][1] = rest
                value, i = _yaml_block(lines, i, lines[i][0])
            else:
                value, i = _scalar(rest), i + 1
            items.append(value)
        return items, i
    return _yaml_mapping(lines, i, indent)


def _yaml_mapping(lines, i, indent):
    mapping = {}
    while i < len(lines) and lines[i][0] == indent and not _is_item(lines[i][1]):
        entry = _split_key(lines[i][1])
        if entry is None:
            raise ValueError(f"line {lines[i][2]}: expected 'key: value', got {lines[i][1]!r}")
        key, rest = entry
        if key in mapping:
            raise ValueError(f"line {lines[i][2]}: duplicate key {key!r}")
        i += 1
        if rest:
            mapping[key] = _scalar(rest)
        elif i < len(lines) and (lines[i][0] > indent or (lines[i][0] == indent and _is_item(lines[i][1]))):
            mapping[key], i = _yaml_block(lines, i, lines[i][0])
        else:
            mapping[key] = None
    if i < len(lines) and lines[i][0] > indent:
        raise ValueError(f"line {lines[i][2]}: unexpected indentation")
    return mapping, i


# ----------------------------------------------------------------------------
# Durations and Grafana's interval arithmetic.

UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000,
           "M": 30 * 86_400_000, "y": 365 * 86_400_000}


def parse_interval_ms(text):
    """'15s', '1d', '1h30m', '500ms' -> milliseconds."""
    text = str(text).strip()
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|M|y)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"bad interval {text!r}")
    return int(sum(float(n) * UNIT_MS[u] for n, u in parts))


# Grafana's roundInterval (@grafana/data rangeutil, and intervalv2 in its
# backend): a computed interval snaps to the next "nice" value below these
# limits. Pairs of (limit, result), in ms.
ROUND_TABLE = [(15, 10), (35, 20), (75, 50), (150, 100), (350, 200), (750, 500), (1500, 1000),
               (3500, 2000), (7500, 5000), (12500, 10000), (17500, 15000), (25000, 20000), (45000, 30000),
               (90000, 60000), (210000, 120000), (450000, 300000), (750000, 600000), (1050000, 900000),
               (1500000, 1200000), (2700000, 1800000), (5400000, 3600000), (9000000, 7200000),
               (16200000, 10800000), (32400000, 21600000), (86400000, 43200000), (604800000, 86400000),
               (1814400000, 604800000), (3628800000, 2592000000)]


def round_interval(ms):
    for limit, result in ROUND_TABLE:
        if ms < limit:
            return result
    return 31536000000


def format_interval(ms):
    """Grafana backend's FormatDuration: the largest whole unit (1d, 2h, 20s)."""
    for unit in ("y", "d", "h", "m", "s", "ms"):
        if ms >= UNIT_MS[unit]:
            return f"{ms // UNIT_MS[unit]}{unit}"
    return "1ms"


def go_duration(ms):
    """Go's time.Duration.String() for whole milliseconds: 1m0s, 1m15s, 96h0m0s, 35s."""
    if ms == 0:
        return "0s"
    if ms < 1000:
        return f"{ms}ms"
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds = rest / 1000
    sec = f"{seconds:.3f}".rstrip("0").rstrip(".") + "s"
    if hours:
        return f"{hours}h{minutes}m{sec}"
    if minutes:
        return f"{minutes}m{sec}"
    return sec


def parse_relative_time(text, now_s):
    """Grafana's 'now', 'now-6h', 'now-90d', 'now/d', 'now-1d/d' -> Unix seconds (UTC)."""
    m = re.fullmatch(r"now(?:-(\d+)(s|m|h|d|w|M|y))?(?:/(s|m|h|d|w|M|y))?", str(text).strip())
    if not m:
        raise ValueError(f"unsupported time {text!r}")
    t = now_s
    if m.group(1):
        t -= int(m.group(1)) * UNIT_MS[m.group(2)] / 1000
    if m.group(3):
        unit_s = UNIT_MS[m.group(3)] / 1000
        t = math.floor(t / unit_s) * unit_s
    return t


# ----------------------------------------------------------------------------
# Template variables, as Grafana's template service and Prometheus data source
# format them.


def prometheus_regular_escape(value):
    return value.replace("\\", "\\\\").replace("'", "\\\\'")


def prometheus_special_regex_escape(value):
    value = value.replace("\\", "\\\\\\\\")
    return re.sub(r"[$^*{}\[\]'+?.()|]", lambda m: "\\\\" + m.group(0), value)


def regex_escape(value):
    return re.sub(r"[\\^$*+?.()|\[\]{}/]", lambda m: "\\" + m.group(0), value)


class Variable:
    def __init__(self, model):
        self.model = model
        self.name = model["name"]
        self.type = model.get("type", "query")
        self.multi = bool(model.get("multi"))
        self.include_all = bool(model.get("includeAll"))
        self.all_value = model.get("allValue") or None
        self.options = []  # [(text, value)]
        self.selected = []  # values; ["$__all"] for All
        self.source = ""  # how the options were found, for the report

    def is_all(self):
        return self.selected == ["$__all"]

    def values(self):
        if self.is_all():
            return [value for _, value in self.options]
        return list(self.selected)

    def text(self):
        if self.is_all():
            return "All"
        texts = {value: text for text, value in self.options}
        return ", ".join(texts.get(v, v) for v in self.selected)

    def format(self, fmt=None):
        """The replacement of $name (fmt None: the Prometheus data source's interpolateQueryExpr)."""
        if self.is_all() and self.all_value is not None and fmt not in ("text", "queryparam"):
            return self.all_value
        values = self.values()
        single = not self.multi and not self.include_all
        if fmt is None:
            if single:
                return prometheus_regular_escape(values[0] if values else "")
            escaped = [prometheus_special_regex_escape(v) for v in values]
            return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"
        if fmt == "raw":
            return ",".join(values)
        if fmt == "regex":
            escaped = [regex_escape(v) for v in values]
            return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"
        if fmt == "pipe":
            return "|".join(values)
        if fmt == "csv":
            return ",".join(values)
        if fmt == "text":
            return self.text()
        if fmt == "json":
            return json.dumps(values if len(values) != 1 else values[0])
        if fmt == "glob":
            return values[0] if len(values) == 1 else "{" + ",".join(values) + "}"
        if fmt == "doublequote":
            return ",".join('"' + v.replace('"', '\\"') + '"' for v in values)
        if fmt == "singlequote":
            return ",".join("'" + v.replace("'", "\\'") + "'" for v in values)
        if fmt == "sqlstring":
            return ",".join("'" + v.replace("'", "''") + "'" for v in values)
        if fmt == "percentencode":
            return urllib.parse.quote(",".join(values), safe="")
        if fmt == "queryparam":
            return "&".join(f"var-{self.name}={urllib.parse.quote(v, safe='')}" for v in values)
        raise ValueError(f"variable format {fmt!r} is not supported by this test")


VAR_PATTERN = re.compile(r"\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^}]+))?(?::([^}]+))?\}")


def interpolate(text, variables, errors=None):
    """Replaces $name, ${name}, ${name:fmt}, [[name]], [[name:fmt]] of dashboard variables.

    Names starting with "__" (Grafana's built-ins) and unknown names are left
    as they are, as Grafana leaves them."""

    def replace(m):
        name = m.group(1) or m.group(2) or m.group(4)
        fmt = m.group(3) or m.group(6)
        if name.startswith("__") or name not in variables:
            return m.group(0)
        try:
            return variables[name].format(fmt)
        except ValueError as error:
            if errors is not None:
                errors.append(str(error))
            return m.group(0)

    return VAR_PATTERN.sub(replace, text)


def builtins(interval_ms, rate_interval_ms, range_ms, from_s, to_s):
    range_s = int(round(range_ms / 1000))
    pairs = {
        "__interval_ms": str(interval_ms),
        "__interval": format_interval(interval_ms),
        "__rate_interval_ms": str(rate_interval_ms),
        "__rate_interval": go_duration(rate_interval_ms),
        "__range_ms": str(range_ms),
        "__range_s": str(range_s),
        "__range": f"{range_s}s",
        "__from": str(int(from_s * 1000)),
        "__to": str(int(to_s * 1000)),
    }
    return pairs


def expand_builtins(text, pairs):
    # Longest names first: $__interval_ms before $__interval, and so on.
    for name in sorted(pairs, key=len, reverse=True):
        text = text.replace("${" + name + "}", pairs[name]).replace("$" + name, pairs[name])
    return text


# ----------------------------------------------------------------------------
# HTTP.


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_request(url, form=None, timeout=120):
    """GET (form None) or POST a form; returns (status, headers, body bytes)."""
    data = None
    headers = {}
    if form is not None:
        data = urllib.parse.urlencode(form, doseq=True).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    request = urllib.request.Request(url, data=data, headers=headers, method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers or {}), error.read()


def api_json(url, form=None, timeout=120):
    status, headers, body = http_request(url, form, timeout)
    try:
        answer = json.loads(body)
    except ValueError:
        answer = {"status": "error", "error": f"HTTP {status}, not JSON: {body[:300]!r}"}
    return status, headers, answer


# ----------------------------------------------------------------------------
# Processes.


class Process:
    def __init__(self, name, argv, log_path, ready_url):
        self.name, self.argv, self.log_path, self.ready_url = name, argv, log_path, ready_url
        self.process = None
        self._log = None

    def start(self, timeout=60):
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(self.argv, stdout=self._log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode} at start:\n{self.log_tail()}")
            try:
                status, _, _ = http_request(self.ready_url, timeout=2)
                if status == 200:
                    log(f"{self.name} ready (pid {self.process.pid})")
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready after {timeout}s:\n{self.log_tail()}")

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout=30):
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log:
            self._log.close()
            self._log = None

    def log_tail(self, lines=20):
        try:
            with open(self.log_path, "rb") as f:
                return b"\n".join(f.read().splitlines()[-lines:]).decode(errors="replace")
        except OSError:
            return ""


# ----------------------------------------------------------------------------
# The kit's files.


def show(path):
    """A path relative to the repository when inside it."""
    rel = os.path.relpath(path, REPO)
    return path if rel.startswith("..") else rel


class Problems:
    def __init__(self):
        self.items = []

    def add(self, where, message):
        self.items.append(f"{where}: {message}")


def check_provisioning(kit, problems):
    """Returns (datasource uid, scrape interval ms, custom query parameters as [(k, v)])."""
    uid, scrape_ms, params = "tsvault", 15000, [("max_source_resolution", "auto")]
    datasource_file = os.path.join(kit, "provisioning", "datasources", "tsvault.yml")
    provider_file = os.path.join(kit, "provisioning", "dashboards", "tsvault.yml")
    name = show(datasource_file)
    try:
        with open(datasource_file) as f:
            doc = parse_yaml(f.read())
    except (OSError, ValueError) as error:
        problems.add(name, f"cannot read: {error}")
        return uid, scrape_ms, params
    if not isinstance(doc, dict) or doc.get("apiVersion") != 1:
        problems.add(name, "apiVersion must be 1")
    sources = doc.get("datasources") if isinstance(doc, dict) else None
    if not isinstance(sources, list) or len(sources) != 1 or not isinstance(sources[0], dict):
        problems.add(name, "expected exactly one entry under datasources")
        return uid, scrape_ms, params
    ds = sources[0]
    expect = {"type": "prometheus", "access": "proxy", "url": "http://localhost:9201"}
    for key, value in expect.items():
        if ds.get(key) != value:
            problems.add(name, f"{key} is {ds.get(key)!r}, expected {value!r}")
    if not ds.get("uid") or not ds.get("name"):
        problems.add(name, "name and uid are required")
    uid = ds.get("uid") or uid
    jd = ds.get("jsonData") or {}
    expect_json = {"httpMethod": "POST", "prometheusType": "Prometheus", "prometheusVersion": "2.42.0",
                   "timeInterval": "15s"}
    for key, value in expect_json.items():
        if str(jd.get(key)) != value:
            problems.add(name, f"jsonData.{key} is {jd.get(key)!r}, expected {value!r}")
    custom = str(jd.get("customQueryParameters") or "")
    params = urllib.parse.parse_qsl(custom, keep_blank_values=True)
    if ("max_source_resolution", "auto") not in params:
        problems.add(name, f"jsonData.customQueryParameters {custom!r} lacks max_source_resolution=auto")
    try:
        scrape_ms = parse_interval_ms(jd.get("timeInterval") or "15s")
    except ValueError as error:
        problems.add(name, str(error))

    name = show(provider_file)
    try:
        with open(provider_file) as f:
            doc = parse_yaml(f.read())
    except (OSError, ValueError) as error:
        problems.add(name, f"cannot read: {error}")
        return uid, scrape_ms, params
    providers = doc.get("providers") if isinstance(doc, dict) else None
    if not isinstance(doc, dict) or doc.get("apiVersion") != 1:
        problems.add(name, "apiVersion must be 1")
    if not isinstance(providers, list) or not providers:
        problems.add(name, "no providers")
    else:
        for provider in providers:
            if provider.get("type") != "file":
                problems.add(name, f"provider type is {provider.get('type')!r}, expected 'file'")
            path = (provider.get("options") or {}).get("path")
            if not path or not str(path).startswith("/"):
                problems.add(name, f"options.path must be an absolute folder, got {path!r}")
            if not provider.get("name"):
                problems.add(name, "a provider needs a name")
    return uid, scrape_ms, params


def query_panels(panels):
    """Panels that run queries, rows' nested panels included."""
    for panel in panels:
        if panel.get("type") == "row":
            yield from query_panels(panel.get("panels") or [])
        else:
            yield panel


def check_dashboard(path, doc, ds_uid, problems, seen_uids):
    name = show(path)
    for key in ("uid", "title", "panels", "templating", "time", "schemaVersion"):
        if key not in doc:
            problems.add(name, f"missing {key}")
    uid = doc.get("uid")
    if uid in seen_uids:
        problems.add(name, f"uid {uid!r} also used by {seen_uids[uid]}")
    seen_uids[uid] = name
    if not isinstance(doc.get("schemaVersion"), int) or doc["schemaVersion"] < 36:
        problems.add(name, f"schemaVersion {doc.get('schemaVersion')!r}: expected 36 or later")
    time_range = doc.get("time") or {}
    for key in ("from", "to"):
        try:
            parse_relative_time(time_range.get(key, ""), time.time())
        except ValueError as error:
            problems.add(name, f"time.{key}: {error}")
    ids = set()
    panels = list(query_panels(doc.get("panels") or []))
    queried = [p for p in panels if p.get("type") not in LAYOUT_TYPES]
    if not 4 <= len(queried) <= 12:
        problems.add(name, f"{len(queried)} panels; a focused dashboard has 4 to 12")
    for panel in panels:
        where = f"{name}: panel {panel.get('title')!r}"
        if panel.get("id") in ids:
            problems.add(where, f"duplicate panel id {panel.get('id')}")
        ids.add(panel.get("id"))
        grid = panel.get("gridPos") or {}
        if not all(isinstance(grid.get(k), int) for k in ("h", "w", "x", "y")) or grid.get("x", 0) + grid.get("w", 0) > 24:
            problems.add(where, f"bad gridPos {grid}")
        ptype = panel.get("type")
        if ptype in LAYOUT_TYPES:
            continue
        if ptype not in PANEL_TYPES:
            problems.add(where, f"panel type {ptype!r} not in {sorted(PANEL_TYPES)}")
        if not panel.get("title"):
            problems.add(where, "no title")
        if any(daily_panel(panel, target) for target in panel.get("targets") or []) \
                and doc.get("timezone") != "utc":
            problems.add(where, "a 1d-interval panel needs the dashboard in UTC (\"timezone\": \"utc\"): Grafana "
                                "aligns steps to the dashboard's midnight, and only UTC midnights are 1d rollup windows")
        pds = panel.get("datasource") or {}
        if pds.get("uid") != ds_uid or pds.get("type") != "prometheus":
            problems.add(where, f"datasource {pds} is not the provisioned one ({{'type': 'prometheus', 'uid': {ds_uid!r}}})")
        targets = panel.get("targets") or []
        if not targets:
            problems.add(where, "no targets")
        refs = set()
        for target in targets:
            if not target.get("expr", "").strip():
                problems.add(where, f"target {target.get('refId')} has no expr")
            if target.get("refId") in refs or not target.get("refId"):
                problems.add(where, f"missing or duplicate refId {target.get('refId')!r}")
            refs.add(target.get("refId"))
            tds = target.get("datasource") or pds
            if tds.get("uid") != ds_uid:
                problems.add(where, f"target {target.get('refId')} datasource {tds} is not {ds_uid!r}")
    names = set()
    for var in (doc.get("templating") or {}).get("list") or []:
        where = f"{name}: variable {var.get('name')!r}"
        if not var.get("name") or var.get("name") in names:
            problems.add(where, "missing or duplicate name")
        names.add(var.get("name"))
        if var.get("type", "query") == "query":
            vds = var.get("datasource") or {}
            if vds.get("uid") != ds_uid:
                problems.add(where, f"datasource {vds} is not {ds_uid!r}")


# ----------------------------------------------------------------------------
# Running one dashboard as Grafana would.


class Checker:
    def __init__(self, base_url, prometheus_url, ds_uid, scrape_ms, params, max_data_points, utc_offset_s=0):
        self.base_url = base_url
        self.prometheus_url = prometheus_url  # its parser checks every expression too
        self.ds_uid = ds_uid
        self.scrape_ms = scrape_ms
        self.params = params
        self.max_data_points = max_data_points
        self.utc_offset_s = utc_offset_s
        self.queries = 0
        self.failures = []
        self.no_data_explained = []
        self.lock = threading.Lock()

    # -- variables --

    def resolve_variables(self, doc, from_s, to_s, problems, dash_name):
        variables = {}
        for model in (doc.get("templating") or {}).get("list") or []:
            var = Variable(model)
            variables[var.name] = var
            where = f"{dash_name}: variable {var.name!r}"
            try:
                self._load_options(var, variables, from_s, to_s)
            except (RuntimeError, ValueError) as error:
                problems.add(where, str(error))
                continue
            self._select_default(var)
            if not var.options and var.type in ("query", "custom"):
                problems.add(where, f"no values ({var.source})")
            log(f"  ${var.name} = {var.text()} -> {var.format()}  [{var.source}; {len(var.options)} values]")
        return variables

    def _load_options(self, var, variables, from_s, to_s):
        m = var.model
        if var.type == "query":
            query = m.get("query")
            if isinstance(query, dict):
                query = query.get("query", "")
            query = interpolate(str(query or m.get("definition") or ""), variables)
            values = self._run_variable_query(query, from_s, to_s)
            var.source = query
            regex = m.get("regex") or ""
            if regex:
                values = self._apply_regex(regex, values)
            values = self._sort(values, m.get("sort", 0))
            var.options = [(v, v) for v in values]
        elif var.type == "custom":
            query = m.get("query", "")
            var.source = f"custom {query!r}"
            for item in re.findall(r"(?:\\,|[^,])+", query):
                item = item.strip().replace("\\,", ",")
                text, sep, value = item.partition(" : ")
                var.options.append((text, value) if sep else (item, item))
        elif var.type == "constant":
            var.source = "constant"
            var.options = [(m.get("query", ""), m.get("query", ""))]
        elif var.type == "textbox":
            var.source = "textbox"
            current = (m.get("current") or {}).get("value") or m.get("query", "")
            var.options = [(current, current)]
        elif var.type == "interval":
            var.source = f"interval {m.get('query', '')!r}"
            var.options = [(v.strip(), v.strip()) for v in str(m.get("query", "")).split(",") if v.strip()]
            if m.get("auto"):
                count = int(m.get("auto_count") or 30)
                low = parse_interval_ms(m.get("auto_min") or "10s")
                auto = format_interval(max(round_interval((to_s - from_s) * 1000 / count), low))
                var.options.insert(0, ("auto", auto))
        elif var.type == "datasource":
            var.source = "datasource"
            var.options = [(self.ds_uid, self.ds_uid)]
        else:
            raise ValueError(f"variable type {var.type!r} is not supported by this test")

    def _run_variable_query(self, query, from_s, to_s):
        window = {"start": f"{from_s:.3f}", "end": f"{to_s:.3f}"}
        m = re.fullmatch(r"\s*label_values\((?:(.+),\s*)?([a-zA-Z_$][a-zA-Z0-9_]*)\)\s*", query)
        if m:
            form = dict(window)
            if m.group(1):
                form["match[]"] = m.group(1).strip()
            url = f"{self.base_url}/api/v1/label/{urllib.parse.quote(m.group(2))}/values?" + urllib.parse.urlencode(form)
            return self._get_list(url, query)
        if re.fullmatch(r"\s*label_names\(\s*\)\s*", query):
            return self._get_list(f"{self.base_url}/api/v1/labels?" + urllib.parse.urlencode(window), query)
        m = re.fullmatch(r"\s*metrics\((.+)\)\s*", query)
        if m:
            names = self._get_list(f"{self.base_url}/api/v1/label/__name__/values?" + urllib.parse.urlencode(window), query)
            return [n for n in names if re.search(m.group(1).strip(), n)]
        m = re.fullmatch(r"\s*query_result\((.+)\)\s*", query, re.S)
        if m:
            status, _, answer = api_json(f"{self.base_url}/api/v1/query",
                                         [("query", m.group(1)), ("time", f"{to_s:.3f}")] + self.params)
            if answer.get("status") != "success":
                raise RuntimeError(f"{query}: {answer.get('error')}")
            lines = []
            for item in answer["data"]["result"]:
                metric = dict(item.get("metric", {}))
                name = metric.pop("__name__", "")
                labels = ", ".join(f'{k}="{v}"' for k, v in metric.items())
                value = item["value"]
                lines.append(f"{name}{{{labels}}} {value[1]} {int(float(value[0]) * 1000)}")
            return lines
        raise ValueError(f"variable query {query!r} is not supported by this test")

    def _get_list(self, url, query):
        status, _, answer = api_json(url)
        if answer.get("status") != "success":
            raise RuntimeError(f"{query}: HTTP {status}: {answer.get('error')}")
        return [str(v) for v in answer.get("data") or []]

    @staticmethod
    def _apply_regex(regex, values):
        m = re.fullmatch(r"/(.*)/([gimsuy]*)", regex)
        pattern = re.compile(m.group(1) if m else regex, re.I if m and "i" in m.group(2) else 0)
        out = []
        for v in values:
            found = pattern.search(v)
            if found:
                value = found.group(1) if found.groups() and found.group(1) is not None else v
                if value not in out:
                    out.append(value)
        return out

    @staticmethod
    def _sort(values, mode):
        def number(v):
            found = re.search(r"-?\d+(\.\d+)?", v)
            return float(found.group(0)) if found else float("-inf")
        if mode in (1, 2):
            return sorted(values, reverse=mode == 2)
        if mode in (3, 4):
            return sorted(values, key=number, reverse=mode == 4)
        if mode in (5, 6):
            return sorted(values, key=str.lower, reverse=mode == 6)
        return values

    @staticmethod
    def _select_default(var):
        current = var.model.get("current") or {}
        value = current.get("value")
        wanted = value if isinstance(value, list) else ([value] if value not in (None, "") else [])
        if wanted in (["$__all"], ["All"]) and var.include_all:
            var.selected = ["$__all"]
            return
        known = {v for _, v in var.options}
        valid = [v for v in wanted if v in known]
        if valid:
            var.selected = valid if var.multi else valid[:1]
        elif var.include_all:
            var.selected = ["$__all"]  # All is the first option Grafana offers
        elif var.options:
            var.selected = [var.options[0][1]]
        else:
            var.selected = []

    # -- panels --

    def panel_time(self, doc, panel, now_s):
        from_s = parse_relative_time(doc["time"]["from"], now_s)
        to_s = parse_relative_time(doc["time"]["to"], now_s)
        time_from = panel.get("timeFrom")
        if time_from:
            text = time_from if str(time_from).startswith("now") else f"now-{time_from}"
            from_s = parse_relative_time(text, now_s)
            to_s = now_s
        time_shift = panel.get("timeShift")
        if time_shift:
            shift = parse_interval_ms(str(time_shift)) / 1000
            from_s, to_s = from_s - shift, to_s - shift
        return from_s, to_s

    def plan(self, panel, target, from_s, to_s):
        """Grafana's interval, step and aligned query times for one target."""
        range_ms = int(round((to_s - from_s) * 1000))
        max_points = panel.get("maxDataPoints") or self.max_data_points
        low = self.scrape_ms
        if panel.get("interval") and not str(panel["interval"]).startswith("$"):
            low = parse_interval_ms(panel["interval"])
        interval_ms = max(round_interval(range_ms / max_points), low)  # the panel's $__interval
        min_step = interval_ms
        scrape_ms = self.scrape_ms
        target_interval = target.get("interval")
        if target_interval and not str(target_interval).startswith("$"):
            min_step = parse_interval_ms(target_interval)
            scrape_ms = min_step
        calculated = range_ms / max_points
        step_ms = min_step if calculated < min_step else round_interval(calculated)
        step_ms = max(step_ms, round_interval(range_ms / 11000))  # Grafana's safe resolution
        rate_ms = max(interval_ms + scrape_ms, 4 * scrape_ms)
        step_s = step_ms / 1000
        offset = self.utc_offset_s
        start = math.floor((from_s + offset) / step_s) * step_s - offset
        end = math.floor((to_s + offset) / step_s) * step_s - offset
        return {"interval_ms": interval_ms, "rate_ms": rate_ms, "range_ms": range_ms, "step_s": step_s,
                "start": start, "end": end}

    def run_target(self, dash_title, panel, target, variables, from_s, to_s):
        plan = self.plan(panel, target, from_s, to_s)
        errors = []
        expr = interpolate(target["expr"], variables, errors)
        expr = expand_builtins(expr, builtins(plan["interval_ms"], plan["rate_ms"], plan["range_ms"], from_s, to_s))
        # Whatever still looks like a variable was not expanded: a built-in this test (or Grafana)
        # does not know, or a name no variable of the dashboard has (Grafana would send it as is).
        leftover = [m.group(0) for m in VAR_PATTERN.finditer(expr)
                    if re.match(r"[A-Za-z_]", m.group(1) or m.group(2) or m.group(4) or "")]
        instant = bool(target.get("instant")) and not target.get("range")
        kinds = ["instant"] if instant else ["range"]
        if target.get("instant") and target.get("range"):
            kinds = ["range", "instant"]  # Grafana runs both
        results = []
        prometheus_verdict = None
        if not errors and not leftover:
            # Prometheus 2.42 itself must accept the expression as Grafana sends it.
            _, _, verdict = api_json(self.prometheus_url + "/api/v1/format_query", [("query", expr)])
            if verdict.get("status") != "success":
                prometheus_verdict = verdict
        for kind in kinds:
            began = time.monotonic()
            if errors or leftover:
                status, headers, answer = 0, {}, {"status": "error", "errorType": "variables",
                                                  "error": "; ".join(errors) or f"unknown variables {leftover}"}
            elif prometheus_verdict is not None:
                status, headers, answer = 0, {}, {
                    "status": "error", "errorType": "prometheus_2.42",
                    "error": f"Prometheus 2.42's /api/v1/format_query refuses it: {prometheus_verdict.get('error')}"}
            elif kind == "range":
                form = [("query", expr), ("start", f"{plan['start']:.3f}"), ("end", f"{plan['end']:.3f}"),
                        ("step", f"{plan['step_s']:g}")] + self.params
                status, headers, answer = api_json(self.base_url + "/api/v1/query_range", form)
            else:
                form = [("query", expr), ("time", f"{plan['end']:.3f}")] + self.params
                status, headers, answer = api_json(self.base_url + "/api/v1/query", form)
            elapsed = time.monotonic() - began
            ok, summary = judge(answer)
            resolutions = {k.lower(): v for k, v in headers.items()}.get("x-tsvault-resolutions", "?")
            if ok and daily_panel(panel, target) and "raw" in resolutions.split(","):
                # The point of 1d steps on UTC days: tsvault answers from 1d rollups, not every raw sample.
                ok = False
                summary += (f"; a 1d-step trend query read raw samples (X-Tsvault-Resolutions: {resolutions}):"
                            " keep its ranges in whole days and the dashboard in UTC")
            results.append({"kind": kind, "ok": ok, "summary": summary, "expr": expr, "answer": answer,
                            "status": status, "elapsed": elapsed, "plan": plan, "resolutions": resolutions,
                            "dashboard": dash_title, "panel": panel.get("title"), "refId": target.get("refId")})
        return results

    def check(self, path, doc, problems, now_s, pool):
        title = doc.get("title", os.path.basename(path))
        log(f"dashboard {title!r} ({os.path.basename(path)}), range {doc['time']['from']}..{doc['time']['to']}")
        from_s = parse_relative_time(doc["time"]["from"], now_s)
        to_s = parse_relative_time(doc["time"]["to"], now_s)
        variables = self.resolve_variables(doc, from_s, to_s, problems, os.path.basename(path))
        jobs = []
        panels = 0
        for panel in query_panels(doc.get("panels") or []):
            if panel.get("type") in LAYOUT_TYPES:
                continue
            panels += 1
            p_from, p_to = self.panel_time(doc, panel, now_s)
            for target in panel.get("targets") or []:
                if target.get("hide"):
                    # Grafana does not run hidden targets; say so rather than skip silently.
                    self.no_data_explained.append(f"{title} / {panel.get('title')} / {target.get('refId')}: hidden target, not run")
                    continue
                jobs.append(pool.submit(self.run_target, title, panel, target, variables, p_from, p_to))
        count = 0
        for job in jobs:
            for result in job.result():
                count += 1
                plan = result["plan"]
                mark = "ok  " if result["ok"] else "FAIL"
                log(f"  {mark} {result['panel']} [{result['refId']} {result['kind']}, step {plan['step_s']:g}s, "
                    f"{result['elapsed'] * 1000:.0f} ms, served by {result['resolutions']}]: {result['summary']}")
                if not result["ok"]:
                    self.failures.append(result)
        with self.lock:
            self.queries += count
        return panels, count


def daily_panel(panel, target):
    """True when the panel's or target's minimum interval is whole days (a trend panel)."""
    for value in (target.get("interval"), panel.get("interval")):
        if value and not str(value).startswith("$"):
            try:
                ms = parse_interval_ms(value)
            except ValueError:
                return False
            return ms >= UNIT_MS["d"] and ms % UNIT_MS["d"] == 0
    return False


def judge(answer):
    """(ok, summary): success with at least one series holding a non-NaN value."""
    if answer.get("status") != "success":
        return False, f"{answer.get('errorType', 'error')}: {answer.get('error')}"
    data = answer.get("data") or {}
    kind = data.get("resultType")
    result = data.get("result")
    values = []
    if kind == "matrix":
        for series in result:
            values.extend(v for _, v in series.get("values") or [])
            values.extend("histogram" for _ in series.get("histograms") or [])
        series_count = len(result)
    elif kind == "vector":
        for sample in result:
            values.append(sample["value"][1] if "value" in sample else "histogram")
        series_count = len(result)
    elif kind == "scalar":
        values.append(result[1])
        series_count = 1
    else:
        return False, f"unexpected resultType {kind!r}"
    real = [v for v in values if v != "NaN"]
    warnings = answer.get("warnings")
    suffix = f"; warnings: {warnings}" if warnings else ""
    if not series_count:
        return False, "empty result" + suffix
    if not real:
        return False, f"{series_count} series, every value NaN" + suffix
    return True, f"{series_count} series, {len(values)} points" + suffix


# ----------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tsvault-binary", default=os.path.join(REPO, "build", "tools", "tsvault"))
    parser.add_argument("--prometheus-binary", default=shutil.which("prometheus") or "/usr/bin/prometheus")
    parser.add_argument("--victoria-metrics-binary",
                        default=shutil.which("victoria-metrics") or "/usr/bin/victoria-metrics")
    parser.add_argument("--max-data-points", type=int, default=1000,
                        help="Grafana's maxDataPoints (the panel width in pixels)")
    parser.add_argument("--kit-dir", default=KIT, help="the kit to check (default: contrib/grafana)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()

    tsvault = os.path.abspath(args.tsvault_binary)
    for label, binary in (("tsvault", tsvault), ("prometheus", args.prometheus_binary),
                          ("victoria-metrics", args.victoria_metrics_binary)):
        if not os.access(binary, os.X_OK):
            print(f"FAIL: {label} binary {binary} is missing or not executable", flush=True)
            return 1

    # SIGTERM (ctest's timeout) unwinds like an exception, so the finally stops everything.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    problems = Problems()
    kit = os.path.abspath(args.kit_dir)
    dashboard_dir = os.path.join(kit, "dashboards")
    ds_uid, scrape_ms, params = check_provisioning(kit, problems)
    dashboards = []
    seen_uids = {}
    for name in sorted(os.listdir(dashboard_dir)) if os.path.isdir(dashboard_dir) else []:
        if not name.endswith(".json"):
            continue
        path = os.path.join(dashboard_dir, name)
        try:
            with open(path) as f:
                doc = json.load(f)
        except (OSError, ValueError) as error:
            problems.add(show(path), f"invalid JSON: {error}")
            continue
        check_dashboard(path, doc, ds_uid, problems, seen_uids)
        dashboards.append((path, doc))
    if not dashboards:
        problems.add(show(dashboard_dir), "no dashboards")
    log(f"kit: {len(dashboards)} dashboards, data source uid {ds_uid!r}, scrape interval {scrape_ms} ms, "
        f"query parameters {params}; {len(problems.items)} structural problems")
    # The self-monitoring dashboard goes last: by then the test's own queries are in the scraped metrics.
    dashboards.sort(key=lambda item: item[1].get("uid") == SELF_DASHBOARD_UID)

    work = tempfile.mkdtemp(prefix="grafana_kit_test.")
    processes = []
    checker = None
    panels_total = 0
    try:
        tsvault_port, prom_port, vm_port = free_port(), free_port(), free_port()
        base_url = f"http://127.0.0.1:{tsvault_port}"

        vm = Process("victoria-metrics", [args.victoria_metrics_binary, f"-storageDataPath={work}/vm",
                                          f"-httpListenAddr=127.0.0.1:{vm_port}", "-retentionPeriod=100y",
                                          "-loggerLevel=ERROR"],
                     f"{work}/victoria-metrics.log", f"http://127.0.0.1:{vm_port}/health")
        processes.append(vm)
        vm.start()

        # tsvault forwards Prometheus' scrape of itself (job="tsvault") to VictoriaMetrics,
        # so the forwarding panel has a real target to show.
        with open(f"{work}/forward.yml", "w") as f:
            f.write(f"""remote_write:
  - url: http://127.0.0.1:{vm_port}/api/v1/write
    name: victoria-metrics
    write_relabel_configs:
      - source_labels: [job]
        regex: tsvault
        action: keep
    queue_config:
      batch_send_deadline: 1s
""")
        server = Process("tsvault", [tsvault, "serve", f"--storage.path={work}/tsvault",
                                     f"--listen=127.0.0.1:{tsvault_port}", f"--forward.config-file={work}/forward.yml"],
                         f"{work}/tsvault.log", base_url + "/-/ready")
        processes.append(server)
        server.start()

        with open(f"{work}/prometheus.yml", "w") as f:
            f.write(f"""global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: tsvault
    static_configs:
      - targets: ['127.0.0.1:{tsvault_port}']
remote_write:
  - url: {base_url}/api/v1/write
    queue_config:
      batch_send_deadline: 1s
    metadata_config:
      send_interval: 5s
""")
        prometheus = Process("prometheus", [args.prometheus_binary, f"--config.file={work}/prometheus.yml",
                                            f"--storage.tsdb.path={work}/prometheus",
                                            f"--web.listen-address=127.0.0.1:{prom_port}", "--log.level=warn"],
                             f"{work}/prometheus.log", f"http://127.0.0.1:{prom_port}/-/ready")
        processes.append(prometheus)
        prometheus.start()

        # A first PromQL query, so tsvault_query_resolutions_total exists in
        # every scrape Prometheus takes from now on (the tsvault dashboard
        # charts it).
        api_json(base_url + "/api/v1/query", [("query", "vector(1)")] + params)
        now = int(time.time())
        loadgen = [tsvault, "loadgen", "--url", base_url + "/api/v1/write", "--backfill", "--scale", "1"]
        runs = [
            # loadgen aligns --from down to its interval, so the recent run may
            # start up to 14 s before now - RECENT_S: the history ends ten
            # minutes earlier, or the two would write one timestamp twice
            # with different values (400 duplicate_timestamp, about 1 run in 20).
            ("trend history", ["--from", str(now - TREND_HISTORY_S), "--to", str(now - RECENT_S - 600),
                               "--interval", "5m", "--metric-filter", TREND_FILTER, "--steps-per-request", "20"]),
            ("every family", ["--from", str(now - RECENT_S), "--to", "now", "--interval", "15s",
                              "--steps-per-request", "10"]),
        ]
        for label, extra in runs:
            began = time.monotonic()
            done = subprocess.run(loadgen + extra, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            output = done.stdout.decode(errors="replace").strip().splitlines()
            if done.returncode != 0:
                raise RuntimeError(f"loadgen ({label}) failed with {done.returncode}:\n" + "\n".join(output[-15:]))
            report = json.loads(output[-1]) if output and output[-1].startswith("{") else {}
            log(f"loadgen {label}: {report.get('series')} series, {report.get('samples_acknowledged')} samples "
                f"in {time.monotonic() - began:.1f}s ({' '.join(extra)})")

        # Prometheus must have written at least MIN_SELF_SCRAPES scrapes of tsvault into tsvault.
        deadline = time.monotonic() + 60
        scrapes = 0
        while time.monotonic() < deadline:
            _, _, answer = api_json(base_url + "/api/v1/query",
                                    [("query", 'count_over_time(up{job="tsvault"}[10m])')] + params)
            result = (answer.get("data") or {}).get("result") or []
            scrapes = int(float(result[0]["value"][1])) if result else 0
            if scrapes >= MIN_SELF_SCRAPES:
                break
            time.sleep(1)
        figures = []
        for label, expr in (("successful", 'sum_over_time(up{job="tsvault"}[10m])'),
                            ("longest scrape (s)", 'max_over_time(scrape_duration_seconds{job="tsvault"}[10m])')):
            _, _, answer = api_json(base_url + "/api/v1/query", [("query", expr)] + params)
            result = (answer.get("data") or {}).get("result") or []
            figures.append(f"{label} {float(result[0]['value'][1]):.3g}" if result else f"{label} ?")
        log(f"Prometheus' scrapes of tsvault stored in tsvault: {scrapes} ({', '.join(figures)})")
        if scrapes < MIN_SELF_SCRAPES:
            problems.add("prometheus", f"only {scrapes} self-scrapes reached tsvault in time:\n{prometheus.log_tail()}")

        checker = Checker(base_url, f"http://127.0.0.1:{prom_port}", ds_uid, scrape_ms, params, args.max_data_points)
        with ThreadPoolExecutor(max_workers=4) as pool:
            for path, doc in dashboards:
                if doc.get("uid") == SELF_DASHBOARD_UID:
                    # Let a few more scrapes carry the counters of the queries just run.
                    time.sleep(3)
                try:
                    panels, _ = checker.check(path, doc, problems, time.time(), pool)
                    panels_total += panels
                except (KeyError, ValueError, RuntimeError) as error:
                    problems.add(show(path), f"could not be checked: {error!r}")
        for process in processes:
            if not process.alive():
                problems.add(process.name, f"exited early:\n{process.log_tail()}")
    except RuntimeError as error:
        problems.add("setup", str(error))
    finally:
        for process in reversed(processes):
            process.stop()
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    failures = checker.failures if checker else []
    print(flush=True)
    for result in failures:
        print(f"FAILED: dashboard {result['dashboard']!r}, panel {result['panel']!r}, target {result['refId']} "
              f"({result['kind']} query, step {result['plan']['step_s']:g}s)", flush=True)
        print(f"  expr:   {result['expr']}")
        print(f"  answer: HTTP {result['status']} {json.dumps(result['answer'])[:600]}", flush=True)
    for item in problems.items:
        print(f"PROBLEM: {item}", flush=True)
    for item in (checker.no_data_explained if checker else []):
        print(f"NOT RUN: {item}", flush=True)
    queries = checker.queries if checker else 0
    ok = not failures and not problems.items and queries > 0
    print(f"\nSUMMARY: {len(dashboards)} dashboards, {panels_total} panels, {queries} queries, "
          f"{queries - len(failures)} returned data, {len(failures)} failed, {len(problems.items)} other problems; "
          f"{time.monotonic() - STARTED:.1f}s -> {'PASS' if ok else 'FAIL'}", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
