"""deploy/k8s: the kustomize base and the dev overlay, rendered and checked offline (issue 13, Kubernetes).

Rendered with ``kubectl kustomize`` (``$KUBECTL`` picks another binary: the manifests are kept renderable by
Debian bookworm's kubectl 1.20, kustomize v2.0.3, as well as by kustomize v5), and every object validated against
the Kubernetes API schemas that the ``kubernetes-validate`` package ships (strict: an unknown field fails too).
Then what the schemas can't say: probes, requests and limits, who mounts the signing key, that every Secret and
ConfigMap a workload names exists in the overlay, and that each workload gets the environment that
docker-compose.yml gives the same process.
"""

import base64
import copy
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

kubernetes_validate = pytest.importorskip(
    "kubernetes_validate", reason="kubernetes-validate is not installed (requirements/dev.txt; make bootstrap)"
)

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy/k8s"
KUBERNETES_VERSION = "1.30"  # the API version validated against (autoscaling/v2, policy/v1, batch/v1 are GA)
SERVICES = ("auth", "projects", "commerce", "analytics", "webhooks")
WORKERS = {"projects-worker": "projects", "commerce-worker": "commerce", "webhooks-worker": "webhooks"}
SIGNING_KEY_SECRET = "backoffice-jwt-signing-key"
PUBLIC_KEYS = "backoffice-jwt-public-keys"
KUBECTL = os.environ.get("KUBECTL") or shutil.which("kubectl")

needs_kubectl = pytest.mark.skipif(
    not KUBECTL, reason="kubectl is not installed: scripts/bootstrap.sh installs Debian's kubernetes-client as root"
)


