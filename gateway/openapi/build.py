"""Build the gateway's API document and docs page: ``python gateway/openapi/build.py OUT_DIR``.

Writes ``OUT_DIR/openapi.json`` — one OpenAPI 3 document for the public ``/v1`` surface, merged from the five
services' own flask-smorest documents — and ``OUT_DIR/docs/``, Swagger UI from the ``swagger-ui-bundle`` package
(no CDN) opening that document. Generated from the services' code every time the gateway is built (Docker) or
rendered (devstack), so it is never hand-kept and cannot drift from the routes.

What the merge adds to the services' own documents:
- only what the gateway exposes: ``/v1/*`` paths (``/internal/*``, health and each service's own document left out);
- the bearer scheme on every operation whose view requires a role (``roles_required`` marks it), with its 401 and
  403; the public ones (login, register, the Stripe webhook) carry none;
- the one error body (design §3) as ``components.schemas.Error``, on every error status an operation can answer:
  its own (with the service's description), 401/403 where a role is required, 400/413/422 where it reads a JSON body,
  422 for query parameters, 404 for path parameters, 429 on the throttled credential routes, 503 everywhere (a
  database or peer down);
- schema names made unique across services (a clash is renamed ``<Service><Name>`` and its references follow).
"""

from __future__ import annotations

import copy
import importlib
import json
import os
import shutil
import sys
from http import HTTPStatus
from pathlib import Path

SERVICES = ("auth", "projects", "commerce", "analytics", "webhooks")
PUBLIC_PREFIX = "/v1/"
THROTTLED = {"/v1/auth/login", "/v1/auth/register"}  # the gateway's limit_req routes (api_conf.d/auth.conf)
METHODS = ("get", "put", "post", "patch", "delete")

ERROR_SCHEMA = {
    "type": "object",
    "description": "The one error body of every service and of the gateway (design §3).",
    "required": ["code", "status", "message", "errors"],
    "properties": {
        "code": {"type": "integer", "example": 422},
        "status": {"type": "string", "example": "Unprocessable Entity"},
        "message": {"type": "string"},
        "errors": {
            "type": "object",
            "additionalProperties": True,
            "description": 'Per-field messages by where the input came from: {"json": {"email": ["…"]}}.',
        },
    },
}
_ERROR_NOTES = {
    400: "The body is not valid JSON.",
    401: "No valid bearer token.",
    403: "The token's role may not use this route.",
    404: "Not found, or not the caller's.",
    409: "Conflicts with the current state.",
    413: "The body is larger than 1 MiB.",
    422: "The input is invalid; `errors` names each field.",
    429: "Too many requests; see Retry-After.",
    503: "A dependency (database, peer service, Stripe) is unavailable; try again (see Retry-After).",
}


