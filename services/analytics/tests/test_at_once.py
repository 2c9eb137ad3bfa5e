"""Peer calls side by side (analytics_service.clients.at_once): answers in order, the request id carried into the
pool's thread, every failure raised."""

import threading
import time

import pytest
from flask import Flask, g

from analytics_service.clients.at_once import AtOnce


def test_answers_in_order_and_really_at_once():
    at_once = AtOnce(threads=2)
    both_started = threading.Barrier(2, timeout=5)  # fails unless the two calls run at the same time

    def call(answer):
        both_started.wait()
        return answer

    assert at_once(lambda: call("first"), lambda: call("second")) == ("first", "second")


def test_the_request_id_goes_with_the_call():
    app = Flask(__name__)
    at_once = AtOnce(threads=1)
    with app.test_request_context():
        g.request_id = "req-42"
        seen = at_once(lambda: g.request_id, lambda: (threading.current_thread().name, g.request_id))
    assert seen[0] == "req-42"
    assert seen[1][0].startswith("at-once") and seen[1][1] == "req-42"


@pytest.mark.parametrize("failing", ["first", "second"])
def test_a_failure_is_raised_after_the_other_call_finished(failing):
    at_once = AtOnce(threads=1)
    finished = []

    def slow_ok():
        time.sleep(0.05)
        finished.append(1)
        return "ok"

    def boom():
        raise RuntimeError("peer down")

    calls = (boom, slow_ok) if failing == "first" else (slow_ok, boom)
    with pytest.raises(RuntimeError, match="peer down"):
        at_once(*calls)
    assert finished == [1]
