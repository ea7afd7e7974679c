"""The pytest plugin: `usermock` (one server for the test run) and
`usermock_session` (a fresh X-Usermock-Session per test, reset after it).

Options: `--usermock-bin PATH` (else USERMOCK_BIN, else PATH) and
`--usermock-arg ARG` (repeatable: extra server arguments, e.g.
`--usermock-arg=--fixtures=tests/fixtures`).
"""

from __future__ import annotations

import pytest

from .server import Usermock


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("usermock")
    group.addoption("--usermock-bin", default=None, help="the usermock binary (default: USERMOCK_BIN, then PATH)")
    group.addoption(
        "--usermock-arg",
        action="append",
        default=[],
        help="an extra argument for the usermock server (repeatable)",
    )


@pytest.fixture(scope="session")
def usermock(request: pytest.FixtureRequest):
    """One usermock for the whole test run, stopped at its end."""
    server = Usermock(
        binary=request.config.getoption("--usermock-bin"),
        args=tuple(request.config.getoption("--usermock-arg")),
    )
    yield server
    server.stop()


@pytest.fixture
def usermock_session(usermock: Usermock):
    """This test's own state, journal and scenarios on the shared server."""
    session = usermock.session()
    yield session
    session.reset()
