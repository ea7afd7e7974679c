#!/usr/bin/env python3
"""`perf script` output (stdin) → collapsed stacks (stdout), one line per
distinct stack, `root;…;leaf COUNT`, the format flamegraph.pl and
inferno-flamegraph read. Used by bench/profile."""
import collections
import re
import sys

FRAME = re.compile(r"^\s*[0-9a-f]+\s+(.+?)\s+\((.*)\)\s*$")


def clean(symbol):
    symbol = re.sub(r"\+0x[0-9a-f]+$", "", symbol)
    symbol = re.sub(r"::h[0-9a-f]{16}$", "", symbol)
    return symbol.replace(";", ":")


def main():
    stacks = collections.Counter()
    frames, comm = [], None
    for line in sys.stdin:
        if not line.strip():
            if comm is not None:
                stacks[";".join([comm] + frames[::-1])] += 1
            frames, comm = [], None
            continue
        if not line.startswith((" ", "\t")):
            comm = line.split()[0]
            continue
        m = FRAME.match(line)
        if m:
            symbol = m.group(1)
            frames.append(clean(symbol) if symbol != "[unknown]" else f"[{m.group(2)}]")
    if comm is not None:
        stacks[";".join([comm] + frames[::-1])] += 1
    for stack, count in stacks.most_common():
        print(f"{stack} {count}")


if __name__ == "__main__":
    main()
