"""Local orchestration of the back office (dev, tests, benchmarks). Never imported by a service."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[4]
SERVICES = ("auth", "projects", "commerce", "analytics", "webhooks")
# Background workers: name → (the service whose settings they use, module to run).
WORKERS = {
    "projects-worker": ("projects", "projects_service.worker"),
    "commerce-worker": ("commerce", "commerce_service.worker"),
    "webhooks-worker": ("webhooks", "webhooks_service.worker"),
}


_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A TCP port nobody listens on right now (tests pick theirs so they never meet `make run`).

    Drawn below Linux's ephemeral range (32768+), which the kernel hands out as the source port of
    outgoing connections: a port taken from there can be in use by a client by the time a server binds it.
    """
    import random
    import socket

    for _ in range(200):
        port = random.randrange(20000, 32000)  # noqa: S311 - a port to try, not a secret
        if port in _HANDED_OUT:  # not listening yet, but promised to another part of this process
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            _HANDED_OUT.add(port)
            return port
    raise RuntimeError("no free TCP port between 20000 and 32000")
