"""The one clock. Views read it once per request and hand ``now`` to the rules, which never read a clock
themselves: a rule's answer then depends only on its arguments, and tests pass the moment they need."""

from __future__ import annotations

import datetime as dt


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
