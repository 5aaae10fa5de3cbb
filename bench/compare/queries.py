"""The query pack: what is asked, how latency is timed, how answers are compared."""

import json
import math
import statistics
import time
import urllib.error
import urllib.parse
import urllib.request

# A selector over ~1000 histogram bucket series: one instance, status 200,
# every app, route and method: 4 x 10 x 2 x 12 buckets = 960 at scale >= 1.
BUCKETS_1K = 'http_request_duration_seconds_bucket{instance="host0",status="200"}'


class Query:
    """One PromQL range query of the pack.

    `selector` is the series selector whose series count is reported as the
    query's input size; `long` marks the 30-day query of the long data set.
    """

    def __init__(self, name, expr, selector, long=False):
        self.name, self.expr, self.selector, self.long = name, expr, selector, long


DASHBOARD_PACK = [
    Query("requests by app/status", "sum by (app, status) (rate(http_requests_total[5m]))",
          "http_requests_total"),
    Query("p95 latency by app (all buckets)",
          "histogram_quantile(0.95, sum by (le, app) (rate(http_request_duration_seconds_bucket[5m])))",
          "http_request_duration_seconds_bucket"),
    Query("p95 latency by app (~1000 buckets)",
          f"histogram_quantile(0.95, sum by (le, app) (rate({BUCKETS_1K}[5m])))", BUCKETS_1K),
    Query("CPU busy by node", 'sum by (instance) (rate(node_cpu_seconds_total{mode!="idle"}[5m]))',
          'node_cpu_seconds_total{mode!="idle"}'),
    # Status 200: busy counters, so no ties that the two engines may break differently.
    Query("top 5 busiest routes", 'topk(5, sum by (route) (rate(http_requests_total{status="200"}[5m])))',
          'http_requests_total{status="200"}'),
    Query("errors by type", "sum by (type) (increase(app_errors_total[5m]))", "app_errors_total"),
    Query("queue sizes", "sum by (queue, state) (bullmq_queue_size)", "bullmq_queue_size"),
    Query("Prisma p99 by model",
          "histogram_quantile(0.99, sum by (le, model) (rate(prisma_query_duration_seconds_bucket[5m])))",
          "prisma_query_duration_seconds_bucket"),
    Query("probe duration", "avg by (instance) (avg_over_time(probe_duration_seconds[5m]))",
          "probe_duration_seconds"),
]

LONG_QUERY = Query("re-engagement increase[1d], long window at 1 h",
                   "increase(reengagement_notifications_sent_total[1d])",
                   "reengagement_notifications_sent_total", long=True)


class QueryError(RuntimeError):
    pass


def timed_query_range(base_url, expr, start, end, step, timeout=600, extra=None):
    """Runs one query_range; returns (seconds until the whole body arrived, decoded answer).

    JSON decoding on the client side is not part of the time. `extra` adds
    parameters (e.g. max_source_resolution).
    """
    params = urllib.parse.urlencode({"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}",
                                     "step": f"{step:g}", **(extra or {})})
    url = f"{base_url}/api/v1/query_range?{params}"
    began = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = response.read()
    except urllib.error.HTTPError as error:
        raise QueryError(f"{expr}: HTTP {error.code}: {error.read()[:300]!r}") from None
    seconds = time.perf_counter() - began
    answer = json.loads(body)
    if answer.get("status") != "success":
        raise QueryError(f"{expr}: {answer.get('error')}")
    return seconds, answer


def measure(base_url, expr, start, end, step, runs, extra=None):
    """One warm-up run, then `runs` timed runs. Returns (median seconds, every time, last answer)."""
    _, answer = timed_query_range(base_url, expr, start, end, step, extra=extra)
    times = []
    for _ in range(runs):
        seconds, answer = timed_query_range(base_url, expr, start, end, step, extra=extra)
        times.append(seconds)
    return statistics.median(times), times, answer


def input_series(base_url, selector, at):
    """How many series `selector` selects at time `at` (count(...) instant query), or None."""
    params = urllib.parse.urlencode({"query": f"count({selector})", "time": f"{at:.3f}"})
    try:
        with urllib.request.urlopen(f"{base_url}/api/v1/query?{params}", timeout=120) as response:
            answer = json.loads(response.read())
        result = answer["data"]["result"]
        return int(float(result[0]["value"][1])) if result else 0
    except (urllib.error.URLError, KeyError, IndexError, ValueError):
        return None


def _by_series(answer):
    series = {}
    for item in answer["data"]["result"]:
        key = tuple(sorted(item["metric"].items()))
        series[key] = {float(t): float(v) for t, v in item["values"]}
    return series


def compare_answers(a, b):
    """Compares two query_range answers.

    Returns a dict: series counts of each, series present in only one,
    points present in only one, and the largest relative value difference
    over the points both have (NaN equals NaN).
    """
    sa, sb = _by_series(a), _by_series(b)
    only = len(set(sa) ^ set(sb))
    points_only, max_rel = 0, 0.0
    for key in set(sa) & set(sb):
        pa, pb = sa[key], sb[key]
        points_only += len(set(pa) ^ set(pb))
        for t in set(pa) & set(pb):
            x, y = pa[t], pb[t]
            if math.isnan(x) and math.isnan(y):
                continue
            if x == y:
                continue
            if math.isnan(x) or math.isnan(y) or math.isinf(x) or math.isinf(y):
                max_rel = math.inf
                continue
            max_rel = max(max_rel, abs(x - y) / max(abs(x), abs(y), 1e-12))
    return {"series_a": len(sa), "series_b": len(sb), "series_only_in_one": only,
            "points_only_in_one": points_only, "max_relative_difference": max_rel}
