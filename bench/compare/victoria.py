"""VictoriaMetrics 1.79 in bench-compare (issue 15): the speed anchor.

VictoriaMetrics gets the same data as tsvault and Prometheus through remote
write (the same `tsvault loadgen --backfill` command), answers the same
queries with its result cache off, and its answers are compared with
Prometheus' (and tsvault's) point by point. MetricsQL is not PromQL: the
differences this benchmark's queries can meet are listed in
KNOWN_DIFFERENCES below, each difference found is attributed to one of them
or reported as unexplained (a warning, so a failure with --strict).
"""

import contextlib
import math
import os
import re
import time

import servers

# Flags of every VictoriaMetrics that bench-compare starts (on top of
# servers.VictoriaMetrics' -retentionPeriod=100y -loggerLevel=ERROR):
# - no response cache, so every timed run computes (the query arg nocache=1
#   below says the same per request);
# - no latency offset: by default the last 30 s before "now" are hidden,
#   and the main data set ends at the start of the run;
# - Prometheus' lookback (5m) for selectors without a range: by default the
#   window is derived from the scrape interval, i.e. about 1.5 intervals;
# - queries may take as long as the client waits (600 s), as on the others.
FLAGS = ["-search.disableCache", "-search.latencyOffset=0s", "-search.maxStalenessInterval=5m",
         "-search.minStalenessInterval=5m", "-search.maxQueryDuration=600s"]
QUERY_ARGS = {"nocache": "1"}


class KnownDifference:
    def __init__(self, key, title, explanation):
        self.key, self.title, self.explanation = key, title, explanation


# The documented MetricsQL vs PromQL differences that the queries of this
# benchmark can meet. Anything else that differs is a warning.
KNOWN_DIFFERENCES = [
    KnownDifference(
        "series-start",
        "rate()/increase() where the window reaches before a series' first sample",
        "Prometheus extrapolates the increase over the samples inside the window to the window's start "
        "(by up to half an interval beyond the first sample, or to where the counter would have been 0); "
        "MetricsQL does not extrapolate: its increase() takes 0 as the previous value when the first sample "
        "is small compared with the next increase, else the first sample; its rate() takes the first sample "
        "and divides by the time between the first and the last sample. Both agree once the window holds "
        "a sample before it (the last sample at or before the window's start). Only points less than one range after the first sample of the data set "
        "are counted here."),
    KnownDifference(
        "window-left-closed",
        "*_over_time() windows: [t - range, t] in Prometheus 2.x, (t - range, t] in MetricsQL",
        "Prometheus 2.42 includes a sample that lies exactly at t - range (its windows are closed on the "
        "left; Prometheus 3 changed that), MetricsQL does not. With samples on the step grid, "
        "avg_over_time(x[5m]) averages 21 samples in Prometheus and 20 in VictoriaMetrics. (rate() and "
        "increase() agree in spite of it: MetricsQL uses the sample at t - range as the previous value.)"),
    KnownDifference(
        "topk-ties",
        "topk()/bottomk() between series of equal value",
        "Which of several series with the same value at a step makes the top k is up to the implementation "
        "(PromQL does not define it; tsvault and Prometheus may differ there as well): a point that one "
        "answer has in series A and the other in series B with the same value at the same step."),
    KnownDifference(
        "nan-dropped",
        "NaN results are left out by MetricsQL",
        "Prometheus returns NaN points (e.g. histogram_quantile() over buckets whose rates are all 0, or 0/0 "
        "in a division); VictoriaMetrics drops NaN points from query_range answers, and series with only "
        "NaN points altogether."),
]
KNOWN = {d.key: d for d in KNOWN_DIFFERENCES}

_RANGE = re.compile(r"\[(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)\]")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}


def longest_range(expr):
    """The longest range of the expression's range selectors in seconds (0 without one)."""
    return max((float(n) * _UNITS[u] for n, u in _RANGE.findall(expr)), default=0)


