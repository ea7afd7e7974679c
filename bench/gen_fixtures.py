#!/usr/bin/env python3
"""Writes DIR/activity.json: the default activity fixture plus N generated
users in the seed's client (for bench/run's fixture load figures). Usage:

    bench/gen_fixtures.py N DIR

The users follow docs/fixtures.md (ids are UUIDs, departments of the same
client, RFC 3339 timestamps). Output is deterministic, streamed (1M users
is ~0.4 GB), and not meant to be committed.
"""
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    count, out_dir = int(sys.argv[1]), sys.argv[2]
    with open(os.path.join(ROOT, "fixtures", "activity.json"), encoding="utf-8") as f:
        fixture = json.load(f)
    client = fixture["clients"][0]["id"]
    departments = [d["id"] for d in fixture["departments"] if d["client_id"] == client]
    seed_users = fixture.pop("users")
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "activity.json")
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as out:
        head = json.dumps(fixture, indent=2)
        out.write(head[: head.rindex("}")].rstrip() + ',\n  "users": [\n')
        for user in seed_users:
            out.write("    " + json.dumps(user, separators=(",", ":")) + ",\n")
        for i in range(count):
            dept = departments[i % len(departments)]
            out.write(
                '    {"id":"%s","client_id":"%s","username":"user%d","user_key":"user%d",'
                '"last_activity":{"at":"2026-02-24T21:23:53.082Z","desktop_at":null,'
                '"web_at":"2026-02-24T21:23:53.082Z"},"departments":["%s"],'
                '"created_at":"2026-02-05T21:29:34.214Z","updated_at":"2026-02-24T22:00:00.000Z"}%s\n'
                % (user_id(i), client, i, i, dept, "," if i + 1 < count else "")
            )
        out.write("  ]\n}\n")
    os.replace(tmp, path)
    print(path)


def user_id(i):
    """A UUID (version 4 layout) made from the index, so runs are repeatable."""
    return "%08x-%04x-4%03x-8%03x-%012x" % (i, (i >> 32) & 0xFFFF, i % 0x1000, i % 0x1000, i)


if __name__ == "__main__":
    main()
