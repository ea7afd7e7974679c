"""Start usermock and drive its admin API (see docs/admin-api.md)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any, Optional

SESSION_HEADER = "X-Usermock-Session"
LISTENING = "usermock listening on "


class UsermockError(Exception):
    """usermock did not start, or an admin call was refused."""


@dataclass
class Answer:
    status: int
    headers: dict
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8")) if self.body else None


def _binary(path: Optional[str]) -> str:
    found = path or os.environ.get("USERMOCK_BIN") or shutil.which("usermock")
    if not found:
        raise UsermockError(
            "no usermock binary: put it on PATH or set USERMOCK_BIN "
            "(a release binary: see the README's Install section)"
        )
    return found


class Usermock:
    """A running usermock process, started on a free loopback port.

    Use it as a context manager, or call `stop()`. `base_url` is the server's
    root; `api_base(vendor)` is the base URL a client of that vendor gets.
    """

    def __init__(
        self,
        binary: Optional[str] = None,
        args: tuple = (),
        env: Optional[dict] = None,
        admin_token: Optional[str] = None,
        start_timeout: float = 15.0,
    ) -> None:
        command = [_binary(binary), "--listen", "127.0.0.1:0", *args]
        if admin_token:
            command += ["--admin-token", admin_token]
        self.admin_token = admin_token
        self._stderr: list = []
        self._process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, **(env or {})},
            text=True,
        )
        line = self._first_line(start_timeout)
        if not line.startswith(LISTENING):
            self.stop()
            raise UsermockError(
                f"usermock did not start: {line!r}\n{''.join(self._stderr)}"
            )
        self.base_url = line[len(LISTENING):].strip()
        threading.Thread(target=self._drain, daemon=True).start()

    def _first_line(self, timeout: float) -> str:
        result: list = []
        reader = threading.Thread(
            target=lambda: result.append(self._process.stdout.readline()), daemon=True
        )
        reader.start()
        reader.join(timeout)
        if not result:
            self.stop()
            raise UsermockError(f"usermock printed no listening line within {timeout} s")
        if not result[0]:
            self._stderr.append(self._process.stderr.read())
        return result[0]

    def _drain(self) -> None:
        for line in self._process.stderr:
            self._stderr.append(line)

    @property
    def stderr(self) -> str:
        return "".join(self._stderr)

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def __enter__(self) -> "Usermock":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- the admin API, for everyone or one session ------------------------

    def session(self, name: Optional[str] = None) -> "UsermockSession":
        """A view of this server for one `X-Usermock-Session` (own state,
        journal, scenarios and clock): parallel tests never meet."""
        return UsermockSession(self, name or f"pytest-{uuid.uuid4()}")

    def api_base(self, vendor: str) -> str:
        """The base URL a client of `vendor` is given in place of the
        vendor's real one, e.g. `http://127.0.0.1:PORT/relesys/api/v1.3`
        (the `api_bases` of GET /__admin/health)."""
        bases = self.admin("GET", "/__admin/health").json()["api_bases"]
        if vendor not in bases:
            raise UsermockError(f"no vendor named {vendor!r} (known: {', '.join(sorted(bases))})")
        return self.base_url + bases[vendor]

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: Optional[dict] = None,
    ) -> Answer:
        """One HTTP request to the server (any route); JSON bodies."""
        data = None
        all_headers = dict(headers or {})
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            all_headers.setdefault("Content-Type", "application/json")
        request = urllib.request.Request(
            self.base_url + path, data=data, method=method, headers=all_headers
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return Answer(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as err:
            return Answer(err.code, dict(err.headers), err.read())

    def admin(
        self,
        method: str,
        path: str,
        body: Any = None,
        session: Optional[str] = None,
        expect: tuple = (200, 201),
    ) -> Answer:
        headers = {}
        if session:
            headers[SESSION_HEADER] = session
        if self.admin_token:
            headers["Authorization"] = f"Bearer {self.admin_token}"
        if method != "GET" and body is None:
            body = {}
        answer = self.request(method, path, body, headers)
        if answer.status not in expect:
            raise UsermockError(
                f"{method} {path} answered {answer.status}: {answer.body.decode('utf-8', 'replace')}"
            )
        return answer


@dataclass
class UsermockSession:
    """One test's view of a shared server: every call carries its session."""

    server: Usermock
    name: str
    _activated: list = field(default_factory=list)

    @property
    def headers(self) -> dict:
        """Send these with every vendor request of the test."""
        return {SESSION_HEADER: self.name}

    def api_base(self, vendor: str) -> str:
        return self.server.api_base(vendor)

    def request(self, method: str, path: str, body: Any = None, headers: Optional[dict] = None) -> Answer:
        return self.server.request(method, path, body, {**self.headers, **(headers or {})})

    def reset(self) -> None:
        self.server.admin("POST", "/__admin/reset", session=self.name)

    def activate(self, scenario: str) -> None:
        """Turn a scenario on for this session only."""
        answer = self.server.admin(
            "POST",
            f"/__admin/scenarios/{urllib.parse.quote(scenario, safe='')}/activate",
            session=self.name,
            expect=(200, 404),
        )
        if answer.status == 404:
            raise UsermockError(f"no scenario is named {scenario!r}: {answer.json()}")

    def _all_pages(self, method: str, path: str, body: Any = None, query: str = "") -> list:
        """Every page of a journal listing: the server answers at most 1000
        entries a call and says in `next_after` where the next page starts."""
        entries: list = []
        after = None
        while True:
            page = f"{path}?{query}&limit=1000" if query else f"{path}?limit=1000"
            if after is not None:
                page += f"&after={after}"
            answer = self.server.admin(method, page, body=body, session=self.name).json()
            entries.extend(answer["requests"])
            following = answer.get("next_after")
            if following is None or (after is not None and following <= after):
                return entries
            after = following

    def requests(self, **matcher: Any) -> list:
        """The journal entries of this session a matcher matches (the
        vocabulary of a scenario rule's `match`: vendor, method, path, ...)."""
        return self._all_pages("POST", "/__admin/requests/find", body=matcher)

    def count(self, **matcher: Any) -> int:
        answer = self.server.admin(
            "POST", "/__admin/requests/count", body=matcher, session=self.name
        )
        return answer.json()["count"]

    def expect(self, times: int, **matcher: Any) -> None:
        """Asserts that exactly `times` requests of this session matched."""
        found = self.requests(**matcher)
        if len(found) != times:
            seen = [f"{r.get('method')} {r.get('path')} -> {r.get('status')}" for r in found]
            raise AssertionError(
                f"expected {times} request(s) matching {matcher}, found {len(found)}: {seen}"
            )

    def noted(self) -> list:
        """Journal entries whose answer relied on a rule usermock inferred
        (see the `notes` of docs/admin-api.md)."""
        return self._all_pages("GET", "/__admin/requests", query="noted=true")


def start(**kwargs: Any) -> Usermock:
    return Usermock(**kwargs)
