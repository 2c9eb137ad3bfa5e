from typing import Annotated

from marshmallow.validate import Range

from backoffice_common.config import POSITIVE, CommonSettings


class Settings(CommonSettings):
    service_name: str = "webhooks"
    database_url: str = "postgresql+psycopg2://postgres@127.0.0.1:5433/webhooks"

    # The delivery worker (worker.py). Threads sending at once, and how many of them one operator's deliveries (or
    # one endpoint's) may hold: a dead or slow endpoint waits on its own share, never on everyone's.
    webhook_concurrency: Annotated[int, Range(min=1, max=256)] = 32
    webhook_operator_concurrency: Annotated[int, Range(min=1)] = 8
    webhook_endpoint_concurrency: Annotated[int, Range(min=1)] = 4
    # Slow endpoints (an attempt of theirs ran past this: a black hole, a trickling receiver) share at most this many
    # threads in all, so fast receivers always have the rest.
    webhook_slow_attempt_s: Annotated[float, POSITIVE] = 2.0
    webhook_slow_concurrency: Annotated[int, Range(min=1)] = 16
    # How often the worker looks for due deliveries when it has nothing to do (fact → receiver latency).
    webhook_poll_s: Annotated[float, POSITIVE] = 0.2
    # Retries: exponential with full jitter (a random delay up to base·2^(n-1), capped), for at least the retry
    # window after the event; the first failure after it marks the delivery failed.
    webhook_backoff_base_s: Annotated[float, POSITIVE] = 10.0
    webhook_backoff_max_s: Annotated[float, POSITIVE] = 3600.0
    webhook_retry_window_s: Annotated[float, POSITIVE] = 24 * 3600.0
    # One attempt: connect within this, the whole answer within the total (then it is a timeout).
    webhook_connect_timeout_s: Annotated[float, POSITIVE] = 3.0
    webhook_timeout_s: Annotated[float, POSITIVE] = 10.0