def _by_series(answer):
    series = {}
    for item in answer["data"]["result"]:
        key = tuple(sorted((k, v) for k, v in item["metric"].items()))
        series[key] = {float(t): float(v) for t, v in item["values"]}
    return series


def _relative(x, y):
    if x == y or (math.isnan(x) and math.isnan(y)):
        return 0.0
    if math.isnan(x) or math.isnan(y) or math.isinf(x) or math.isinf(y):
        return math.inf
    return abs(x - y) / max(abs(x), abs(y), 1e-12)


def classify(expr, vm_answer, ref_answer, data_start, tolerance=1e-6):
    """Compares VictoriaMetrics' answer with a PromQL reference answer.

    Every point that differs (missing in one, or a relative difference above
    `tolerance`) is attributed to a known difference, or counted as
    unexplained. Returns a dict: series counts, "equal" points, per known
    difference key {"points", "max_rel"}, "unexplained" (count) and
    "examples" (a few unexplained points, for the warning).
    """
    vm, ref = _by_series(vm_answer), _by_series(ref_answer)
    edge = data_start + longest_range(expr) if data_start is not None else None
    over_time = "_over_time(" in expr
    counter_fn = "rate(" in expr or "increase(" in expr
    top = re.search(r"\b(topk|bottomk)\s*\(", expr) is not None
    # For ties: at each step, the values of the points that only one side has, per side.
    only = {"vm": {}, "ref": {}}
    for side, mine, other in (("vm", vm, ref), ("ref", ref, vm)):
        for key, points in mine.items():
            theirs = other.get(key, {})
            for t, value in points.items():
                if t not in theirs:
                    only[side].setdefault(t, []).append(value)

    def tie(side, t, value):
        """Whether the other side has, at t, a point of equal value in a series this side lacks there."""
        return top and any(_relative(value, w) <= tolerance for w in only["ref" if side == "vm" else "vm"].get(t, ()))

    out = {"series_vm": len(vm), "series_ref": len(ref), "equal": 0, "points": 0, "unexplained": 0,
           "examples": [], "known": {}, "max_rel_equal": 0.0}

    def known(key, rel=0.0):
        k = out["known"].setdefault(key, {"points": 0, "max_rel": 0.0})
        k["points"] += 1
        if rel != math.inf:
            k["max_rel"] = max(k["max_rel"], rel)
        else:
            k["max_rel"] = math.inf

    def unexplained(text):
        out["unexplained"] += 1
        if len(out["examples"]) < 3:
            out["examples"].append(text)

    def at_edge(t):
        return counter_fn and edge is not None and t < edge

    for key in set(vm) | set(ref):
        pv, pr = vm.get(key, {}), ref.get(key, {})
        for t in set(pv) | set(pr):
            out["points"] += 1
            x, y = pv.get(t), pr.get(t)
            labels = "{" + ",".join(f'{k}="{v}"' for k, v in key) + "}"
            if x is None:
                if math.isnan(y):
                    known("nan-dropped")
                elif tie("ref", t, y):
                    known("topk-ties")
                elif at_edge(t):
                    known("series-start", math.inf)
                else:
                    unexplained(f"{labels} @{t:.0f}: only the reference has {y:g}")
                continue
            if y is None:
                if tie("vm", t, x):
                    known("topk-ties")
                elif at_edge(t):
                    known("series-start", math.inf)
                else:
                    unexplained(f"{labels} @{t:.0f}: only VictoriaMetrics has {x:g}")
                continue
            rel = _relative(x, y)
            if rel <= tolerance:
                out["equal"] += 1
                out["max_rel_equal"] = max(out["max_rel_equal"], rel)
            elif at_edge(t):
                known("series-start", rel)
            elif over_time:
                known("window-left-closed", rel)
            else:
                unexplained(f"{labels} @{t:.0f}: VictoriaMetrics {x:g}, reference {y:g}")
    return out


