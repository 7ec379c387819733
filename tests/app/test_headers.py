"""Every response, errors included, carries the security headers; Onion-Location only off-onion."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from reporting import create_app
from reporting.infra.config import ONION_ADDRESS_VAR
from reporting.web import headers

ONION = "abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvwx.onion"
assert len(ONION.removesuffix(".onion")) == 56


def make_app(tmp_path: Path, testing: bool = True) -> Flask:
    app = create_app({"TESTING": testing, "INSTANCE_PATH": tmp_path / "instance"})
    headers.init_app(app)
    return app


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FlaskClient:
    monkeypatch.delenv(ONION_ADDRESS_VAR, raising=False)
    return make_app(tmp_path).test_client()


@pytest.fixture
def onion_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FlaskClient:
    monkeypatch.setenv(ONION_ADDRESS_VAR, ONION)
    return make_app(tmp_path).test_client()


EXPECTED = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; font-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cross-Origin-Resource-Policy": "same-origin",
}


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/healthz", 200), ("GET", "/no-such-page", 404), ("POST", "/healthz", 405)],
)
def test_security_headers_on_every_response(
    client: FlaskClient, method: str, path: str, status: int
) -> None:
    response = client.open(path, method=method)
    assert response.status_code == status
    for name, value in EXPECTED.items():
        assert response.headers.get_all(name) == [value], name
    assert "Server" not in response.headers
    assert "X-Powered-By" not in response.headers
    assert "Onion-Location" not in response.headers


def test_headers_on_unhandled_error_page(tmp_path: Path) -> None:
    app = make_app(tmp_path, testing=False)

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("boom")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert response.headers["Content-Security-Policy"] == headers.CONTENT_SECURITY_POLICY
    assert response.headers["Cache-Control"] == "no-store"


def test_csp_allows_no_script_and_no_other_origin() -> None:
    policy = headers.CONTENT_SECURITY_POLICY
    assert "script-src" not in policy
    assert "default-src 'none'" in policy
    sources = {token for part in policy.split(";") for token in part.split()[1:]}
    assert sources <= {"'none'", "'self'"}


@pytest.mark.parametrize(
    "feature",
    ["camera", "microphone", "geolocation", "payment", "usb", "interest-cohort", "browsing-topics"],
)
def test_permissions_policy_disables_powerful_features(client: FlaskClient, feature: str) -> None:
    policy = client.get("/healthz").headers["Permissions-Policy"]
    assert f"{feature}=()" in [item.strip() for item in policy.split(",")]
    assert all(item.strip().endswith("=()") for item in policy.split(","))


def test_views_cannot_loosen_the_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ONION_ADDRESS_VAR, raising=False)
    app = make_app(tmp_path)

    @app.get("/loose")
    def loose() -> tuple[str, dict[str, str]]:
        return "hi", {"Content-Security-Policy": "default-src *", "Server": "nginx/1.0"}

    response = app.test_client().get("/loose")
    assert response.headers.get_all("Content-Security-Policy") == [headers.CONTENT_SECURITY_POLICY]
    assert "Server" not in response.headers


@pytest.mark.parametrize(
    ("url", "location"),
    [
        ("/healthz", f"http://{ONION}/healthz"),
        ("/no-such-page", f"http://{ONION}/no-such-page"),
        ("/healthz?lang=zh&x=%E4%B8%AD", f"http://{ONION}/healthz?lang=zh&x=%E4%B8%AD"),
        ("/a%0D%0ASet-Cookie:%20x=1", f"http://{ONION}/a%0D%0ASet-Cookie:%20x=1"),
    ],
)
def test_onion_location_points_to_same_page(
    onion_client: FlaskClient, url: str, location: str
) -> None:
    response = onion_client.get(url, base_url="https://reporting.example.org")
    assert response.headers.get_all("Onion-Location") == [location]
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize("host", [ONION, ONION.upper(), f"{ONION}:80"])
def test_no_onion_location_over_the_onion_itself(onion_client: FlaskClient, host: str) -> None:
    response = onion_client.get("/healthz", base_url=f"http://{host}")
    assert response.status_code == 200
    assert "Onion-Location" not in response.headers


def test_no_onion_location_without_onion_address(client: FlaskClient) -> None:
    response = client.get("/healthz", base_url="https://reporting.example.org")
    assert "Onion-Location" not in response.headers


@pytest.mark.parametrize(
    ("configured", "host"),
    [(ONION, ONION), (f" http://{ONION.upper()}/ ", ONION), ("https://x.onion", "x.onion")],
)
def test_onion_host_normalises_configured_address(configured: str, host: str) -> None:
    assert headers.onion_host(configured) == host
