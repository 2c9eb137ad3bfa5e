"""Issue 9 item 10: a per-operator daily invite quota. Past it → 429 with Retry-After and nothing queued."""

import concurrent.futures
import datetime as dt
import uuid

import pytest
from sqlalchemy import text

from devstack.client import Gateway

QUOTA = 5


@pytest.fixture(scope="module", autouse=True)
def projects_with_a_tiny_invite_quota(stack):
    """The stack's projects service restarted with INVITE_DAILY_QUOTA=5 for this module, then as it was."""
    stack.stop_service("projects")
    stack.env["INVITE_DAILY_QUOTA"] = str(QUOTA)
    try:
        stack.start_service("projects")
        yield QUOTA
    finally:
        stack.stop_service("projects")
        del stack.env["INVITE_DAILY_QUOTA"]
        stack.start_service("projects")


def _emails(n):
    run = uuid.uuid4().hex[:8]
    return [f"q{i}-{run}@example.com" for i in range(n)]


def _bulk(gw, owner, project_id, emails):
    return gw.post(f"/v1/projects/{project_id}/invites/bulk", token=owner.token, json={"emails": emails})


def _invites(databases, project_id):
    with databases["projects"].connect() as connection:
        return connection.execute(
            text("SELECT count(*) FROM invites WHERE project_id = :p"), {"p": project_id}
        ).scalar()


def _assert_nothing_queued_for(stack, databases, emails):
    """No invite, no outbox row, no email for these addresses (the worker deletes an outbox row once sent,
    so the sink's messages count too)."""
    with databases["projects"].connect() as connection:
        assert (
            connection.execute(text("SELECT count(*) FROM invites WHERE email = ANY(:e)"), {"e": emails}).scalar() == 0
        )
        assert (
            connection.execute(
                text("SELECT count(*) FROM outbox WHERE kind = 'email.invite' AND payload->>'to' = ANY(:e)"),
                {"e": emails},
            ).scalar()
            == 0
        )
    assert not [message for message in stack.mail.messages if message["To"] in emails]


def _seconds_to_utc_midnight():
    now = dt.datetime.now(dt.UTC)
    return (dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), dt.UTC) - now).total_seconds()


def _assert_refused(response, left, asked):
    assert response.status_code == 429
    assert response.json() == {
        "code": 429,
        "status": "Too Many Requests",
        "errors": {},
        "message": f"The daily invite quota is {QUOTA} invites (UTC day); {left} left today, "
        f"and this request would queue {asked}. Nothing was queued.",
    }
    assert abs(int(response.headers["Retry-After"]) - _seconds_to_utc_midnight()) <= 5


class TestInviteQuota:
    def test_a_request_that_would_pass_the_quota_is_refused_whole(
        self, gw, stack, databases, operator, project, wait_for
    ):
        sent = _emails(3)
        assert _bulk(gw, operator, project["id"], sent).json() == {"queued": 3, "skipped": 0}
        refused = _emails(3)
        _assert_refused(_bulk(gw, operator, project["id"], refused), left=2, asked=3)
        assert _invites(databases, project["id"]) == 3
        assert _bulk(gw, operator, project["id"], _emails(2)).json() == {"queued": 2, "skipped": 0}
        refused += _emails(1)
        _assert_refused(_bulk(gw, operator, project["id"], refused[3:]), left=0, asked=1)
        assert _invites(databases, project["id"]) == 5
        # The accepted ones are delivered; by then anything queued for the refused ones would have been too.
        assert wait_for(lambda: {m["To"] for m in stack.mail.messages} >= set(sent))
        _assert_nothing_queued_for(stack, databases, refused)

    def test_only_what_is_queued_counts(self, gw, databases, operator, project):
        emails = _emails(QUOTA)
        assert _bulk(gw, operator, project["id"], emails + emails[:2]).json() == {"queued": QUOTA, "skipped": 2}
        # Everything skipped queues nothing, so it passes at the quota.
        assert _bulk(gw, operator, project["id"], emails).json() == {"queued": 0, "skipped": QUOTA}
        _assert_refused(_bulk(gw, operator, project["id"], emails + _emails(1)), left=0, asked=1)

    def test_per_operator_over_all_its_projects(self, gw, databases, operator, other_operator, new_project):
        first, second = new_project(operator), new_project(operator)
        assert _bulk(gw, operator, first["id"], _emails(4)).status_code == 202
        _assert_refused(_bulk(gw, operator, second["id"], _emails(2)), left=1, asked=2)
        assert _invites(databases, second["id"]) == 0
        theirs = new_project(other_operator)
        assert _bulk(gw, other_operator, theirs["id"], _emails(QUOTA)).json() == {"queued": QUOTA, "skipped": 0}

    def test_deleting_a_project_does_not_give_its_invites_back(self, gw, operator, new_project):
        first, second = new_project(operator), new_project(operator)
        assert _bulk(gw, operator, first["id"], _emails(QUOTA)).status_code == 202
        assert gw.delete(f"/v1/projects/{first['id']}", token=operator.token).status_code == 204
        _assert_refused(_bulk(gw, operator, second["id"], _emails(1)), left=0, asked=1)

    def test_a_new_utc_day_starts_again(self, gw, databases, operator, project):
        assert _bulk(gw, operator, project["id"], _emails(QUOTA)).status_code == 202
        assert _bulk(gw, operator, project["id"], _emails(1)).status_code == 429
        with databases["projects"].begin() as connection:  # the count was yesterday's
            connection.execute(
                text("UPDATE invite_quotas SET day = day - 1 WHERE operator_id = :o"), {"o": operator.id}
            )
        assert _bulk(gw, operator, project["id"], _emails(QUOTA)).json() == {"queued": QUOTA, "skipped": 0}
        assert _invites(databases, project["id"]) == 2 * QUOTA

    def test_concurrent_requests_never_pass_the_quota_together(self, stack, databases, operator, new_project):
        targets = [new_project(operator) for _ in range(4)]  # different projects: no project lock in the way
        requests_ = [(project["id"], _emails(2)) for project in targets for _ in range(2)]  # 16 asked, 5 allowed

        def send(job):
            return _bulk(Gateway(stack.gateway_url), operator, *job)

        with concurrent.futures.ThreadPoolExecutor(len(requests_)) as pool:
            responses = list(pool.map(send, requests_))
        assert sorted(response.status_code for response in responses) == [202, 202] + [429] * 6
        assert sum(_invites(databases, project["id"]) for project in targets) == 4
        _assert_nothing_queued_for(
            stack,
            databases,
            [
                email
                for (_, emails), response in zip(requests_, responses, strict=True)
                if response.status_code == 429
                for email in emails
            ],
        )
        with databases["projects"].connect() as connection:
            assert (
                connection.execute(
                    text("SELECT invites FROM invite_quotas WHERE operator_id = :o"), {"o": operator.id}
                ).scalar()
                == 4
            )

    def test_tenancy_and_roles_still_come_first(self, gw, operator, other_operator, photographer, project):
        assert _bulk(gw, operator, project["id"], _emails(QUOTA)).status_code == 202
        assert _bulk(gw, other_operator, project["id"], _emails(1)).status_code == 404
        assert _bulk(gw, photographer, project["id"], _emails(1)).status_code == 403
        assert _bulk(gw, operator, str(uuid.uuid4()), _emails(1)).status_code == 404
