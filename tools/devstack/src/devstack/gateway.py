"""Render the gateway's nginx templates (the same files Docker renders with envsubst) and run nginx."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from devstack import REPO_ROOT

TEMPLATE_DIR = REPO_ROOT / "gateway"
_VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)\}")

DEFAULTS = {
    "GATEWAY_WORKERS": "auto",
    "GATEWAY_MAX_BODY": "1m",
    "GATEWAY_ACCESS_LOG": "off",
    "AUTH_RATE_LIMIT": "5r/s",
    "AUTH_RATE_BURST": "10",
    "GATEWAY_TRUSTED_PROXIES": "",
}


def render(out_dir: Path, variables: dict[str, str]) -> Path:
    """Write the rendered config under ``out_dir``; returns the main nginx.conf path.

    Like envsubst with an explicit variable list: only ``${NAME}`` is replaced,
    nginx's own ``$name`` is untouched, and a missing variable is an error.
    """
    values = {**DEFAULTS, **variables}
    if "GATEWAY_DOCS_DIR" not in values:  # built afresh each time: the routes may have changed since the last run
        values["GATEWAY_DOCS_DIR"] = str(out_dir / "apidoc")
        build_api_document(out_dir / "apidoc")
    out_dir.mkdir(parents=True, exist_ok=True)
    for source in TEMPLATE_DIR.rglob("*"):
        relative = source.relative_to(TEMPLATE_DIR)
        if source.is_dir() or source.name in ("Dockerfile", "docker-entrypoint.sh") or relative.parts[0] == "openapi":
            continue
        if source.suffix == ".template":
            target = out_dir / relative.with_suffix("")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(_filled(source, values))
        else:
            target = out_dir / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    (out_dir / "backoffice" / "trusted_proxies.conf").write_text(trusted_proxies(values["GATEWAY_TRUSTED_PROXIES"]))
    return out_dir / "nginx.conf"


def build_api_document(out_dir: Path) -> None:
    """What the gateway's Docker build does in its first stage: the merged API document and the docs page, from the
    services' code (in a process of its own: it builds each service's app)."""
    subprocess.run(
        [sys.executable, str(TEMPLATE_DIR / "openapi" / "build.py"), str(out_dir)],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def trusted_proxies(addresses: str) -> str:
    """What docker-entrypoint.sh writes too: the load balancers whose X-Forwarded-For names the client (nginx's
    realip module), one ``set_real_ip_from`` per address or CIDR; nothing when none are given."""
    lines = [f"set_real_ip_from {address};" for address in addresses.split()]
    if lines:
        lines += ["real_ip_header X-Forwarded-For;", "real_ip_recursive on;"]
    return "\n".join(["# Generated from GATEWAY_TRUSTED_PROXIES.", *lines]) + "\n"


def _filled(template: Path, values: dict) -> str:
    return _VARIABLE.sub(lambda match: _value(values, match.group(1), template), template.read_text())


def _value(values: dict, name: str, source: Path) -> str:
    if name not in values:
        raise KeyError(f"{source.name} needs ${{{name}}}")
    return str(values[name])


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if not found:
        raise SystemExit("nginx is not installed: run `make bootstrap` (as root it installs Debian's nginx).")
    return found


def nginx_command(conf: Path) -> list[str]:
    return [nginx_binary(), "-p", str(conf.parent), "-c", str(conf), "-e", "stderr", "-g", "daemon off;"]
