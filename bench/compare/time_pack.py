#!/usr/bin/env python3
"""Times bench-compare's dashboard pack against a server that is already running.

For profiling and A/B runs between two builds on the same data, where a whole
`make bench-compare` is too long: start a server on a data directory (e.g.
after `tsvault loadgen --backfill --scale 10`), run this, swap the binary on
the same directory, run it again. It prints the median and the fastest of
`--runs` timed `query_range` calls per query (after one warm-up), over
[end - 1h, end] at 15 s, end being `--end` (Unix seconds, default now)
rounded down to the step. Only the standard library and queries.py.

    python3 bench/compare/time_pack.py --url http://127.0.0.1:9201 --runs 7
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from queries import DASHBOARD_PACK, measure  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", default="http://127.0.0.1:9201", help="the server's base URL")
    p.add_argument("--runs", type=int, default=7, help="timed runs per query, after one warm-up")
    p.add_argument("--end", type=float, default=time.time(), help="end of the range, Unix seconds")
    p.add_argument("--hours", type=float, default=1, help="length of the range")
    p.add_argument("--step", type=float, default=15, help="step, seconds")
    p.add_argument("--only", default="", help="comma-separated indexes into the pack (default: all)")
    args = p.parse_args()
    end = int(args.end) - int(args.end) % int(args.step)
    start = end - int(args.hours * 3600)
    chosen = [int(i) for i in args.only.split(",")] if args.only else range(len(DASHBOARD_PACK))
    for i in chosen:
        query = DASHBOARD_PACK[i]
        median, times, _ = measure(args.url, query.expr, start, end, args.step, args.runs)
        print(f"{i} {query.name:40s} median {median * 1000:9.1f} ms  fastest {min(times) * 1000:9.1f} ms")


if __name__ == "__main__":
    main()
