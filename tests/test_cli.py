"""The `arcos` command: help, settings listing, and clear refusals of bad configuration."""

import subprocess
import sys


def arcos(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-m", "arcos", *args], capture_output=True, text=True, timeout=60,
        env={**os.environ, **(env or {})},
    )


def test_help_lists_the_commands():
    result = arcos("--help")
    assert result.returncode == 0
    for command in ("serve", "export-schema", "settings"):
        assert command in result.stdout


def test_settings_lists_every_variable_with_its_default():
    result = arcos("settings")
    assert result.returncode == 0
    assert "ARCOS_DATABASE_URL=sqlite://./arcos.db" in result.stdout
    assert "ARCOS_MAX_BODY_BYTES=10485760" in result.stdout


def test_serve_refuses_a_bad_setting_with_the_variable_name():
    result = arcos("serve", env={"ARCOS_PORT": "not-a-port"})
    assert result.returncode == 2
    assert "ARCOS_PORT must be a number" in result.stderr


def test_export_schema_writes_a_file(tmp_path):
    target = tmp_path / "schema.graphql"
    assert arcos("export-schema", "--output", str(target)).returncode == 0
    assert "type Query" in target.read_text()
