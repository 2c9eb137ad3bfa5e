"""The gateway's API document and docs page (issue 13): one OpenAPI document for the /v1 surface, merged from the
services' own, with every contract route, and Swagger UI served from files we ship."""

import re
from pathlib import Path

import pytest

CONTRACT = Path(__file__).resolve().parents[3] / "shared" / "spec" / "backoffice-api.md"
CONTRACT_ROUTES = Path(__file__).with_name("contract_routes.txt")  # a copy, for where the spec is not checked out
PUBLIC = {("post", "/v1/auth/login"), ("post", "/v1/auth/register"), ("post", "/v1/webhooks/stripe")}
METHODS = ("get", "put", "post", "patch", "delete")


@pytest.fixture(scope="module")
def document(gw):
    response = gw.get("/v1/openapi.json")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/json")
    return response.json()


def _operations(document):
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield method, path, item[method]


def _contract_routes():
    routes = [tuple(line.split()) for line in CONTRACT_ROUTES.read_text().splitlines() if not line.startswith("#")]
    assert len(routes) >= 38
    return routes


@pytest.mark.skipif(not CONTRACT.exists(), reason="the contract is not checked out beside the repository")
def test_the_copy_of_the_contract_routes_is_current():
    in_spec = re.findall(r"^### (GET|POST|PUT|PATCH|DELETE) (/v1/\S+)$", CONTRACT.read_text(), re.M)
    assert in_spec == _contract_routes()


def _shape(path: str) -> str:
    """Path parameters by position only: the contract's ``:id`` is the document's ``{project_id}``."""
    return re.sub(r"(:\w+|\{\w+\})", "{}", path)


def test_every_contract_route_is_in_the_document_with_its_method(document):
    documented = {(method, _shape(path)) for method, path, _ in _operations(document)}
    missing = [
        f"{method} {path}" for method, path in _contract_routes() if (method.lower(), _shape(path)) not in documented
    ]
    assert missing == []


def test_only_the_public_surface_is_documented(document):
    assert document["openapi"].startswith("3.")
    assert all(path.startswith("/v1/") for path in document["paths"])
    assert not [path for path in document["paths"] if "internal" in path]


def test_every_protected_operation_names_the_bearer_scheme_and_its_401(document):
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    for method, path, operation in _operations(document):
        if (method, path) in PUBLIC:
            assert operation["security"] == [], (method, path)
        else:
            assert operation["security"] == [{"bearer": []}], (method, path)
            assert {"401", "403"} <= set(operation["responses"]), (method, path)


def test_every_error_answer_is_the_one_error_body(document):
    error = document["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"code", "status", "message", "errors"}
    for method, path, operation in _operations(document):
        errors = {status: response for status, response in operation["responses"].items() if int(status) >= 400}
        assert "503" in errors and "default" not in operation["responses"], (method, path)
        for status, response in errors.items():
            assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}, (
                method,
                path,
                status,
            )


def test_documented_statuses_include_the_routes_own_and_the_gateways(document):
    responses = {(method, path): set(operation["responses"]) for method, path, operation in _operations(document)}
    assert {"200", "401", "429", "422"} <= responses[("post", "/v1/auth/login")]
    assert {"409", "422", "404"} <= responses[("post", "/v1/pricing/rules")]
    assert {"200", "404", "409", "422"} <= responses[("get", "/v1/projects/{project_id}/qr.png")]


def test_every_schema_a_path_refers_to_is_in_the_document(document):
    text = str(document["paths"])
    for name in re.findall(r"#/components/schemas/(\w+)", text):
        assert name in document["components"]["schemas"], name


def test_the_docs_page_is_swagger_ui_from_our_own_files(gw):
    page = gw.get("/docs/")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "swagger-ui" in page.text
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and not [asset for asset in assets if "//" in asset]  # nothing from another host
    for asset in assets:
        answer = gw.get("/docs/" + asset.removeprefix("./"))
        assert answer.status_code == 200, asset
    initializer = gw.get("/docs/swagger-initializer.js")
    assert initializer.headers["Content-Type"].startswith("application/javascript")
    assert '"/v1/openapi.json"' in initializer.text and "validatorUrl: null" in initializer.text
    assert gw.get("/docs", allow_redirects=False).headers["Location"].endswith("/docs/")
