"""The delivery worker's bookkeeping: which endpoints count as slow, and how many threads they hold."""

import uuid

from webhooks_service.worker import slow_sends


def test_slow_endpoints_are_those_with_a_long_send_or_a_slow_last_attempt():
    hanging, remembered, fast = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    sending = {
        1: (hanging, 100.0),  # running for 5 s
        2: (hanging, 104.0),  # just started, but its endpoint is slow
        3: (fast, 104.5),
        4: (remembered, 104.9),
    }
    slow, in_flight = slow_sends(sending, {remembered}, now=105.0, slow_s=2.0)
    assert slow == {hanging, remembered}
    assert in_flight == 3
    assert slow_sends({3: (fast, 104.5)}, set(), now=105.0, slow_s=2.0) == (set(), 0)
