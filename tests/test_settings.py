"""Settings come from ARCOS_* variables and flags, and refuse unusable values clearly."""

import pytest

from arcos.db import tortoise_config
from arcos.settings import Settings, SettingsError, documented_settings


def test_environment_and_overrides():
    settings = Settings.from_env(
        {"ARCOS_PORT": "9001", "ARCOS_EXPOSE_SCHEMA": "false", "ARCOS_MAX_PAGE_SIZE": "25"},
        host="0.0.0.0",
    )
    assert (settings.port, settings.expose_schema, settings.max_page_size) == (9001, False, 25)
    assert settings.host == "0.0.0.0"
    assert Settings.from_env(settings.to_env()) == settings


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"ARCOS_PORT": "eighty"}, "ARCOS_PORT must be a number"),
        ({"ARCOS_EXPOSE_SCHEMA": "maybe"}, "ARCOS_EXPOSE_SCHEMA must be true or false"),
        ({"ARCOS_MAX_BODY_BYTES": "0"}, "ARCOS_MAX_BODY_BYTES must be a positive number"),
        ({"ARCOS_SQLITE_SYNCHRONOUS": "OFF"}, "FULL, NORMAL or EXTRA"),
        ({"ARCOS_DATABASE_URL": "mysql://x"}, "sqlite:// or postgres://"),
    ],
)
def test_bad_values_name_the_variable(env, fragment):
    with pytest.raises(SettingsError, match=fragment):
        Settings.from_env(env)


def test_every_setting_is_documented():
    for name, _default, doc in documented_settings():
        assert name.startswith("ARCOS_") and doc, name


def test_sqlite_pragmas_promise_durability():
    credentials = tortoise_config(Settings(database_url="sqlite:///tmp/x.db"))["connections"][
        "default"
    ]["credentials"]
    assert credentials["journal_mode"] == "WAL"
    assert credentials["synchronous"] == "FULL"
    assert credentials["foreign_keys"] == "ON"
    assert credentials["busy_timeout"] == 5000
    postgres = tortoise_config(Settings(database_url="postgresql://u@h:5432/db"))
    assert postgres["connections"]["default"]["engine"] == "tortoise.backends.asyncpg"


def test_readme_table_lists_every_setting_with_its_default():
    from conftest import REPO_ROOT

    readme = (REPO_ROOT / "README.md").read_text()
    for name, default, _doc in documented_settings():
        assert f"| `{name}` | `{default}` |" in readme, f"README is missing {name}"
