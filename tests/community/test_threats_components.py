"""The affected-component syntax: purls and CPE 2.3 names, version ranges, ordering."""

from __future__ import annotations

import pytest

from arcos.community.threats_components import parse_component, parse_range, version_key
from arcos.intake.components import package_key


@pytest.mark.parametrize(("low", "high"), [
    ("2.30.0", "2.31.0"), ("2.31.0rc1", "2.31.0"), ("1.0", "1.0.1"), ("1.9", "1.10"),
    ("v1.2.3", "1.2.4"), ("1.0.0-alpha", "1.0.0-beta"),
])
def test_versions_order(low: str, high: str) -> None:
    assert version_key(low) < version_key(high)


def test_trailing_zeros_are_equal() -> None:
    assert version_key("1.0") == version_key("1.0.0")


def test_ranges() -> None:
    window = parse_range(">=2.0, <2.31.0")
    assert window.text == ">=2.0,<2.31.0"
    assert window.contains("2.30.9") and not window.contains("2.31.0")
    assert not window.contains("1.9") and not window.contains(None)
    assert parse_range("*").contains(None)
    assert parse_range("!=1.4.0").contains("1.4.1") and not parse_range("=1.4").contains("1.4.1")
    for bad in ("about 2", ">=", "~>1.0", ",".join([">1"] * 9)):
        with pytest.raises(ValueError):
            parse_range(bad)


def test_packages() -> None:
    assert parse_component("pkg:pypi/Foo_Bar", "*").key == package_key("pkg:pypi/foo-bar@1.0")
    cpe = parse_component("cpe:2.3:a:apache:log4j:*:*:*:*:*:*:*:*", ">=2.0")
    assert cpe.is_cpe and cpe.key == "log4j"
    for bad in ("pkg:pypi/requests@2.0", "requests", "cpe:2.3:a:apache", "cpe:2.3:a:x:*:*:*:*:*:*:*:*:*"):
        with pytest.raises(ValueError):
            parse_component(bad, "*")
