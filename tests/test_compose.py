"""docker-compose.yml and the images, checked without a Docker engine."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("auth", "projects", "commerce", "analytics", "webhooks")


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_postgres_has_a_healthcheck_and_one_database_per_service(compose):
    postgres = compose["services"]["postgres"]
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    init_sql = (ROOT / "deploy/postgres/init.sql").read_text()
    for service in SERVICES:
        assert f"CREATE DATABASE {service};" in init_sql


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_builds_from_its_dockerfile_and_waits_for_its_database(compose, service):
    spec = compose["services"][service]
    assert spec["build"]["dockerfile"] == "services/Dockerfile" and spec["build"]["args"] == {"SERVICE": service}
    assert (ROOT / "services" / service / "boot.sh").exists()
    assert spec["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert spec["environment"]["DATABASE_URL"].endswith(f"@postgres:5432/{service}")
    dockerfile = (ROOT / spec["build"]["dockerfile"]).read_text()
    # migrations run before gunicorn: boot.sh does `alembic upgrade head` then exec gunicorn
    assert "exec /app/services/$SERVICE/boot.sh" in dockerfile
    boot = (ROOT / f"services/{service}/boot.sh").read_text()
    assert boot.index("alembic upgrade head") < boot.index("exec gunicorn")


def test_gateway_is_published_on_8001_after_healthy_services(compose):
    gateway = compose["services"]["gateway"]
    assert gateway["ports"] == ["8001:8001"]
    assert {name: dep["condition"] for name, dep in gateway["depends_on"].items()} == {
        service: "service_healthy" for service in SERVICES
    }


def test_gateway_entrypoint_substitutes_every_template_variable():
    used = set()
    for template in (ROOT / "gateway").rglob("*.template"):
        used |= set(re.findall(r"\$\{([A-Z0-9_]+)\}", template.read_text()))
    entrypoint = (ROOT / "gateway/docker-entrypoint.sh").read_text()
    listed = set(re.findall(r"\$\{([A-Z0-9_]+)\}", entrypoint.split("vars='")[1].split("'")[0]))
    assert used == listed
    dockerfile = (ROOT / "gateway/Dockerfile").read_text()
    assert all(f"{name}=" in dockerfile for name in used)


@pytest.mark.skipif(not shutil.which("docker-compose"), reason="docker-compose is not installed")
def test_docker_compose_accepts_the_file_with_secrets_and_refuses_it_without(tmp_path):
    command = ["docker-compose", "-f", str(ROOT / "docker-compose.yml")]
    clean_env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path)}
    secrets = subprocess.run(
        [str(ROOT / "scripts/compose-secrets"), "--stdout"], capture_output=True, text=True, check=True
    ).stdout
    (tmp_path / "secrets.env").write_text(secrets)
    accepted = subprocess.run(
        command + ["--env-file", str(tmp_path / "secrets.env"), "config", "-q"],
        capture_output=True,
        text=True,
        env=clean_env,
    )
    assert accepted.returncode == 0, accepted.stderr
    (tmp_path / "empty.env").write_text("")
    refused = subprocess.run(
        command + ["--env-file", str(tmp_path / "empty.env"), "config", "-q"],
        capture_output=True,
        text=True,
        env=clean_env,
    )
    assert refused.returncode != 0 and "run scripts/compose-secrets" in refused.stderr


def test_each_worker_runs_its_module_on_its_services_image_and_database(compose):
    from devstack import WORKERS

    for worker, (service, module) in WORKERS.items():
        spec = compose["services"][worker]
        assert spec["command"] == ["python", "-m", module]
        assert spec["build"] == {"context": ".", "dockerfile": "services/Dockerfile", "args": {"SERVICE": service}}
        assert spec["environment"]["DATABASE_URL"].endswith(f"@postgres:5432/{service}")
        assert spec["depends_on"][service]["condition"] == "service_healthy"
        # Its own Prometheus registry (SMTP or Stripe outcomes), on the port deploy/k8s scrapes too.
        assert spec["environment"]["METRICS_PORT"] == "9100" and spec["expose"] == ["9100"]


@pytest.mark.parametrize("addresses", ["", "10.0.0.0/8 192.168.1.10"])
def test_gateway_entrypoint_writes_the_trusted_proxies_as_devstack_does(addresses, tmp_path):
    from devstack.gateway import trusted_proxies

    entrypoint = (ROOT / "gateway/docker-entrypoint.sh").read_text()
    block = re.search(r"\n\{\n(.*?)\n\} > /etc/nginx/backoffice/trusted_proxies.conf", entrypoint, re.S).group(1)
    written = subprocess.run(
        ["sh", "-euc", block],
        capture_output=True,
        text=True,
        check=True,
        env={"GATEWAY_TRUSTED_PROXIES": addresses, "PATH": "/usr/bin:/bin"},
    ).stdout
    assert written == trusted_proxies(addresses)


SECRETS = ("POSTGRES_PASSWORD", "INTERNAL_TOKEN_SECRET", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET")


def test_compose_has_no_fallback_for_any_secret_and_runs_as_prod():
    text = (ROOT / "docker-compose.yml").read_text()
    for name in SECRETS:
        uses = re.findall(r"\$\{" + name + r"([:?-][^}]*)\}", text)
        assert uses and all(use.startswith(":?") for use in uses), (name, uses)
    assert "${APP_ENV:-prod}" in text
    assert "dev-internal-token-secret" not in text and "whsec_dev" not in text


def test_only_auth_holds_the_signing_key(compose):
    def mounts(spec):
        return {volume.split(":")[0]: volume.split(":")[1] for volume in spec.get("volumes", [])}

    holders = {name for name, spec in compose["services"].items() if "signing-key" in mounts(spec)}
    assert holders == {"keys", "auth"}
    for name, spec in compose["services"].items():
        if spec.get("build", {}).get("dockerfile") == "services/Dockerfile" and name != "keys":
            assert mounts(spec)["public-keys"] == "/run/keys/public", name
            assert spec["volumes"][list(mounts(spec)).index("public-keys")].endswith(":ro"), name
    assert compose["services"]["auth"]["environment"]["JWT_PRIVATE_KEY_FILE"].startswith("/run/keys/private/")


def test_compose_secrets_generates_each_secret_once_and_keeps_given_ones(tmp_path):
    import runpy

    script = runpy.run_path(str(ROOT / "scripts/compose-secrets"))
    env_file = tmp_path / ".env"
    env_file.write_text("STRIPE_SECRET_KEY=sk_live_mine")
    script["main"].__globals__["ENV_FILE"] = env_file
    script["main"]([])
    first = dict(line.split("=", 1) for line in env_file.read_text().splitlines())
    assert set(first) == set(SECRETS) and first["STRIPE_SECRET_KEY"] == "sk_live_mine"
    script["main"]([])
    assert dict(line.split("=", 1) for line in env_file.read_text().splitlines()) == first  # generated once

    from commerce_service.config import Settings

    # What it generates passes the prod checks.
    Settings(
        app_env="prod",
        jwt_public_keys="{}",
        internal_token_secret=first["INTERNAL_TOKEN_SECRET"],
        stripe_secret_key="sk_test_x",
        stripe_webhook_secret=first["STRIPE_WEBHOOK_SECRET"],
        database_url=f"postgresql+psycopg2://postgres:{first['POSTGRES_PASSWORD']}@db/commerce",
    )
    assert oct(env_file.stat().st_mode & 0o777) == "0o600"
