#!/usr/bin/env python3
"""Collapsed stacks (bench/fold.py's output) → the profile summary that
docs/performance.md quotes: top functions by inclusive and by self cost,
as a share of all samples. Frames that only wrap (runtime plumbing,
`(inlined)` adapters, panic guards) are left out of the inclusive list.

    bench/summarize.py FOLDED [N]
"""
import collections
import re
import sys

PLUMBING = re.compile(
    r"catch_unwind|call_once|with_mut|poll_future|poll_inner|RawTask|Harness|"
    r"Core<T,S>::poll|coop::|LocalKey|Scoped<T>|context::|thread_start|start_thread|"
    r"clone3|spawn_unchecked|blocking::|Launch::launch|worker::run|run_task|"
    r"LocalNotified|UnsafeCell|^\[|^tokio-rt-worker$|^tracing-appende$|BlockingTask|"
    r"^core::ops::function|^<core::pin::Pin|^<F as core::future|^std::sys"
)


def main():
    path = sys.argv[1]
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 40
    total = 0
    inclusive = collections.Counter()
    exclusive = collections.Counter()
    for line in open(path, encoding="utf-8"):
        stack, count = line.rstrip("\n").rsplit(" ", 1)
        count = int(count)
        frames = [f.replace(" (inlined)", "") for f in stack.split(";")]
        total += count
        for frame in set(frames):
            inclusive[frame] += count
        exclusive[frames[-1]] += count
    print(f"samples: {total}")
    print(f"\n== inclusive (function and everything it calls), top {top}")
    shown = 0
    for frame, count in inclusive.most_common():
        if PLUMBING.search(frame):
            continue
        print(f"{100 * count / total:6.1f}%  {frame[:150]}")
        shown += 1
        if shown == top:
            break
    print(f"\n== self (the function's own instructions), top {top}")
    for frame, count in exclusive.most_common(top):
        print(f"{100 * count / total:6.1f}%  {frame[:150]}")


if __name__ == "__main__":
    main()
