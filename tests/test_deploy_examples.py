"""examples/deploy/: the nginx config parses (`nginx -t`, when nginx is installed), its
special locations are ARCOS's real websocket and SSE routes, and the sample environment
file names only settings that exist."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import REPO_ROOT
from starlette.routing import Route, WebSocketRoute

from arcos.app import create_app
from arcos.settings import Settings, documented_settings

DEPLOY = REPO_ROOT / "examples" / "deploy"


def test_the_nginx_config_passes_nginx_t(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(path).exists()),
        None,
    )
    if nginx is None or shutil.which("openssl") is None:
        pytest.skip("nginx (and openssl, for a test certificate) are not installed here")
    certificate, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=arcos.example.com", "-keyout", str(key),
                    "-out", str(certificate)], check=True, capture_output=True, timeout=60)
    site = (DEPLOY / "nginx.conf").read_text()
    site = site.replace("/etc/ssl/certs/arcos.example.com.pem", str(certificate))
    site = site.replace("/etc/ssl/private/arcos.example.com.key", str(key))
    site = site.replace("/var/log/nginx/", f"{tmp_path}/")
    (tmp_path / "arcos.conf").write_text(site)
    # The sample is a conf.d file: it goes inside nginx's http block.
    (tmp_path / "nginx.conf").write_text(
        f"error_log {tmp_path}/error.log;\npid {tmp_path}/nginx.pid;\nevents {{}}\n"
        f"http {{\n    access_log off;\n    include {tmp_path}/arcos.conf;\n}}\n"
    )
    result = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr


def test_the_proxied_special_paths_are_the_apps_stream_routes(tmp_path: Path) -> None:
    site = (DEPLOY / "nginx.conf").read_text()
    exact = set(re.findall(r"location = (\S+) \{", site))
    app = create_app(Settings(database_url=f"sqlite://{tmp_path / 'a.db'}",
                              plugin_signing_key_path=str(tmp_path / "key")))
    websockets = {route.path for route in app.routes if isinstance(route, WebSocketRoute)}
    streams = {route.path for route in app.routes if isinstance(route, Route)
               and route.path.endswith("/stream")}
    assert websockets == {"/graphql"} and streams == {"/api/v3/evidence/stream"}
    assert websockets | streams | {"/metrics"} == exact
    stream_block = site.split("location = /api/v3/evidence/stream")[1].split("}")[0]
    assert "proxy_buffering off;" in stream_block
    graphql_block = site.split("location = /graphql")[1].split("}")[0]
    assert "proxy_set_header Upgrade" in graphql_block


def test_the_sample_environment_names_only_real_settings() -> None:
    known = {name for name, _, _ in documented_settings()}
    named = set(re.findall(r"^(ARCOS_[A-Z0-9_]+)=", (DEPLOY / "arcos.env").read_text(), re.M))
    assert named and named <= known, named - known
    for unit in ("arcos@.service", "arcos-migrate.service"):
        assert "EnvironmentFile=/etc/arcos/arcos.env" in (DEPLOY / unit).read_text()