def summary_text(c):
    """'12 series; 470 of 480 points equal; series-start: 10 points (max rel. diff 0.05)'."""
    if c is None:
        return "n/a (a query failed)"
    parts = [f"{c['series_vm']} / {c['series_ref']} series",
             f"{c['equal']} of {c['points']} points equal (max rel. diff {c['max_rel_equal']:.1g})"]
    for key, k in sorted(c["known"].items()):
        parts.append(f"known `{key}`: {k['points']} points (max rel. diff {k['max_rel']:.2g})")
    if c["unexplained"]:
        parts.append(f"**{c['unexplained']} points differ unexplained** (e.g. {c['examples'][0]})")
    return "; ".join(parts)


def check(run, where, expr, vm_answer, ref_name, ref_answer, data_start):
    """classify() plus a warning for unexplained differences; records in run.vm_differences_found
    which known differences were met where. Returns the classification."""
    c = classify(expr, vm_answer, ref_answer, data_start)
    found = run.vm_differences_found
    for key in c["known"]:
        if where not in found.setdefault(key, []):
            found[key].append(where)
    if c["unexplained"]:
        run.warn(f"{where}: VictoriaMetrics and {ref_name} differ in {c['unexplained']} of {c['points']} points "
                 f"not explained by a known MetricsQL difference, e.g. {'; '.join(c['examples'])}")
    return c


def differences_markdown(found):
    """The list of known differences with where each was met: found = {key: [query names]}."""
    lines = ["MetricsQL vs PromQL: the known differences these queries can meet (a point that differs "
             "otherwise is a warning and fails `--strict`):", ""]
    for d in KNOWN_DIFFERENCES:
        where = found.get(d.key)
        met = f"met in: {', '.join(where)}" if where else "not met in this run"
        lines.append(f"- `{d.key}`: {d.title}. {d.explanation} **{met}.**")
    return "\n".join(lines)


@contextlib.contextmanager
def timed(run):
    """Adds the wall time of the block to run.vm_seconds (VictoriaMetrics' share of the run)."""
    began = time.monotonic()
    try:
        yield
    finally:
        run.vm_seconds += time.monotonic() - began


def server(run, tag):
    """A VictoriaMetrics with the benchmark's flags, registered for cleanup."""
    a = run.args
    vm = servers.VictoriaMetrics(a.victoria_metrics_binary, run.path(f"victoria-metrics-{tag}"),
                                 run.path(f"victoria-metrics-{tag}.log"), FLAGS + list(a.victoria_metrics_flag))
    run.servers.append(vm)
    return vm


def disk(run, vm, samples):
    """Disk use after the backfill. VictoriaMetrics 1.79 keeps the newest small parts in memory until a
    merge or its shutdown writes them, so: SIGTERM (a clean shutdown writes every part) and the data
    directory as it is then ("raw_disk"); start again, `/internal/force_merge` (every part of the month's
    partition into one) and wait for it, SIGTERM, and the directory again ("disk"). Checks that the
    parts hold every acknowledged sample. Leaves the server stopped."""
    figures = {"parts_before": vm.parts()}
    _stop(run, vm)
    figures["raw_disk"] = vm.disk_bytes()
    vm.start()
    figures["merge_seconds"] = vm.force_merge()
    figures["parts_after"] = vm.parts()
    figures["stored_rows"] = vm.stored_rows()
    if figures["stored_rows"] != samples:
        run.warn(f"VictoriaMetrics holds {figures['stored_rows']:,} samples in its parts, "
                 f"{samples:,} were acknowledged")
    _stop(run, vm)
    figures["disk"] = vm.disk_bytes()
    figures["cache_disk"] = servers.directory_bytes(os.path.join(vm.data_dir, "cache"))
    return figures


def _stop(run, vm):
    code = vm.stop()
    if code not in (0, None):
        run.warn(f"VictoriaMetrics exited with {code} on SIGTERM")