def render(folder: Path) -> list[dict]:
    result = subprocess.run([KUBECTL, "kustomize", str(folder)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"kubectl kustomize {folder} failed:\n{result.stderr}"
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def schema_errors(objects: list[dict]) -> list[str]:
    errors = []
    for obj in objects:
        name = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(str(part) for part in error.path)
            errors.append(f"{name}: {path}: {error.message}")
        except kubernetes_validate.SchemaNotFoundError as error:
            errors.append(f"{name}: {error.message}")
    return errors


@pytest.fixture(scope="module")
def base():
    return render(K8S / "base")


@pytest.fixture(scope="module")
def dev():
    return render(K8S / "overlays/dev")


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def by_kind(objects, kind) -> dict[str, dict]:
    return {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] == kind}


def pod_specs(objects) -> dict[str, dict]:
    """The pod template of every workload, by "Kind/name"."""
    return {
        f"{obj['kind']}/{obj['metadata']['name']}": obj["spec"]["template"]["spec"]
        for obj in objects
        if obj["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job")
    }


def containers(pod: dict) -> list[dict]:
    return pod.get("initContainers", []) + pod["containers"]


def env_of(container: dict, objects: list[dict]) -> dict[str, str]:
    """The variables a container gets, with their values ("secret:<name>/<key>" for a Secret's), envFrom resolved."""
    config_maps, secrets = by_kind(objects, "ConfigMap"), by_kind(objects, "Secret")
    env = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(config_maps[source["configMapRef"]["name"]].get("data", {}))
        if "secretRef" in source:
            env.update(
                {
                    key: f"secret:{source['secretRef']['name']}/{key}"
                    for key in secrets[source["secretRef"]["name"]].get("data", {})
                }
            )
    for variable in container.get("env", []):
        ref = variable.get("valueFrom", {})
        if "secretKeyRef" in ref:
            env[variable["name"]] = f"secret:{ref['secretKeyRef']['name']}/{ref['secretKeyRef']['key']}"
        elif "configMapKeyRef" in ref:
            env[variable["name"]] = config_maps[ref["configMapKeyRef"]["name"]]["data"][ref["configMapKeyRef"]["key"]]
        else:
            env[variable["name"]] = variable.get("value", "")
    return env


def references(pod: dict) -> set[tuple[str, str, str | None]]:
    """Every (kind, name, key) a pod reads from a Secret or ConfigMap (key None: the whole object)."""
    refs = set()
    for container in containers(pod):
        for source in container.get("envFrom", []):
            for field, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
                if field in source:
                    refs.add((kind, source[field]["name"], None))
        for variable in container.get("env", []):
            for field, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
                if field in variable.get("valueFrom", {}):
                    ref = variable["valueFrom"][field]
                    refs.add((kind, ref["name"], ref["key"]))
    for volume in pod.get("volumes", []):
        for field, kind, name_field in (("secret", "Secret", "secretName"), ("configMap", "ConfigMap", "name")):
            if field in volume:
                name = volume[field][name_field]
                refs |= {(kind, name, item["key"]) for item in volume[field].get("items", [])} or {(kind, name, None)}
    return refs


# --- rendering and the API schemas ----------------------------------------------------------------------------------


@needs_kubectl
@pytest.mark.parametrize("which", ["base", "dev"])
def test_every_object_is_valid_against_the_kubernetes_api_schemas(which, request):
    objects = request.getfixturevalue(which)
    assert objects
    assert schema_errors(objects) == []


def test_the_validator_ships_its_schemas_and_refuses_a_broken_object():
    """The validator works offline (its schemas are in the package) and is not a yes-man."""
    deployment = yaml.safe_load((K8S / "base/gateway.yaml").read_text().split("\n---\n")[0])
    assert schema_errors([deployment]) == []
    broken = copy.deepcopy(deployment)
    broken["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "eight thousand and one"
    typo = copy.deepcopy(deployment)
    typo["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {"httpGet": {"path": "/healthz", "port": 80}}
    missing = copy.deepcopy(deployment)
    del missing["spec"]["selector"]
    for bad in (broken, typo, missing):
        assert len(schema_errors([bad])) == 1


@needs_kubectl
def test_a_broken_manifest_fails_the_rendered_check(tmp_path):
    """The whole path — kustomize, then the schemas — on a copy of the tree with one mistake in the base."""
    shutil.copytree(K8S, tmp_path / "k8s")
    auth = tmp_path / "k8s/base/auth.yaml"
    auth.write_text(auth.read_text().replace("containerPort: 8000", "containerPort: http", 1))
    errors = schema_errors(render(tmp_path / "k8s/overlays/dev"))
    assert (
        "Deployment/auth: spec.template.spec.containers.0.ports.0.containerPort: 'http' is not of type 'integer'"
        in errors
    )


# --- what the base and the overlay hold ------------------------------------------------------------------------------


@needs_kubectl
@pytest.mark.parametrize("which", ["base", "dev"])
def test_each_worker_serves_its_metrics_where_its_scrape_annotations_point(which, request):
    deployments = by_kind(request.getfixturevalue(which), "Deployment")
    for worker in WORKERS:
        pod = deployments[worker]["spec"]["template"]
        [container] = pod["spec"]["containers"]
        env = {item["name"]: item.get("value") for item in container.get("env", [])}
        annotations = pod["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true" and annotations["prometheus.io/path"] == "/metrics"
        assert env["METRICS_PORT"] == annotations["prometheus.io/port"] == "9100", worker
        assert {"name": "metrics", "containerPort": 9100} in container["ports"], worker


@needs_kubectl
@pytest.mark.parametrize("which", ["base", "dev"])
def test_each_service_has_a_deployment_service_autoscaler_and_migrate_job_and_the_workers_their_deployments(
    which, request
):
    objects = request.getfixturevalue(which)
    deployments, services = by_kind(objects, "Deployment"), by_kind(objects, "Service")
    autoscalers, jobs = by_kind(objects, "HorizontalPodAutoscaler"), by_kind(objects, "Job")
    assert set(deployments) == {*SERVICES, "gateway", *WORKERS}
    assert set(services) == {*SERVICES, "gateway"}
    assert set(autoscalers) == {*SERVICES, "gateway"}
    assert set(jobs) == {f"{service}-migrate" for service in SERVICES}
    for name, hpa in autoscalers.items():
        assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
        assert "replicas" not in deployments[name]["spec"], f"{name}: the autoscaler owns the replica count"
    for name, service in services.items():
        # The Service selects its Deployment's pods and reaches their named port.
        pod_labels = deployments[name]["spec"]["template"]["metadata"]["labels"]
        assert service["spec"]["selector"].items() <= pod_labels.items()
        port_names = {
            port["name"]
            for c in deployments[name]["spec"]["template"]["spec"]["containers"]
            for port in c.get("ports", [])
        }
        assert {port["targetPort"] for port in service["spec"]["ports"]} <= port_names
    for service in SERVICES:
        assert services[service]["spec"]["ports"][0]["port"] == 8000  # AUTH_URL etc. say :8000, as in compose
    for deployment in deployments.values():
        assert (
            deployment["spec"]["selector"]["matchLabels"].items()
            <= deployment["spec"]["template"]["metadata"]["labels"].items()
        )


@needs_kubectl
@pytest.mark.parametrize("which", ["base", "dev"])
def test_every_workload_has_probes_requests_and_limits(which, request):
    objects = request.getfixturevalue(which)
    deployments = by_kind(objects, "Deployment")
    for name in (*SERVICES, "gateway"):
        [web] = deployments[name]["spec"]["template"]["spec"]["containers"]
        ready, live = web["readinessProbe"]["httpGet"], web["livenessProbe"]["httpGet"]
        # The services' routes (backoffice_common.health): ready = the database answers; alive = the process does.
        expected = ("/healthz", "/healthz") if name == "gateway" else ("/readyz", "/healthz")
        assert (ready["path"], live["path"]) == expected
        assert ready["port"] == live["port"] == "http"
    for name in WORKERS:
        [worker] = deployments[name]["spec"]["template"]["spec"]["containers"]
        assert "livenessProbe" in worker, f"{name} has no liveness probe"
    for workload, pod in pod_specs(objects).items():
        for container in containers(pod):
            resources = container.get("resources", {})
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(resources.get(kind, {})), (
                    f"{workload} {container['name']}: no cpu/memory {kind}"
                )
            if workload.startswith("Deployment/") and container in pod["containers"]:
                assert {"readinessProbe", "livenessProbe"} & set(container), f"{workload}: no probe"


def mebibytes(quantity: str) -> float:
    number, unit = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", quantity).groups()
    return float(number) * {"Mi": 1, "Gi": 1024, "M": 1e6 / 2**20, "G": 1e9 / 2**20}[unit]


@needs_kubectl
def test_web_pods_are_sized_for_the_benchmarked_gunicorn(base):
    """bench/results.md: a worker's RSS is 89-106 MB after the whole bench, the master's ~25 MB, 3 workers a pod."""
    config = by_kind(base, "ConfigMap")
    [common] = [cm for name, cm in config.items() if name.startswith("backoffice-config")]
    workers = int(common["data"]["WEB_CONCURRENCY"])
    steady = 25 + workers * 106 / 1.048576  # MiB
    for service in SERVICES:
        [web] = by_kind(base, "Deployment")[service]["spec"]["template"]["spec"]["containers"]
        request, limit = (mebibytes(web["resources"][kind]["memory"]) for kind in ("requests", "limits"))
        assert steady <= request < limit, f"{service}: {request} MiB requested, {steady:.0f} MiB benchmarked"
        assert limit >= 1.5 * steady, f"{service}: a {limit} MiB limit leaves no room above the benchmark"


@needs_kubectl
def test_only_auth_mounts_the_signing_key_and_every_service_the_public_keys(dev):
    for workload, pod in pod_specs(dev).items():
        volumes = {volume["name"]: volume for volume in pod.get("volumes", [])}
        signing = [
            name for name, volume in volumes.items() if volume.get("secret", {}).get("secretName") == SIGNING_KEY_SECRET
        ]
        mounted = {mount["name"]: mount for c in containers(pod) for mount in c.get("volumeMounts", [])}
        for container in containers(pod):
            assert not any(ref[1] == SIGNING_KEY_SECRET for ref in references({"containers": [container]})), (
                f"{workload}: the signing key in the environment"
            )
        if workload == "Deployment/auth":
            [volume] = signing
            assert mounted[volume]["readOnly"] is True
            env = env_of(pod["containers"][0], dev)
            assert env["JWT_PRIVATE_KEY_FILE"].startswith(mounted[volume]["mountPath"] + "/")
        else:
            assert signing == [], f"{workload} mounts the signing key"
        if workload.startswith("Deployment/") and workload != "Deployment/gateway":
            [public] = [
                name
                for name, volume in volumes.items()
                if volume.get("configMap", {}).get("name", "").startswith(PUBLIC_KEYS)
            ]
            assert mounted[public]["mountPath"] == env_of(pod["containers"][0], dev)["JWT_PUBLIC_KEYS_DIR"]


@needs_kubectl
def test_every_secret_and_config_map_a_workload_reads_exists_in_the_dev_overlay(dev):
    present = {("Secret", name): set(obj.get("data", {})) for name, obj in by_kind(dev, "Secret").items()}
    present |= {("ConfigMap", name): set(obj.get("data", {})) for name, obj in by_kind(dev, "ConfigMap").items()}
    read = set()
    for workload, pod in pod_specs(dev).items():
        for kind, name, key in references(pod):
            assert (kind, name) in present, f"{workload} reads {kind} {name}, which the overlay lacks"
            assert key is None or key in present[(kind, name)], f"{workload} reads {key} of {kind} {name}: absent"
            read.add((kind, name))
    assert {name for kind, name in read if kind == "Secret"} == {name for kind, name in present if kind == "Secret"}


@needs_kubectl
def test_the_base_names_secrets_without_values_and_the_dev_overlay_holds_only_fakes(base, dev):
    assert by_kind(base, "Secret") == {}
    assert not any(name.startswith(PUBLIC_KEYS) for name in by_kind(base, "ConfigMap"))
    [common] = [cm for name, cm in by_kind(base, "ConfigMap").items() if name.startswith("backoffice-config")]
    assert common["data"]["APP_ENV"] == "prod"
    for name, secret in by_kind(dev, "Secret").items():
        for key, value in secret["data"].items():
            text = base64.b64decode(value).decode()
            # Placeholders only: fake, or a stand-in's address with no credential in it.
            assert "fake" in text.lower() or text == "smtp://smtp:1025", f"{name}/{key} is not clearly fake"


def settings_fields(service: str) -> set[str]:
    module = __import__(f"{service}_service.config", fromlist=["Settings"])
    return module.Settings.variables()


@needs_kubectl
@pytest.mark.parametrize("name", [*SERVICES, *WORKERS])
def test_each_process_gets_the_environment_compose_gives_it(name, compose, dev):
    """Every variable docker-compose.yml sets for the process that its Settings read is set here too — in the
    migrate Job and the wait-for-migrations init container as well (they build the same Settings, which refuse to
    start without them outside dev)."""
    service = WORKERS.get(name, name)
    wanted = set(compose["services"][name]["environment"]) & settings_fields(service)
    assert {"DATABASE_URL", "INTERNAL_TOKEN_SECRET", "JWT_PUBLIC_KEYS_DIR", "APP_ENV"} <= wanted
    deployment = by_kind(dev, "Deployment")[name]["spec"]["template"]["spec"]
    job = by_kind(dev, "Job")[f"{service}-migrate"]["spec"]["template"]["spec"]
    for container in (*containers(deployment), *job["containers"]):
        env = env_of(container, dev)
        # METRICS_PORT is where the worker process itself serves /metrics: not the migrations' business.
        needed = wanted if container in deployment["containers"] else wanted - {"METRICS_PORT"}
        assert needed <= set(env), f"{name} {container['name']} lacks {sorted(needed - set(env))}"
        assert env["DATABASE_URL"] == f"secret:backoffice-{service}-database/DATABASE_URL"
        for peer in SERVICES:
            assert env[f"{peer.upper()}_URL"] == f"http://{peer}:8000"
    secrets = {
        value.split(":", 1)[1].split("/")[0]
        for value in env_of(deployment["containers"][0], dev).values()
        if value.startswith("secret:")
    }
    expected = {"backoffice-internal-token", f"backoffice-{service}-database"}
    expected |= {"projects": {"backoffice-s3", "backoffice-smtp"}, "commerce": {"backoffice-stripe"}}.get(
        service, set()
    )
    assert secrets == expected, "each process gets the secrets it uses, and no other"


@needs_kubectl
def test_web_pods_wait_for_the_migrate_job_instead_of_migrating(base):
    deployments, jobs = by_kind(base, "Deployment"), by_kind(base, "Job")
    for service in SERVICES:
        assert jobs[f"{service}-migrate"]["spec"]["template"]["spec"]["containers"][0]["command"] == [
            "alembic",
            "upgrade",
            "head",
        ]
        for name in (service, f"{service}-worker"):
            if name not in deployments:
                continue
            pod = deployments[name]["spec"]["template"]["spec"]
            [wait] = pod["initContainers"]
            assert "alembic current" in wait["command"][-1] and "(head)" in wait["command"][-1]
            for container in pod["containers"]:
                assert "boot.sh" not in " ".join(container.get("command", [])), f"{name} would migrate on boot"
                assert container["workingDir"] == f"/app/services/{service}"
        boot = (ROOT / f"services/{service}/boot.sh").read_text()
        [web] = deployments[service]["spec"]["template"]["spec"]["containers"]
        assert " ".join(web["command"]) in boot  # boot.sh's own gunicorn line
        env = env_of(web, base)
        for variable in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_ARENA_MAX"):  # what boot.sh exports before gunicorn
            assert re.search(rf"{variable}:-{env[variable]}\b", boot)


@needs_kubectl
@pytest.mark.parametrize("which", ["base", "dev"])
def test_images_are_the_ones_compose_builds_with_tags_set_by_kustomize(which, request, compose):
    tag = {"base": "latest", "dev": "dev"}[which]
    built = {}
    for name, spec in compose["services"].items():
        build = spec.get("build", {})
        if build.get("dockerfile") == "services/Dockerfile" and name != "keys":
            built[name] = f"backoffice/{build['args']['SERVICE']}"
        elif build.get("dockerfile") == "gateway/Dockerfile":
            built[name] = "backoffice/gateway"
    deployments = by_kind(request.getfixturevalue(which), "Deployment")
    assert set(built) == set(deployments)
    for name, image in built.items():
        for container in containers(deployments[name]["spec"]["template"]["spec"]):
            assert container["image"] == f"{image}:{tag}"


@needs_kubectl
def test_the_gateway_gets_its_variables_and_upstreams_naming_the_services(base):
    dockerfile = (ROOT / "gateway/Dockerfile").read_text()
    defaults = dict(re.findall(r'([A-Z_]+)=("[^"]*"|\S+)', dockerfile.split("\nENV ", 1)[1].split("\nEXPOSE")[0]))
    [nginx] = by_kind(base, "Deployment")["gateway"]["spec"]["template"]["spec"]["containers"]
    env = env_of(nginx, base)
    assert set(env) <= set(defaults), "only variables the image knows"
    services = by_kind(base, "Service")
    for service in SERVICES:
        host, port = env[f"{service.upper()}_UPSTREAM"].split(":")
        assert host in services and int(port) in {p["port"] for p in services[host]["spec"]["ports"]}
    assert "GATEWAY_TRUSTED_PROXIES" in env
    assert str(nginx["ports"][0]["containerPort"]) == env["GATEWAY_LISTEN"]
