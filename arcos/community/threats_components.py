"""Affected components of a threat: which package, in which versions.

One syntax, documented in the README:

* `package` is a purl without a version (`pkg:pypi/requests`, `pkg:npm/%40angular/core`)
  or a CPE 2.3 formatted string (`cpe:2.3:a:apache:log4j:*:*:*:*:*:*:*:*`);
* `versions` is `*` (every version) or comparisons joined by commas, all of which must
  hold: `>=2.0,<2.31.0`, `=1.2.3`, `!=1.4.0`, with the operators `= == != < <= > >=`.

Versions compare segment by segment (numbers as numbers, words as words); a release sorts
after its pre-releases (`2.31.0rc1 < 2.31.0`) and a number after a word at the same place.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from packageurl import PackageURL

from arcos.intake.components import package_key
from arcos.problems import Problem, ProblemCode

MAX_COMPONENTS = 50
MAX_CONSTRAINTS = 8
MAX_PACKAGE_LENGTH = 512
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+~-]{0,63}$")
_CONSTRAINT = re.compile(r"^(==|=|!=|<=|>=|<|>)\s*(\S+)$")
_CPE_PART = r"(?:\\.|[^:\\])+"
_CPE = re.compile(rf"^cpe:2\.3:[aho*\-](?::{_CPE_PART}){{10}}$")
_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq, "==": operator.eq, "!=": operator.ne, "<": operator.lt,
    "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}
_TOKEN = re.compile(r"\d+|[a-z]+")


def version_key(version: str) -> tuple[tuple[int, int, str], ...]:
    """An ordering key for `version` (see the module text). A missing trailing segment
    sorts above a word (a pre-release) and below a number: `1.0rc1 < 1.0 < 1.0.1`."""
    tokens = _TOKEN.findall(version.lower().removeprefix("v"))
    release = 0
    while release < len(tokens) and tokens[release].isdigit():
        release += 1
    numbers = [int(token) for token in tokens[:release]]
    while numbers and numbers[-1] == 0:
        numbers.pop()  # 1.0.0 is 1.0 is 1
    key = [(2, number, "") for number in numbers] + [
        (2, int(token), "") if token.isdigit() else (0, 0, token) for token in tokens[release:]]
    return (*key, (1, 0, ""))


@dataclass(frozen=True)
class VersionRange:
    """Comparisons that must all hold; empty means every version."""

    text: str
    constraints: tuple[tuple[str, str], ...]

    def contains(self, version: str | None) -> bool:
        """Whether `version` is in range; an unknown version is only in `*`."""
        if not self.constraints:
            return True
        if not version:
            return False
        key = version_key(version)
        return all(_OPERATORS[op](key, version_key(bound)) for op, bound in self.constraints)


def parse_range(text: str) -> VersionRange:
    """`*` or `op version[,op version…]`; raises ValueError saying what is wrong."""
    cleaned = text.strip()
    if cleaned in ("*", ""):
        return VersionRange("*", ())
    parts = [part.strip() for part in cleaned.split(",")]
    if len(parts) > MAX_CONSTRAINTS:
        raise ValueError(f"at most {MAX_CONSTRAINTS} comparisons")
    constraints = []
    for part in parts:
        match = _CONSTRAINT.match(part)
        if match is None or not _VERSION.match(match.group(2)):
            raise ValueError(
                f"{part!r:.80} is not a comparison; write e.g. >=2.0,<2.31.0 (operators "
                "= != < <= > >=, versions of letters, digits and . _ + ~ -) or * for all"
            )
        constraints.append((match.group(1), match.group(2)))
    return VersionRange(",".join(f"{op}{bound}" for op, bound in constraints),
                        tuple(constraints))


@dataclass(frozen=True)
class AffectedComponent:
    """One package and range; `key` is what SBOM components are matched on: a purl's
    package key, or for a CPE its product name (SBOMs rarely carry CPEs)."""

    package: str
    versions: VersionRange

    @property
    def is_cpe(self) -> bool:
        return self.package.startswith("cpe:")

    @property
    def key(self) -> str:
        if self.is_cpe:
            return _cpe_fields(self.package)[4].replace("\\", "").lower()
        return package_key(self.package) or ""

    def to_json(self) -> dict[str, str]:
        return {"package": self.package, "versions": self.versions.text}


def _cpe_fields(cpe: str) -> list[str]:
    return re.findall(_CPE_PART, cpe)


def parse_component(package: str, versions: str) -> AffectedComponent:
    """One affected component; raises ValueError saying what is wrong."""
    package = package.strip()
    if not package or len(package) > MAX_PACKAGE_LENGTH:
        raise ValueError(f"package must be 1-{MAX_PACKAGE_LENGTH} characters")
    if package.startswith("cpe:"):
        if not _CPE.match(package) or _cpe_fields(package)[4] in ("*", "-"):
            raise ValueError(
                "a CPE must be a CPE 2.3 formatted string naming a product, e.g. "
                "cpe:2.3:a:apache:log4j:*:*:*:*:*:*:*:*"
            )
    else:
        try:
            parsed = PackageURL.from_string(package)
        except ValueError as error:
            raise ValueError(f"package must be a purl like pkg:pypi/requests or a CPE 2.3 "
                             f"name ({error})") from None
        if parsed.version is not None:
            raise ValueError("leave the version out of the purl and give it in `versions`, "
                             "e.g. >=2.0,<2.31.0")
    return AffectedComponent(package, parse_range(versions))


def parse_components(raw: list[tuple[str, str]], field: str) -> tuple[
        list[AffectedComponent], list[Problem]]:
    """Every component of an input, with a problem per bad one (`field.N.package` etc.)."""
    if len(raw) > MAX_COMPONENTS:
        return [], [Problem(field, f"at most {MAX_COMPONENTS} affected components",
                            ProblemCode.TOO_LARGE)]
    components, problems = [], []
    for index, (package, versions) in enumerate(raw):
        try:
            components.append(parse_component(package, versions))
        except ValueError as error:
            problems.append(Problem(f"{field}.{index}", f"affected component {index + 1}: "
                                    f"{error}", ProblemCode.INVALID))
    return components, problems
