"""Peer calls made side by side: the figures' two sources are asked at once, in threads of a small pool."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from flask import copy_current_request_context, g, has_request_context


class AtOnce:
    """``at_once(first, second, …)``: every call's answer, in order; the first runs in the calling thread, the others
    in the pool, each in a copy of the request's context (with its request id, which internal calls forward). A
    call's exception is raised here (the first one's first); the others still finish, as nothing can cancel an HTTP
    call already sent. One pool per worker process, made with the app (gunicorn forks before it)."""

    def __init__(self, threads: int):
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="at-once")

    def __call__(self, first: Callable, *others: Callable) -> tuple:
        futures = [self._pool.submit(_in_this_request(call)) for call in others]
        try:
            answers = [first()]
        finally:
            done = [future.exception() for future in futures]  # waits for every one, whatever happened here
        for error in done:
            if error is not None:
                raise error
        return (*answers, *(future.result() for future in futures))


def _in_this_request(call: Callable) -> Callable:
    if not has_request_context():
        return call
    request_id = g.get("request_id")

    @copy_current_request_context
    def run():
        # A copied request context comes with an app context, and so a ``g``, of its own.
        if request_id is not None:
            g.request_id = request_id
        return call()

    return run