def service_document(service: str) -> tuple[dict, dict[tuple[str, str], tuple[str, ...] | None]]:
    """A service's own document, and the roles each of its (path, method) operations requires (None: public)."""
    app = importlib.import_module(f"{service}_service.app").create_app()
    document = app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
    roles = {}
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        path = _openapi_path(rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            # On the class (MethodView.decorators) or on the one method (a route whose methods differ in roles).
            handler = getattr(getattr(view, "view_class", None), method.lower(), None)
            roles[(path, method.lower())] = getattr(view, "required_roles", None) or getattr(
                handler, "required_roles", None
            )
    return document, roles


def _openapi_path(flask_rule: str) -> str:
    """``/v1/projects/<uuid:project_id>`` → ``/v1/projects/{project_id}``, as apispec writes it."""
    out, rest = "", flask_rule
    while "<" in rest:
        head, _, tail = rest.partition("<")
        variable, _, rest = tail.partition(">")
        out += head + "{" + variable.split(":")[-1] + "}"
    return out + rest


def _rename_refs(node, renames: dict[str, str]):
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            name = ref.rsplit("/", 1)[1]
            if name in renames:
                node["$ref"] = "#/components/schemas/" + renames[name]
        for value in node.values():
            _rename_refs(value, renames)
    elif isinstance(node, list):
        for value in node:
            _rename_refs(value, renames)


def merge(documents: dict[str, tuple[dict, dict]]) -> dict:
    merged = {
        "openapi": "3.0.3",
        "info": {
            "title": "Event-photography back office API",
            "version": "v1",
            "description": "The /v1 surface of the gateway, merged from each service's own document.",
        },
        "servers": [{"url": "/"}],
        "tags": [],
        "paths": {},
        "components": {
            "schemas": {"Error": ERROR_SCHEMA},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }
    schemas = merged["components"]["schemas"]
    for service, (document, roles) in documents.items():
        document = copy.deepcopy(document)
        own = document.get("components", {}).get("schemas", {})
        renames = {}
        for name, schema in own.items():
            if name == "Error" or (name in schemas and schemas[name] != schema):
                renames[name] = f"{service.title()}{name}"
        _rename_refs(document, renames)
        for name, schema in own.items():
            schemas[renames.get(name, name)] = schema
        undocumented = sorted(
            f"{method.upper()} {path}"
            for path, method in roles
            if path.startswith(PUBLIC_PREFIX) and method not in document["paths"].get(path, {})
        )
        if undocumented:  # a route registered outside flask-smorest, say: the document must not silently miss it
            raise ValueError(f"{service} routes missing from its API document: {', '.join(undocumented)}")
        merged["tags"] += [tag for tag in document.get("tags", []) if tag not in merged["tags"]]
        for path, item in document.get("paths", {}).items():
            if not path.startswith(PUBLIC_PREFIX):
                continue
            if path in merged["paths"]:
                raise ValueError(f"{path} is documented by two services")
            merged["paths"][path] = item
            for method in METHODS:
                if method in item:
                    _complete_operation(path, method, item[method], roles.get((path, method), "unknown"))
    _drop_unreferenced_schemas(merged)
    return merged


def _drop_unreferenced_schemas(document: dict) -> None:
    """Keep the schemas the public paths reach (the internal routes' ones go with them)."""
    schemas = document["components"]["schemas"]
    reached, todo = {"Error"}, [document["paths"]]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] not in reached:
                name = ref.rsplit("/", 1)[1]
                reached.add(name)
                todo.append(schemas[name])
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
    for name in set(schemas) - reached:
        del schemas[name]


def _complete_operation(path: str, method: str, operation: dict, roles) -> None:
    if roles == "unknown":
        raise ValueError(f"{method.upper()} {path} is in a document but not in its service's routes")
    responses = operation.setdefault("responses", {})
    responses.pop("default", None)  # every error status is listed instead
    errors = {int(status) for status in responses if status.isdigit() and int(status) >= 400}
    if roles:
        operation["security"] = [{"bearer": []}]
        errors |= {401, 403}
    else:
        operation["security"] = []
    if "requestBody" in operation:
        errors |= {400, 413, 422}
    if any(parameter.get("in") == "query" for parameter in operation.get("parameters", [])):
        errors.add(422)
    if any(parameter.get("in") == "path" for parameter in operation.get("parameters", [])) or "{" in path:
        errors.add(404)
    if path in THROTTLED:
        errors.add(429)
    errors.add(503)
    for status in sorted(errors):
        described = responses.get(str(status), {}).get("description")
        if not described or described == HTTPStatus(status).phrase:
            described = _ERROR_NOTES.get(status, HTTPStatus(status).phrase)
        responses[str(status)] = {
            "description": described,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }


def write_docs_page(out_dir: Path, document_url: str = "/v1/openapi.json") -> None:
    """Swagger UI's files from the swagger-ui-bundle package, set to open our document: nothing from a CDN."""
    from swagger_ui_bundle import swagger_ui_path

    docs = out_dir / "docs"
    shutil.rmtree(docs, ignore_errors=True)
    shutil.copytree(swagger_ui_path, docs, ignore=shutil.ignore_patterns("*.map", "*.j2", "*es-bundle*", "*.py"))
    (docs / "swagger-initializer.js").write_text(
        "window.onload = function () {\n"
        # validatorUrl null: Swagger UI would otherwise send the document to validator.swagger.io for a badge.
        f"  window.ui = SwaggerUIBundle({{url: {json.dumps(document_url)}, dom_id: '#swagger-ui', deepLinking: true,\n"
        "    validatorUrl: null,\n"
        "    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: 'StandaloneLayout'});\n"
        "};\n"
    )


def _ephemeral_signing_key() -> None:
    """auth's app wants a signing key to start; the document needs none, so a throw-away one will do."""
    if os.environ.get("JWT_PRIVATE_KEY") or os.environ.get("JWT_PRIVATE_KEY_FILE"):
        return
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    os.environ["JWT_PRIVATE_KEY"] = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    os.environ["JWT_PUBLIC_KEYS"] = json.dumps(
        {
            "build": key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        }
    )
    os.environ.setdefault("JWT_KEY_ID", "build")


def build(out_dir: Path) -> dict:
    os.environ["APP_ENV"] = "dev"  # the document never depends on the environment; dev needs no real secrets
    os.environ["LOG_LEVEL"] = "WARNING"
    _ephemeral_signing_key()
    document = merge({service: service_document(service) for service in SERVICES})
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "openapi.json").write_text(json.dumps(document, indent=1, sort_keys=True))
    write_docs_page(out_dir)
    return document


if __name__ == "__main__":
    built = build(Path(sys.argv[1]))
    print(f"{len(built['paths'])} paths written to {sys.argv[1]}/openapi.json, docs page in {sys.argv[1]}/docs")
