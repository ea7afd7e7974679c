#!/usr/bin/env python3
"""usermock against a bare hyper server, side by side. Run through `bench/run`,
which builds both binaries and installs wrk first; see docs/performance.md.

Every figure is the median of RUNS runs; rounds are interleaved (baseline,
then every workload, RUNS times) so that a slow patch of machine time hurts
all of them alike. Each run gets a fresh server. Loopback only; the whole run
stops by itself (MAX_SECONDS).

Environment: QUICK=1 (short runs, no 1M fixture), PEERS=1 (also time
httpmock standalone, which bench/run installs: see HTTPMOCK below), RUNS, DURATION (seconds per
timed run), WARMUP, CONNECTIONS, FIXTURE_SIZES (comma-separated user counts,
"" for none), COLD_RUNS, SERVER_CPU / LOAD_CPU (taskset cores), MAX_SECONDS,
USERMOCK_BENCH_LOG (usermock's --log, default its own default: info),
BENCH_OUT (folder for results.md / results.json).
"""
import copy
import datetime
import http.client
import json
import os
import platform
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
TARGET = os.path.abspath(os.path.join(ROOT, TARGET))
USERMOCK = os.path.join(TARGET, "release", "usermock")
BASELINE = os.path.join(TARGET, "release", "examples", "baseline")
# The minimal stateful server (bench/stateful/): hyper + serde_json, a body
# parsed and merged into a user in a DashMap, serialised back.
STATEFUL = os.path.join(TARGET, "release", "examples", "stateful")
# PEERS=1: httpmock's standalone server (bench/run installs the pinned
# version under $CARGO_TARGET_DIR/peers/), given one fixed answer per route:
# the body usermock answers, so it sends the same bytes.
PEERS = os.environ.get("PEERS") == "1"
HTTPMOCK_VERSION = "0.9.0"
HTTPMOCK = os.environ.get("HTTPMOCK_BIN") or os.path.join(
    TARGET, "peers", f"httpmock-{HTTPMOCK_VERSION}", "bin", "httpmock")
LUA = os.path.join(ROOT, "bench", "wrk", "requests.lua")
OUT = os.path.abspath(os.environ.get("BENCH_OUT") or os.path.join(TARGET, "bench"))

QUICK = os.environ.get("QUICK") == "1"
RUNS = max(1, int(os.environ.get("RUNS", "3")))
DURATION = float(os.environ.get("DURATION", "2" if QUICK else "5"))
WARMUP = float(os.environ.get("WARMUP", "0.5" if QUICK else "1"))
CONNECTIONS = int(os.environ.get("CONNECTIONS", "16"))
FIXTURE_SIZES = [
    int(n)
    for n in os.environ.get(
        "FIXTURE_SIZES", "10000,100000" if QUICK else "10000,100000,1000000"
    ).split(",")
    if n.strip()
]
COLD_RUNS = int(os.environ.get("COLD_RUNS", "5" if QUICK else "11"))
MAX_SECONDS = float(os.environ.get("MAX_SECONDS", "240" if QUICK else "660"))
LOG = os.environ.get("USERMOCK_BENCH_LOG", "")
# ONLY=update-activity,get-activity: time just these workloads (and the
# baselines they compare with) and skip cold start, sessions and fixtures;
# for iterating on one route.
ONLY = [w.strip() for w in os.environ.get("ONLY", "").split(",") if w.strip()]
# COMPARE_BIN=path/to/an/older/usermock: every usermock workload also runs
# against that binary, as "NAME@B", in the same interleaved rounds (an A/B
# of a change, free of the drift between two separate runs).
COMPARE_BIN = os.environ.get("COMPARE_BIN", "")
SESSIONS_WRITTEN = 10_000

STARTED = time.monotonic()
DEADLINE = STARTED + MAX_SECONDS
NOTES = []


def note(text):
    NOTES.append(text)
    print(f"note: {text}", flush=True)


# ------------------------------------------------------------- machine --

def pinning():
    """taskset prefixes for (server, load generator), or none on one core."""
    cpus = os.sched_getaffinity(0)
    server_cpu = os.environ.get("SERVER_CPU", "1")
    load_cpu = os.environ.get("LOAD_CPU", "0")
    if shutil.which("taskset") and len(cpus) >= 2 and {int(server_cpu), int(load_cpu)} <= cpus:
        return ["taskset", "-c", server_cpu], ["taskset", "-c", load_cpu]
    note("fewer than 2 usable cores (or no taskset): server and wrk are not pinned")
    return [], []


SERVER_PIN, LOAD_PIN = pinning()


def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "model": model,
        "caches": caches(),
        "kernel": platform.release(),
        "memory_mb": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20,
    }


