"""Invite emails are never lost: SMTP outages and a worker killed mid-batch (design §5)."""

import signal
import uuid

from sqlalchemy import text


def _emails(n):
    run = uuid.uuid4().hex[:8]
    return [f"bulk{i}-{run}@example.com" for i in range(n)]


def _arrived(stack, emails):
    wanted = set(emails)
    return {message["To"] for message in stack.mail.messages if message["To"] in wanted}


def _pending_emails(databases):
    with databases["projects"].connect() as connection:
        return connection.execute(text("SELECT count(*) FROM outbox WHERE kind = 'email.invite'")).scalar()


def test_smtp_down_then_up_delivers_all_500(gw, stack, databases, wait_for, operator, project):
    emails = _emails(500)
    stack.smtp_proxy.refuse()
    try:
        response = gw.post(f"/v1/projects/{project['id']}/invites/bulk", token=operator.token, json={"emails": emails})
        assert response.status_code == 202 and response.json() == {"queued": 500, "skipped": 0}
        assert wait_for(lambda: _attempted(databases), timeout=15)
        assert _arrived(stack, emails) == set()
    finally:
        stack.smtp_proxy.restore()
    assert wait_for(lambda: _arrived(stack, emails) == set(emails), timeout=60)
    assert wait_for(lambda: _pending_emails(databases) == 0)


def _attempted(databases):
    with databases["projects"].connect() as connection:
        return (
            connection.execute(
                text("SELECT count(*) FROM outbox WHERE kind = 'email.invite' AND attempts > 0")
            ).scalar()
            > 0
        )


def test_worker_killed_mid_batch_loses_nothing(gw, stack, databases, wait_for, operator, project):
    emails = _emails(120)
    stack.smtp_proxy.blackhole()  # SMTP accepts the connection and never answers: the worker hangs mid-batch
    try:
        assert (
            gw.post(
                f"/v1/projects/{project['id']}/invites/bulk", token=operator.token, json={"emails": emails}
            ).status_code
            == 202
        )

        def claimed():
            with databases["projects"].connect() as connection:
                return (
                    connection.execute(
                        text(
                            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                            "WHERE c.relname = 'outbox' AND l.mode = 'RowShareLock'"
                        )
                    ).scalar()
                    > 0
                )

        assert wait_for(claimed, timeout=10)
        stack.stop_service("projects-worker", sig=signal.SIGKILL)
        assert _pending_emails(databases) >= 120 - len(_arrived(stack, emails))
    finally:
        stack.smtp_proxy.restore()
        stack.start_worker("projects-worker")
    assert wait_for(lambda: _arrived(stack, emails) == set(emails), timeout=60)
    assert wait_for(lambda: _pending_emails(databases) == 0)


def test_two_workers_send_each_message_once(gw, stack, databases, wait_for, operator, project):
    emails = _emails(200)
    stack.start_worker("projects-worker", name="projects-worker-2")
    try:
        assert (
            gw.post(
                f"/v1/projects/{project['id']}/invites/bulk", token=operator.token, json={"emails": emails}
            ).status_code
            == 202
        )
        assert wait_for(lambda: _pending_emails(databases) == 0, timeout=60)
    finally:
        stack.stop_service("projects-worker-2")
    received = [message["To"] for message in stack.mail.messages if message["To"] in set(emails)]
    assert sorted(received) == sorted(emails)  # every one arrived, none twice
