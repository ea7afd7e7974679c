"""The pytest plugin against the real usermock binary: a server for the
run, a session per test, reset, scenarios and verification."""

import pytest

from usermock_pytest import Usermock, UsermockError

CLIENT = "aa7cf840-9ca9-46a3-9778-9015d6580d50"
USER = "a1d97031-04e2-4907-a249-093f7436207b"
ENGINEERING = "d1a2b3c4-e5f6-7890-abcd-ef1234567890"


def user_path(usermock):
    base = usermock.api_base("activity")
    return base[len(usermock.base_url):] + f"/clients/{CLIENT}/users/{USER}"


def test_the_base_url_a_client_gets_is_the_readmes(usermock):
    assert usermock.api_base("relesys") == usermock.base_url + "/relesys/api/v1.3"
    assert usermock.api_base("activity") == usermock.base_url + "/activity/v2"
    with pytest.raises(UsermockError, match="no vendor named 'nope'"):
        usermock.api_base("nope")


def test_a_write_in_one_session_is_not_seen_by_another(usermock, usermock_session):
    auth = {"Authorization": "Bearer activity-admin"}
    answer = usermock_session.request("PATCH", user_path(usermock), {"departments": []}, auth)
    assert answer.status == 200, answer.body
    assert answer.json()["departments"] == []

    other = usermock.session()
    seen = other.request("GET", user_path(usermock), headers=auth).json()
    assert [d["id"] for d in seen["departments"]] != []
    mine = usermock_session.request("GET", user_path(usermock), headers=auth).json()
    assert mine["departments"] == []


def test_reset_puts_the_session_back_to_the_fixture(usermock, usermock_session):
    auth = {"Authorization": "Bearer activity-admin"}
    usermock_session.request("PATCH", user_path(usermock), {"departments": []}, auth)
    usermock_session.reset()
    after = usermock_session.request("GET", user_path(usermock), headers=auth).json()
    assert ENGINEERING in [d["id"] for d in after["departments"]]


def test_a_scenario_activated_for_the_session_answers_its_requests(usermock, usermock_session):
    usermock_session.activate("activity-user-not-found")
    answer = usermock_session.request(
        "GET", user_path(usermock), headers={"Authorization": "Bearer activity-admin"}
    )
    assert answer.status == 404
    with pytest.raises(UsermockError, match="no scenario is named 'activity-nope'"):
        usermock_session.activate("activity-nope")


def test_expectations_count_the_sessions_requests(usermock, usermock_session):
    auth = {"Authorization": "Bearer activity-admin"}
    usermock_session.request("PATCH", user_path(usermock), {"departments": [ENGINEERING]}, auth)
    usermock_session.expect(1, vendor="activity", method="PATCH")
    assert usermock_session.count(vendor="activity", method="GET") == 0
    sent = usermock_session.requests(vendor="activity", method="PATCH")
    assert sent[0]["json"] == {"departments": [ENGINEERING]}
    with pytest.raises(AssertionError, match=r"expected 2 request\(s\)"):
        usermock_session.expect(2, vendor="activity", method="PATCH")


def test_a_server_with_an_admin_token_is_driven_with_it():
    with Usermock(admin_token="s3cret") as server:
        session = server.session()
        session.reset()
        assert server.request("GET", "/__admin/health").status == 401
        assert server.admin("GET", "/__admin/health").json()["status"] == "ok"


def test_a_bad_fixture_folder_fails_with_usermocks_own_message(tmp_path):
    (tmp_path / "activity.json").write_text("{ nope")
    with pytest.raises(UsermockError, match="activity.json"):
        Usermock(args=("--fixtures", str(tmp_path)))
