"""Local orchestration of the back office (dev, tests, benchmarks). Never imported by a service."""
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[4]
SERVICES = ("auth", "projects", "commerce", "analytics")
# Background workers: name → (the service whose settings they use, module to run).
WORKERS = {"projects-worker": ("projects", "projects_service.worker"),
           "commerce-worker": ("commerce", "commerce_service.worker")}


def free_port() -> int:
    """A TCP port nobody listens on right now (tests pick theirs so they never meet `make run`)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
