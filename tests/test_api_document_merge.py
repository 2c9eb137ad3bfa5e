"""The merge rules of gateway/openapi/build.py, on small documents (the real one is checked through the gateway in
tests/e2e/test_api_document.py)."""

import runpy
from pathlib import Path

import pytest

BUILD = runpy.run_path(str(Path(__file__).resolve().parents[1] / "gateway" / "openapi" / "build.py"))
merge = BUILD["merge"]


def _document(paths, schemas=None):
    return {"paths": paths, "components": {"schemas": schemas or {}}, "tags": [{"name": "t"}]}


def _operation(**extra):
    return {"responses": {"200": {"description": "OK"}, "default": {"description": "Default error response"}}, **extra}


def test_a_route_missing_from_its_services_document_fails_the_build():
    documents = {
        "auth": (
            _document({"/v1/a": {"get": _operation()}}),
            {("/v1/a", "get"): ("operator",), ("/v1/b", "post"): None},
        )
    }
    with pytest.raises(ValueError, match="POST /v1/b"):
        merge(documents)


def test_internal_paths_are_left_out_and_public_ones_carry_no_security():
    documents = {
        "auth": (
            _document({"/v1/login": {"post": _operation(requestBody={})}, "/internal/x": {"get": _operation()}}),
            {("/v1/login", "post"): None, ("/internal/x", "get"): None},
        )
    }
    merged = merge(documents)
    assert list(merged["paths"]) == ["/v1/login"]
    operation = merged["paths"]["/v1/login"]["post"]
    assert operation["security"] == []
    assert sorted(operation["responses"]) == ["200", "400", "413", "422", "503"]


def test_a_protected_operation_gets_bearer_401_403_and_its_own_descriptions_kept():
    own = _operation(parameters=[{"in": "path", "name": "id"}])
    own["responses"]["409"] = {"description": "Already closed."}
    merged = merge({"projects": (_document({"/v1/p/{id}": {"patch": own}}), {("/v1/p/{id}", "patch"): ("operator",)})})
    operation = merged["paths"]["/v1/p/{id}"]["patch"]
    assert operation["security"] == [{"bearer": []}]
    assert sorted(operation["responses"]) == ["200", "401", "403", "404", "409", "503"]
    assert operation["responses"]["409"]["description"] == "Already closed."
    assert operation["responses"]["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }


def test_clashing_schema_names_are_renamed_with_their_references_and_unused_ones_dropped():
    auth = _document(
        {
            "/v1/me": {
                "get": _operation(
                    responses={
                        "200": {
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Photographer"}}}
                        }
                    }
                )
            }
        },
        {"Photographer": {"type": "object", "properties": {"email": {}}}, "Internal": {"type": "object"}},
    )
    projects = _document(
        {
            "/v1/ph": {
                "get": _operation(
                    responses={
                        "200": {
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Photographer"}}}
                        }
                    }
                )
            }
        },
        {"Photographer": {"type": "object", "properties": {"projects": {}}}},
    )
    merged = merge(
        {"auth": (auth, {("/v1/me", "get"): ("operator",)}), "projects": (projects, {("/v1/ph", "get"): ("operator",)})}
    )
    schemas = merged["components"]["schemas"]
    assert set(schemas) == {"Error", "Photographer", "ProjectsPhotographer"}
    ref = merged["paths"]["/v1/ph"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/ProjectsPhotographer"


def test_a_path_two_services_document_is_refused():
    one = (_document({"/v1/x": {"get": _operation()}}), {("/v1/x", "get"): None})
    with pytest.raises(ValueError, match="two services"):
        merge({"auth": one, "projects": one})
