"""A small client for the /v1 surface, shared by the end-to-end tests and the benchmarks."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import requests
from requests.adapters import HTTPAdapter


class SourceAddressAdapter(HTTPAdapter):
    """Send from a chosen loopback address (nginx's rate limit keys on the client address)."""

    def __init__(self, source_ip: str, **kwargs):
        self.source_ip = source_ip
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.source_ip, 0)
        super().init_poolmanager(*args, **kwargs)


@dataclass
class Account:
    id: str
    email: str
    password: str
    token: str
    name: str = ""

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}


class Gateway:
    def __init__(self, base_url: str, source_ip: str | None = None):
        self.base_url = base_url.rstrip("/")
        self.http = requests.Session()
        if source_ip:
            self.http.mount("http://", SourceAddressAdapter(source_ip))

    def request(self, method: str, path: str, token: str | None = None, **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.request(method, self.base_url + path, headers=headers, timeout=30, **kwargs)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def patch(self, path, **kw):
        return self.request("PATCH", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def register_operator(
        self, name: str = "Studio", email: str | None = None, password: str = "correct-horse-1", **extra
    ) -> Account:
        email = email or f"op-{uuid.uuid4().hex[:12]}@example.com"
        response = self.post("/v1/auth/register", json={"name": name, "email": email, "password": password, **extra})
        assert response.status_code == 201, response.text
        token = response.json()["token"]
        me = self.get("/v1/operators/me", token=token).json()
        return Account(id=me["id"], email=email, password=password, token=token, name=name)

    def register_photographer(
        self, operator: Account, name: str = "Pat", email: str | None = None, password: str = "shutter-speed-1"
    ) -> Account:
        email = email or f"ph-{uuid.uuid4().hex[:12]}@example.com"
        response = self.post(
            "/v1/auth/register-photographer",
            token=operator.token,
            json={"name": name, "email": email, "password": password},
        )
        assert response.status_code == 201, response.text
        login = self.post("/v1/auth/login", json={"email": email, "password": password})
        assert login.status_code == 200, login.text
        return Account(id=response.json()["id"], email=email, password=password, token=login.json()["token"], name=name)