def caches():
    """CPU 0's caches as the kernel lists them: "L1d 32K, L1i 32K, L2 512K, L3 16384K"."""
    out = []
    base = "/sys/devices/system/cpu/cpu0/cache"
    try:
        names = sorted(n for n in os.listdir(base) if n.startswith("index"))
    except OSError:
        return "unknown"
    for name in names:
        try:
            def read(key):
                with open(os.path.join(base, name, key), encoding="utf-8") as f:
                    return f.read().strip()
            level, kind, size = read("level"), read("type"), read("size")
        except OSError:
            continue
        suffix = {"Data": "d", "Instruction": "i"}.get(kind, "")
        out.append(f"L{level}{suffix} {size}")
    return ", ".join(out) or "unknown"


def loadavg():
    with open("/proc/loadavg", encoding="utf-8") as f:
        return " ".join(f.read().split()[:3])


def proc_status(pid, key):
    """A /proc/PID/status figure in kB (VmRSS, VmHWM), or None."""
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def cpu_seconds(pid):
    """User + system CPU time of a process (all its threads) so far."""
    with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


# -------------------------------------------------------------- servers --

class Server:
    """A server process on a free loopback port, pinned to SERVER_CPU."""

    def __init__(self, kind, args=(), timeout=30.0, binary=None):
        if kind == "httpmock":
            self._start_httpmock(timeout)
            return
        if kind == "baseline":
            cmd = [BASELINE, "127.0.0.1:0"]
        elif kind == "stateful":
            cmd = [STATEFUL, "127.0.0.1:0"]
        else:
            cmd = [binary or USERMOCK, "--listen", "127.0.0.1:0", *args]
            if LOG:
                cmd += ["--log", LOG]
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            SERVER_PIN + cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline().decode() if ready else ""
        self.ready_after = time.perf_counter() - self.started
        if " listening on http://" not in line:
            self.stop()
            raise RuntimeError(f"{kind} did not start within {timeout:.0f} s: {line!r}")
        self.url = line.strip().rsplit(" ", 1)[1]
        self.host, port = self.url[len("http://"):].rsplit(":", 1)
        self.port = int(port)

    def _start_httpmock(self, timeout):
        """httpmock prints no listening line: it gets a free port and is
        ready once its mock answers (it binds 127.0.0.1 unless --expose)."""
        port = free_port()
        cmd = [HTTPMOCK, "--port", str(port), "--mock-files-dir", PEER_MOCKS,
               "--disable-access-log"]
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(SERVER_PIN + cmd, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL,
                                     env={**os.environ, "RUST_LOG": "error"})
        self.url, self.host, self.port = f"http://127.0.0.1:{port}", "127.0.0.1", port
        method, path, headers, body = PEER_PROBE
        give_up = time.monotonic() + timeout
        while time.monotonic() < give_up:
            try:
                if self.request(method, path, headers, body)[0] == 200:
                    self.ready_after = time.perf_counter() - self.started
                    return
            except OSError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"httpmock did not answer within {timeout:.0f} s")

    @property
    def pid(self):
        return self.proc.pid

    def request(self, method, path, headers=None, body=None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()


# ------------------------------------------------------------ workloads --

def load_fixture(vendor):
    with open(os.path.join(ROOT, "fixtures", f"{vendor}.json"), encoding="utf-8") as f:
        return json.load(f)


ACTIVITY_AUTH = {"Authorization": "Bearer activity-admin"}
RELESYS_AUTH = {"Authorization": "Bearer relesys-admin"}
AWORK_AUTH = {"Authorization": "Bearer awork-admin"}
REPLAY_AUTH = {"x-api-key": "replay-parent"}
JSON = {"Content-Type": "application/json"}
JSON_PATCH = {"Content-Type": "application/json-patch+json"}
BODIES = 8  # distinct bodies per user


def activity_requests(method="PATCH"):
    fixture = load_fixture("activity")
    by_client = {}
    for dept in fixture["departments"]:
        by_client.setdefault(dept["client_id"], []).append(dept["id"])
    out = []
    for k in range(BODIES):
        for user in fixture["users"]:
            path = f"/activity/v2/clients/{user['client_id']}/users/{user['id']}"
            if method == "GET":
                out.append(("GET", path, ACTIVITY_AUTH, None))
                continue
            depts = by_client[user["client_id"]]
            chosen = [depts[(k + j) % len(depts)] for j in range(1 + k % len(depts))]
            body = json.dumps({"departments": chosen}, separators=(",", ":"))
            out.append(("PATCH", path, {**ACTIVITY_AUTH, **JSON}, body))
    return out if method == "PATCH" else out[: len(fixture["users"])]


def relesys_requests(method="PATCH", first_op="replace"):
    # first_op="add": the documented example patch opens with an `add` of
    # /name, which goes the JSON-document way instead of the typed
    # replace-only one (issue 25 holds it within 1.3x of replace-only).
    users = load_fixture("relesys")["users"]
    out = []
    for k in range(BODIES):
        for user in users:
            path = f"/relesys/api/v1.3/users/{user['id']}"
            if method == "GET":
                out.append(("GET", path, RELESYS_AUTH, None))
                continue
            body = json.dumps(
                [
                    {"op": first_op, "path": "/name", "value": f"Bench User {k}"},
                    {"op": "replace", "path": "/title", "value": f"Title {k}"},
                    {
                        "op": "replace",
                        "path": "/phoneNumber",
                        "value": {"countryCode": 45, "number": f"1234567{k}"},
                    },
                ],
                separators=(",", ":"),
            )
            out.append(("PATCH", path, {**RELESYS_AUTH, **JSON_PATCH}, body))
    return out if method == "PATCH" else out[: len(users)]


def awork_requests(method="PUT"):
    # The archived and the deactivated user cannot be updated (400 by design).
    users = [
        u for u in load_fixture("awork")["users"]
        if not u["isArchived"] and not u["isDeactivated"]
    ]
    out = []
    languages = ["de", "en", "it", "fr"]
    for k in range(BODIES):
        for user in users:
            path = f"/awork/api/v1/users/{user['id']}"
            if method == "GET":
                out.append(("GET", path, AWORK_AUTH, None))
                continue
            body = json.dumps(
                {
                    "firstName": f"{user['firstName']}",
                    "lastName": f"{user['lastName']}",
                    "position": f"Position {k}",
                    "language": languages[k % len(languages)],
                },
                separators=(",", ":"),
            )
            out.append(("PUT", path, {**AWORK_AUTH, **JSON}, body))
    return out if method == "PUT" else out[: len(users)]


def replay_requests(method="PATCH"):
    fixture = load_fixture("replay")
    parent = next(c for c in fixture["companies"] if "replay-parent" in c["api_keys"])
    children = {c["id"] for c in fixture["companies"] if c["parent_id"] == parent["id"]}
    users = [u for u in fixture["users"] if u["companyId"] == parent["id"] or u["companyId"] in children]
    if method == "PATCH":
        # Replay refuses to update disabled users (and invitations are not
        # users yet): the update load rotates over the active ones.
        users = [u for u in users if u.get("status", "active") == "active"]
    keys = {c["id"]: c["api_keys"][0] for c in fixture["companies"]}
    out = []
    for k in range(BODIES):
        for user in users:
            path = f"/replay/api/user/{user['id']}"
            extra = {} if user["companyId"] == parent["id"] else {"childCompanyId": user["companyId"]}
            if method == "GET":
                # A GET sees only the caller's own company: each user is read
                # with its own company's key.
                out.append(("GET", path, {"x-api-key": keys[user["companyId"]]}, None))
                continue
            body = json.dumps(
                {"firstName": f"Bench{k}", "lastName": "User", **extra},
                separators=(",", ":"),
            )
            out.append(("PATCH", path, {**REPLAY_AUTH, **JSON}, body))
    return out if method == "PATCH" else out[: len(users)]


def list_requests():
    activity_client = load_fixture("activity")["clients"][0]["id"]
    return {
        "activity": [("GET", f"/activity/v2/clients/{activity_client}/users", ACTIVITY_AUTH, None)],
        "relesys": [("GET", "/relesys/api/v1.3/users", RELESYS_AUTH, None)],
        "awork": [("GET", "/awork/api/v1/users", AWORK_AUTH, None)],
        "replay": [("GET", "/replay/api/user", REPLAY_AUTH, None)],
    }


def activity_error_requests():
    out = []
    for method, path, headers, _ in activity_requests():
        body = json.dumps({"departments": ["ffffffff-ffff-4fff-8fff-ffffffffffff"]})
        out.append((method, path, headers, body))
    return out[: len(load_fixture("activity")["users"])]


def with_sessions(requests, sessions):
    count = max(sessions, len(requests))
    return [
        (m, p, {**h, "X-Usermock-Session": f"s-{k % sessions}"}, b)
        for k, (m, p, h, b) in ((k, requests[k % len(requests)]) for k in range(count))
    ]


class Workload:
    """One load: the requests wrk cycles through, what they must answer,
    and which baseline figure it is compared with."""

    def __init__(self, name, requests, compare, expect="2xx", server_args=(),
                 optional=False, description="", server="usermock", anchor=None,
                 peer=None):
        self.name = name
        self.requests = requests
        self.compare = compare  # "baseline-read" / "baseline-write" / a workload name
        # The second comparison: the minimal stateful server doing the same
        # kind of request (issue 25's targets are ratios to it).
        self.anchor = anchor
        # With PEERS=1, the httpmock workload it is compared with too.
        self.peer = peer if PEERS else None
        self.server = server  # "usermock", "baseline", "stateful" or "httpmock"
        self.expect = expect  # "2xx" or an int status every request must get
        self.server_args = list(server_args)
        self.optional = optional
        self.description = description
        self.file = None
        self.skipped = None
        self.binary = None  # another usermock binary (COMPARE_BIN)

    def write(self, folder):
        self.file = os.path.join(folder, f"{self.name}.txt")
        with open(self.file, "w", encoding="utf-8") as f:
            for method, path, headers, body in self.requests:
                fields = [method, path, body if body is not None else "-"]
                fields += [f"{k}: {v}" for k, v in headers.items()]
                assert all("\t" not in x and "\n" not in x for x in fields)
                f.write("\t".join(fields) + "\n")


def workloads():
    lists = list_requests()
    out = [
        Workload("baseline-read", [("GET", "/users/1", ACTIVITY_AUTH, None)], None,
                 server="baseline",
                 description="bare hyper: GET, fixed ~440-byte JSON answer"),
        Workload("baseline-write", activity_requests(), None, server="baseline",
                 description="bare hyper: the activity PATCH requests, body read, same answer"),
        Workload("stateful-read", activity_requests("GET"), "baseline-read", server="stateful",
                 description="minimal stateful server: GET a user from a DashMap, serialised"),
        Workload("stateful-write", activity_requests(), "baseline-write", server="stateful",
                 description="minimal stateful server: the activity PATCH bodies merged into a user"),
        Workload("update-activity", activity_requests(), "baseline-write", anchor="stateful-write",
                 peer="httpmock-write", description="PATCH departments, 5 users × 8 bodies"),
        Workload("update-relesys", relesys_requests(), "baseline-write", anchor="stateful-write",
                 peer="httpmock-write",
                 description="PATCH, 3-operation JSON Patch, 5 users × 8 bodies"),
        Workload("update-relesys-add", relesys_requests(first_op="add"), "update-relesys",
                 anchor="stateful-write",
                 description="update-relesys with its first operation an `add` (the documented example's)"),
        Workload("update-awork", awork_requests(), "baseline-write", anchor="stateful-write",
                 peer="httpmock-write",
                 description="PUT, 6 updatable users × 8 bodies"),
        Workload("update-replay", replay_requests(), "baseline-write", anchor="stateful-write",
                 peer="httpmock-write",
                 description="PATCH as the parent company, 5 users × 8 bodies"),
        Workload("get-activity", activity_requests("GET"), "baseline-read", anchor="stateful-read",
                 peer="httpmock-read"),
        Workload("get-relesys", relesys_requests("GET"), "baseline-read", anchor="stateful-read",
                 peer="httpmock-read"),
        Workload("get-awork", awork_requests("GET"), "baseline-read", anchor="stateful-read",
                 peer="httpmock-read"),
        Workload("get-replay", replay_requests("GET"), "baseline-read", anchor="stateful-read",
                 peer="httpmock-read"),
    ]
    if PEERS:
        # After the baselines, so that the report has their figures first.
        out[4:4] = [
            Workload("httpmock-read", activity_requests("GET"), "baseline-read",
                     server="httpmock",
                     description=f"httpmock {HTTPMOCK_VERSION} standalone: the activity GETs, "
                                 "usermock's answer to the first as its fixed answer"),
            Workload("httpmock-write", activity_requests(), "baseline-write", server="httpmock",
                     description=f"httpmock {HTTPMOCK_VERSION} standalone: the activity PATCHes, "
                                 "usermock's answer to the first as its fixed answer"),
        ]
    for vendor, requests in lists.items():
        out.append(Workload(f"list-{vendor}", requests, "baseline-read", optional=True,
                            description=f"{requests[0][0]} {requests[0][1]}"))
    out += [
        Workload("error-activity-404", activity_error_requests(), "baseline-write", expect=404,
                 description="PATCH with an unknown department → 404 invalid_department_ids"),
        Workload("sessions-1000", with_sessions(activity_requests(), 1000), "update-activity",
                 description="update-activity spread over X-Usermock-Session s-0…s-999"),
        Workload("scenario-nomatch", activity_requests(), "update-activity",
                 server_args=["--scenario", "relesys-rate-limited"],
                 description="update-activity with --scenario relesys-rate-limited (never matches)"),
    ]
    return out


PEER_MOCKS = os.path.join(OUT, "httpmock")
PEER_PROBE = None  # a request httpmock answers once it is ready
PEER_BODIES = {}   # workload name -> the fixed answer httpmock sends


def yaml_string(text):
    """A JSON string is a valid YAML double-quoted scalar."""
    return json.dumps(text, ensure_ascii=True)


def prepare_peers():
    """Writes httpmock's mock files: for the activity GET and PATCH route,
    usermock's own answer to the first request of each workload."""
    global PEER_PROBE
    os.makedirs(PEER_MOCKS, exist_ok=True)
    for name in os.listdir(PEER_MOCKS):
        os.remove(os.path.join(PEER_MOCKS, name))
    pattern = "^/activity/v2/clients/[^/]+/users/[^/]+$"
    server = Server("usermock")
    try:
        for workload, method, requests in (("httpmock-read", "GET", activity_requests("GET")),
                                           ("httpmock-write", "PATCH", activity_requests())):
            _, path, headers, body = requests[0]
            status, answer = server.request(method, path, headers, body)
            if status != 200:
                raise RuntimeError(f"usermock answered {status} to {method} {path}")
            text = answer.decode()
            PEER_BODIES[workload] = answer
            with open(os.path.join(PEER_MOCKS, f"{workload}.yaml"), "w", encoding="utf-8") as f:
                f.write("when:\n"
                        f"  method: {method}\n"
                        "  path_matches:\n"
                        f"    - '{pattern}'\n"
                        "then:\n"
                        "  status: 200\n"
                        "  header:\n"
                        "    - name: content-type\n"
                        "      value: application/json; charset=utf-8\n"
                        f"  body: {yaml_string(text)}\n")
            if method == "GET":
                PEER_PROBE = ("GET", path, headers, body)
    finally:
        server.stop()


def verify_peer(server, workload):
    """httpmock answers every distinct request with usermock's body."""
    for method, path, headers, body in workload.requests[:64]:
        status, answer = server.request(method, path, headers, body)
        if status != 200 or answer != PEER_BODIES.get(workload.name):
            return f"{method} {path} answered {status}: {answer[:200].decode(errors='replace')}"
    return None


def verify(server, workload):
    """Sends every distinct request once; returns None or what went wrong."""
    seen = set()
    for method, path, headers, body in workload.requests:
        key = (method, path, body, tuple(sorted(headers.items())))
        if key in seen or len(seen) >= 64:
            continue
        seen.add(key)
        status, answer = server.request(method, path, headers, body)
        if workload.optional and status == 404:
            return f"404: {path} is not served yet ({answer[:80].decode(errors='replace')})"
        if workload.expect == "2xx":
            ok = 200 <= status < 300
        else:
            ok = status == workload.expect and b"invalid_department_ids" in answer
        if not ok:
            return f"{method} {path} answered {status}: {answer[:200].decode(errors='replace')}"
    return None


# ------------------------------------------------------------------ wrk --

def wrk(url, request_file, seconds, connections=CONNECTIONS):
    cmd = LOAD_PIN + [
        "wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "5s",
        "-s", LUA, url, "--", request_file,
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH "):
            return {k: float(v) for k, v in (kv.split("=") for kv in line.split()[1:])}
    raise RuntimeError(f"wrk printed no summary: {done.stdout}\n{done.stderr}")


def timed_run(workload):
    server = Server(workload.server, workload.server_args, binary=workload.binary)
    try:
        wrk(server.url, workload.file, WARMUP)
        cpu_before = cpu_seconds(server.pid)
        result = wrk(server.url, workload.file, DURATION)
        cpu = cpu_seconds(server.pid) - cpu_before
        result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
        result["cpu_us_per_req"] = cpu * 1e6 / max(1, result["requests"])
        result["cpu_share"] = cpu / (result["duration_us"] / 1e6)
        result["hwm_kb"] = proc_status(server.pid, "VmHWM")
        result["errors"] = sum(result[k] for k in ("connect", "read", "write", "timeout"))
        return result
    finally:
        server.stop()


# ---------------------------------------------------------- cold start --

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cold_start(kind):
    """Spawn → first 200 on a real request, polling connect as fast as it goes."""
    port = free_port()
    if kind == "baseline":
        cmd, request = [BASELINE, f"127.0.0.1:{port}"], b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    else:
        user = load_fixture("activity")["users"][0]
        path = f"/activity/v2/clients/{user['client_id']}/users/{user['id']}"
        cmd = [USERMOCK, "--listen", f"127.0.0.1:{port}"]
        request = (f"GET {path} HTTP/1.1\r\nHost: x\r\n"
                   "Authorization: Bearer activity-admin\r\n\r\n").encode()
    started = time.perf_counter()
    proc = subprocess.Popen(SERVER_PIN + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - started < 10:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                    s.sendall(request)
                    if s.recv(64).startswith(b"HTTP/1.1 200"):
                        return time.perf_counter() - started
            except OSError:
                time.sleep(0.0002)
        raise RuntimeError(f"{kind} gave no 200 within 10 s")
    finally:
        proc.terminate()
        proc.wait()


# ------------------------------------------------------------- fixtures --

def fixture_load(count):
    folder = os.path.join(TARGET, "bench-fixtures", str(count))
    path = os.path.join(folder, "activity.json")
    if not os.path.exists(path):
        t = time.perf_counter()
        subprocess.run([sys.executable, os.path.join(ROOT, "bench", "gen_fixtures.py"),
                        str(count), folder], check=True, stdout=subprocess.DEVNULL)
        print(f"  generated {count} users in {time.perf_counter() - t:.1f} s", flush=True)
    size = os.path.getsize(path)
    runs = []
    for _ in range(RUNS if count < 1_000_000 else min(RUNS, 3)):
        if time.monotonic() > DEADLINE:
            break
        server = Server("usermock", ["--fixtures", folder], timeout=120)
        try:
            # The last generated user must be served.
            last = "%08x-%04x-4%03x-8%03x-%012x" % (
                count - 1, ((count - 1) >> 32) & 0xFFFF, (count - 1) % 0x1000,
                (count - 1) % 0x1000, count - 1)
            client = load_fixture("activity")["clients"][0]["id"]
            status, _ = server.request("GET", f"/activity/v2/clients/{client}/users/{last}",
                                       ACTIVITY_AUTH)
            runs.append({
                "load_s": server.ready_after,
                "rss_kb": proc_status(server.pid, "VmRSS"),
                "hwm_kb": proc_status(server.pid, "VmHWM"),
                "status": status,
            })
        finally:
            server.stop()
    return {"users": count, "file_bytes": size, "runs": runs}


def sessions_memory():
    """RSS growth after SESSIONS_WRITTEN sessions have each written a user."""
    folder = os.path.join(OUT, "requests")
    w = Workload("sessions-10k", with_sessions(activity_requests(), SESSIONS_WRITTEN), None)
    w.write(folder)
    server = Server("usermock")
    try:
        before = proc_status(server.pid, "VmRSS")
        for _ in range(10):
            wrk(server.url, w.file, 2)
            _, health = server.request("GET", "/__admin/health")
            sessions = json.loads(health)["sessions"]
            if sessions >= SESSIONS_WRITTEN:
                break
        return {"sessions": sessions, "rss_before_kb": before,
                "rss_after_kb": proc_status(server.pid, "VmRSS"),
                "hwm_kb": proc_status(server.pid, "VmHWM")}
    finally:
        server.stop()


# --------------------------------------------------------------- report --

def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt_ms(us):
    return "–" if us is None else f"{us / 1000:.2f}"


def report(results, all_workloads, cold, fixtures, sessions, meta):
    lines = []
    add = lines.append
    add(f"Run {meta['date']} on {meta['machine']['cpus']} × {meta['machine']['model']} "
        f"(caches: {meta['machine'].get('caches', 'unknown')}), "
        f"{meta['machine']['memory_mb']} MB, Linux {meta['machine']['kernel']}; "
        f"load average {meta['load_before']} before, {meta['load_after']} after.")
    add(f"wrk -t1 -c{CONNECTIONS}, {DURATION:g} s per run after {WARMUP:g} s warm-up, "
        f"median of {RUNS} runs (interleaved rounds, fresh server per run); "
        f"server pinned `{' '.join(SERVER_PIN) or 'not pinned'}`, wrk `{' '.join(LOAD_PIN) or 'not pinned'}`; "
        f"usermock log level: {LOG or 'default (info)'}.")
    add("")
    add("| workload | compared with | req/s | ratio | p50 ms | p99 ms | p99.9 ms | p99 ratio "
        "| server CPU µs/req | CPU ratio | peak RSS MB | req/s min–max | non-2xx | socket errors "
        "| req/s ÷ stateful | CPU ÷ stateful | req/s ÷ httpmock "
        "| req/s ÷ stateful, round by round: median (range) |")
    add("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    summary = {}
    for w in all_workloads:
        runs = results.get(w.name, [])
        if w.skipped:
            add(f"| {w.name} | | skipped: see notes | | | | | | | | | | | | | | | |")
            continue
        if not runs:
            add(f"| {w.name} | | no runs (time budget) | | | | | | | | | | | | | | | |")
            continue
        s = {k: med([r[k] for r in runs]) for k in
             ("rps", "p50_us", "p99_us", "p999_us", "cpu_us_per_req", "hwm_kb")}
        s["non2xx"] = sum(r["non2xx"] for r in runs)
        s["requests"] = sum(r["requests"] for r in runs)
        s["errors"] = sum(r["errors"] for r in runs)
        summary[w.name] = s
        base = summary.get(w.compare) if w.compare else None
        ratio = lambda k: f"{s[k] / base[k]:.2f}" if base and base.get(k) else "–"
        anchor = summary.get(w.anchor) if w.anchor else None
        anchored = lambda k: f"{s[k] / anchor[k]:.2f}" if anchor and anchor.get(k) else "–"
        peer = summary.get(w.peer) if w.peer else None
        peered = f"{s['rps'] / peer['rps']:.2f}" if peer and peer.get("rps") else "–"
        # Each run against the anchor's run of the same round: how far the
        # ratio moves between rounds shows what one median can settle.
        rounds = [r["rps"] / a["rps"] for r, a in zip(runs, results.get(w.anchor, []))
                  if a.get("rps")] if w.anchor else []
        by_round = (f"{med(rounds):.2f} ({min(rounds):.2f}–{max(rounds):.2f})"
                    if rounds else "–")
        non2xx = f"{s['non2xx']:.0f} of {s['requests']:.0f}"
        if w.expect != "2xx":
            non2xx += f" (all {w.expect} expected)"
        add(f"| {w.name} | {w.compare or '–'} | {s['rps']:,.0f} | {ratio('rps')} | "
            f"{fmt_ms(s['p50_us'])} | {fmt_ms(s['p99_us'])} | {fmt_ms(s['p999_us'])} | "
            f"{ratio('p99_us')} | {s['cpu_us_per_req']:.1f} | {ratio('cpu_us_per_req')} | "
            f"{s['hwm_kb'] / 1024:.1f} | "
            f"{min(r['rps'] for r in runs):,.0f}–{max(r['rps'] for r in runs):,.0f} | "
            f"{non2xx} | {s['errors']:.0f} | {anchored('rps')} | {anchored('cpu_us_per_req')} "
            f"| {peered} | {by_round} |")
    add("")
    if cold:
        b, u = med(cold.get("baseline", [])), med(cold.get("usermock", []))
        if b and u:
            add(f"Cold start (spawn → first 200, median of {len(cold['usermock'])}): "
                f"baseline {b * 1000:.1f} ms, usermock {u * 1000:.1f} ms, ratio {u / b:.2f}.")
            add("")
    if sessions:
        grew = (sessions["rss_after_kb"] - sessions["rss_before_kb"]) / 1024
        add(f"Written sessions: {sessions['sessions']:,} sessions each wrote an activity user; "
            f"RSS {sessions['rss_before_kb'] / 1024:.1f} MB → {sessions['rss_after_kb'] / 1024:.1f} MB "
            f"(+{grew:.1f} MB), peak {sessions['hwm_kb'] / 1024:.1f} MB.")
        add("")
    if fixtures:
        idle = meta["idle_rss_kb"] * 1024
        add(f"Fixture load (`--fixtures DIR` with a generated `activity.json`, other vendors "
            f"embedded; an idle server with the default fixtures has RSS {idle / 2**20:.1f} MB):")
        add("")
        add("| generated activity users | file MB | load s (spawn → listening) | RSS after load MB "
            "| peak RSS MB | RSS ÷ file | (RSS − idle default) ÷ file | peak ÷ file | last user GET |")
        add("|---|---|---|---|---|---|---|---|---|")
        for f in fixtures:
            if not f["runs"]:
                add(f"| {f['users']:,} | {f['file_bytes'] / 2**20:.0f} | no run (time budget) | | | | | | |")
                continue
            load_s = med([r["load_s"] for r in f["runs"]])
            rss = med([r["rss_kb"] for r in f["runs"]]) * 1024
            hwm = med([r["hwm_kb"] for r in f["runs"]]) * 1024
            add(f"| {f['users']:,} | {f['file_bytes'] / 2**20:.1f} | {load_s:.2f} | {rss / 2**20:.1f} "
                f"| {hwm / 2**20:.1f} | {rss / f['file_bytes']:.2f} | {(rss - idle) / f['file_bytes']:.2f} "
                f"| {hwm / f['file_bytes']:.2f} "
                f"| {', '.join(str(r['status']) for r in f['runs'])} |")
        add("")
    for n in NOTES:
        add(f"- {n}")
    return "\n".join(lines) + "\n"


def main():
    for binary in (USERMOCK, BASELINE, STATEFUL):
        if not os.access(binary, os.X_OK):
            sys.exit(f"bench: {binary} is missing; run bench/run (it builds it)")
    os.makedirs(os.path.join(OUT, "requests"), exist_ok=True)
    meta = {"date": datetime.date.today().isoformat(), "machine": machine(),
            "load_before": loadavg()}
    print(f"bench: {RUNS} runs × {DURATION:g} s, {CONNECTIONS} connections, "
          f"load average {meta['load_before']}", flush=True)

    all_workloads = workloads()
    if ONLY:
        unknown = sorted(set(ONLY) - {w.name for w in all_workloads})
        if unknown:
            sys.exit(f"bench: ONLY names unknown workloads: {', '.join(unknown)}")
        wanted = set(ONLY)
        for _ in range(2):  # what they compare with, and what that compares with
            wanted |= {c for w in all_workloads if w.name in wanted
                       for c in (w.compare, w.anchor, w.peer) if c}
        all_workloads = [w for w in all_workloads if w.name in wanted]
    for w in all_workloads:
        w.write(os.path.join(OUT, "requests"))
    if PEERS and any(w.server == "httpmock" for w in all_workloads):
        if not os.access(HTTPMOCK, os.X_OK):
            sys.exit(f"bench: PEERS=1 needs {HTTPMOCK}; run PEERS=1 bench/run (it installs it)")
        prepare_peers()
        for w in all_workloads:
            if w.server != "httpmock":
                continue
            server = Server("httpmock")
            try:
                problem = verify_peer(server, w)
            finally:
                server.stop()
            if problem:
                w.skipped = problem
                note(f"{w.name} NOT TIMED, httpmock does not answer as set up: {problem}")
    # Check every workload once against a fresh usermock before timing it.
    for w in all_workloads:
        if w.server != "usermock":
            continue
        server = Server("usermock", w.server_args)
        try:
            problem = verify(server, w)
        finally:
            server.stop()
        if problem:
            w.skipped = problem
            if w.optional:
                note(f"{w.name} skipped (optional workload): {problem}")
            else:
                note(f"{w.name} NOT TIMED, its requests fail: {problem}")
    timed = [w for w in all_workloads if not w.skipped]
    # Each entry is a group run back to back: a workload alone, or with
    # COMPARE_BIN a usermock workload and its "@B" twin, whose order flips
    # every round. A drift within a round (the VM's neighbours, the CPU's
    # clock) then falls on both binaries alike instead of on whichever ran
    # later, and the time budget never splits a pair.
    groups = []
    for w in timed:
        if COMPARE_BIN and w.server == "usermock":
            b = copy.copy(w)
            b.name, b.binary, b.compare = f"{w.name}@B", COMPARE_BIN, w.name
            all_workloads.append(b)
            groups.append((w, b))
        else:
            groups.append((w,))

    results = {}
    for round_ in range(RUNS):
        for group in groups:
            if time.monotonic() > DEADLINE:
                note(f"time budget ({MAX_SECONDS:.0f} s) reached in round {round_ + 1}")
                break
            for w in (group if round_ % 2 == 0 else group[::-1]):
                r = timed_run(w)
                results.setdefault(w.name, []).append(r)
                print(f"  round {round_ + 1} {w.name:22} {r['rps']:9,.0f} req/s  "
                      f"p99 {r['p99_us'] / 1000:6.2f} ms  cpu {r['cpu_us_per_req']:6.1f} µs/req  "
                      f"non-2xx {r['non2xx']:.0f}  errors {r['errors']:.0f}", flush=True)

    cold = {}
    for _ in range(0 if ONLY else COLD_RUNS):
        for kind in ("baseline", "usermock"):
            cold.setdefault(kind, []).append(cold_start(kind))
    if cold:
        print(f"  cold start: baseline {med(cold['baseline']) * 1000:.1f} ms, "
              f"usermock {med(cold['usermock']) * 1000:.1f} ms", flush=True)

    sessions = None
    if time.monotonic() < DEADLINE and not ONLY:
        sessions = sessions_memory()
        print(f"  sessions: {sessions}", flush=True)

    fixtures = []
    idle = Server("usermock")
    try:
        idle_rss = proc_status(idle.pid, "VmRSS")
    finally:
        idle.stop()
    meta["idle_rss_kb"] = idle_rss
    for count in [] if ONLY else FIXTURE_SIZES:
        if time.monotonic() > DEADLINE:
            note(f"fixture load of {count:,} users skipped: time budget reached")
            continue
        f = fixture_load(count)
        fixtures.append(f)
        print(f"  fixtures {count:,}: {f['runs']}", flush=True)

    meta["load_after"] = loadavg()
    meta["seconds"] = round(time.monotonic() - STARTED)
    text = report(results, all_workloads, cold, fixtures, sessions, meta)
    with open(os.path.join(OUT, "results.md"), "w", encoding="utf-8") as f:
        f.write(text)
    with open(os.path.join(OUT, "results.json"), "w", encoding="utf-8") as f:
        json.dump({"meta": meta, "results": results, "cold": cold, "fixtures": fixtures,
                   "sessions": sessions, "notes": NOTES}, f, indent=1)
    print()
    print(text)
    print(f"bench: done in {meta['seconds']} s; results in {OUT}/results.md and results.json")


if __name__ == "__main__":
    if sys.argv[1:2] == ["requests"] and len(sys.argv) == 3:
        # bench/profile: only write the wrk request files.
        os.makedirs(sys.argv[2], exist_ok=True)
        for w in workloads():
            w.write(sys.argv[2])
    elif len(sys.argv) > 1:
        sys.exit("usage: bench.py | bench.py requests DIR")
    else:
        main()
