"""``make bench`` (``python -m bench``): what a user lives with, measured side by side in one run.

1. :mod:`bench.ocds_item`: the sync step of a first load beside a plain COPY of the same rows,
   an incremental round beside a plain COPY of the changed rows, peak memory of the task
   process (its own high-water mark);
2. :mod:`bench.stack`: through the local stack (`make airflow`, Celery): queued -> first request
   and -> success for a first load and a small incremental run, and a split over two workers.

    python -m bench [--sizes 1000000 10000000] [--no-incremental] [--no-stack] [--stack-scale N]
"""

from __future__ import annotations

import argparse

from bench import ocds_item, stack


def main() -> int:
    parser = argparse.ArgumentParser(description="OCDS sync benchmarks")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000], help="items of each sync-step run")
    parser.add_argument("--no-incremental", action="store_true", help="first loads only")
    parser.add_argument("--no-stack", action="store_true", help="skip the local-stack timings")
    parser.add_argument("--stack-scale", type=int, default=1_000_000, help="items of the stack's emulator")
    parser.add_argument("--split", type=int, default=4, help="store scopes of the two-worker split (0: none)")
    args = parser.parse_args()
    results = []
    for size in args.sizes:
        print(f"sync step, {size:,} items", flush=True)
        results.append(ocds_item.measure(size, incremental=not args.no_incremental))
    ocds_item.report(results)
    if not args.no_stack:
        print(flush=True)
        timings = stack.main(["--scale", str(args.stack_scale), "--split", str(args.split)])
        print("\nthrough the local stack (Celery), per sync task")
        head = ("run", "queued->running s", "queued->1st request s", "queued->success s", "sync s", "rows")
        print("  ".join(f"{h:>22}" for h in head))
        for t in timings:
            cells = (t["label"], f"{t['queued_to_running']:.1f}", f"{t['queued_to_first_request']:.1f}",
                     f"{t['queued_to_success']:.1f}", f"{t['sync_s']:.1f}", f"{t['rows']:,}")
            print("  ".join(f"{c:>22}" for c in cells))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
