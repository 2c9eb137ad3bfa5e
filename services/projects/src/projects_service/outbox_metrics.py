"""The outbox for Prometheus, read when it scrapes: messages waiting and the oldest one's age, per kind. A growing
age means the worker is down or a kind keeps failing (SMTP cut, say): the message is retried, never lost."""

from __future__ import annotations

from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

from backoffice_common import webhook_events
from backoffice_common.db import db
from projects_service.models import OutboxMessage

# Every kind the worker handles is reported, at 0 when none waits (worker.handlers_for).
KINDS = ("email.invite", "r2.delete_objects", "commerce.project_deleted", webhook_events.OUTBOX_KIND)
_BY_KIND = select(
    OutboxMessage.kind, func.count(), func.extract("epoch", func.now() - func.min(OutboxMessage.created_at))
).group_by(OutboxMessage.kind)


def collect():
    depth = GaugeMetricFamily("outbox_messages", "Outbox messages waiting, by kind.", labels=["kind"])
    age = GaugeMetricFamily(
        "outbox_oldest_message_age_seconds", "Age of the oldest waiting message (0 when none).", labels=["kind"]
    )
    rows = {kind: (0, 0.0) for kind in KINDS}
    rows.update({kind: (count, float(oldest)) for kind, count, oldest in db.read_all(_BY_KIND)})
    for kind, (count, oldest) in rows.items():
        depth.add_metric([kind], count)
        age.add_metric([kind], oldest)
    yield depth
    yield age
