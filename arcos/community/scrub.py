"""Scrubbing identifying strings out of an item shared anonymised.

Anonymity that keeps the author's e-mail address in the description is no anonymity, so
an item shared with `anonymize: true` has every free-text and JSON string scrubbed before
it is stored (the row never holds the original). Each scrubbed span is replaced by a label
saying what was there, e.g. `[redacted:email]`, so readers know text is missing.

What counts as identifying: e-mail addresses, URLs, host names (on a list of real
top-level domains, so `setup.py` or `tests.pass_rate` survive), IPv4 and IPv6 addresses,
repository slugs (host-qualified `github.com/owner/repo`, `git@host:owner/repo`,
`owner/repo.git`), `@handles`, anything that looks like a token or key (known prefixes
such as `ghp_` and `AKIA`, JWTs, PEM blocks, long mixed strings, the value of a
`password=`/`token:` assignment), and the names an operator lists in
ARCOS_COMMUNITY_REDACT_NAMES. A bare `word/word` is left alone: in prose it is far more
often "CI/CD" than a repository.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

from arcos.settings import Settings

#: Top-level domains a host name must end in to be scrubbed. Deliberately not every TLD:
#: `.py`, `.sh`, `.md`, `.rs` and friends are file extensions far more often than hosts.
_TLDS = (
    "com|org|net|io|dev|app|ai|co|cloud|tech|info|biz|edu|gov|mil|int|eu|uk|de|fr|nl|be|ch|"
    "at|se|no|dk|fi|es|it|pt|pl|cz|ie|us|ca|au|nz|jp|cn|in|br|ru|kr|sg|hk|tw|za|mx|ar|"
    "local|internal|corp|lan|intra|home|test|example|localhost"
)
_CREDENTIAL_FORMATS = (
    r"gh[pousr]_[A-Za-z0-9]{20,255}|github_pat_[A-Za-z0-9_]{20,255}|"
    r"glpat-[A-Za-z0-9_\-]{20,255}|xox[abprs]-[A-Za-z0-9\-]{10,255}|(?:AKIA|ASIA)[0-9A-Z]{16}|"
    r"sk-[A-Za-z0-9_\-]{20,255}|AIza[0-9A-Za-z_\-]{35}|arcos_[A-Za-z0-9_\-]{16,255}"
)
#: Where a token may start: not inside a run of token characters. Every rule that can
#: begin in the middle of a long run starts with it, so each run is tried once, not once
#: per character (which made a 64 KiB run of "a-a-a-…" cost minutes).
_RUN_START = r"(?<![A-Za-z0-9_\-])"


def _label(kind: str) -> str:
    return f"[redacted:{kind}]"


def _is_ip(candidate: str) -> bool:
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return False
    return True


def _ip(match: re.Match[str]) -> str:
    return _label("ip") if _is_ip(match.group(0)) else match.group(0)


def _assignment(match: re.Match[str]) -> str:
    return f"{match.group(1)}{match.group(2)}{_label('secret')}"


def _long_secret(match: re.Match[str]) -> str:
    """A long run mixing letters and digits (API keys, hashes, session ids) is a secret;
    a long word or number alone is not."""
    run = match.group(0)
    mixed = any(c.isdigit() for c in run) and any(c.isalpha() for c in run)
    return _label("secret") if mixed else run


Rule = tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]


@cache
def _rules() -> tuple[Rule, ...]:
    """(pattern, replacement) in the order they run: whole structures (PEM blocks, URLs,
    e-mail addresses) before the parts they contain (hosts, handles). Every repetition
    that could run across a long input is bounded or anchored at a token start, so the cost
    of a scrub grows with the text's length, not its square. Compiled at the first scrub,
    not at import: the server's start-up never scrubs (tests/test_startup_imports.py)."""
    return (
        (re.compile(r"-----BEGIN [A-Z ]{0,40}PRIVATE KEY-----.*?"
                    r"(?:-----END [A-Z ]{0,40}PRIVATE KEY-----|$)", re.S), _label("secret")),
        (re.compile(_RUN_START + r"eyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]*"),
         _label("secret")),
        (re.compile(_RUN_START + rf"(?:{_CREDENTIAL_FORMATS})"), _label("secret")),
        (re.compile(r"(?i)(?<![\w\-])(password|passwd|pwd|secret|token|api[_-]?key|"
                    r"access[_-]?key|client[_-]?secret|auth)(\s{0,8}[:=]\s{0,8})(?!\[redacted)"
                    r"[\"']?[^\s\"',;]{1,1024}[\"']?"), _assignment),
        (re.compile(r"(?i)(?<![\w\-])(bearer|basic|token)(\s{1,8})(?!\[redacted)"
                    r"[A-Za-z0-9._~+/\-]{8,1024}=*"), _assignment),
        (re.compile(r"(?<![\w.\-])git@[A-Za-z0-9.\-]{1,253}:[\w.\-]{1,100}/[\w.\-]{1,100}"),
         _label("repo")),
        (re.compile(r"(?i)(?<![a-z0-9+.\-])[a-z][a-z0-9+.\-]{0,31}://[^\s<>\"'`]+"),
         _label("url")),
        (re.compile(r"(?i)(?<![a-z0-9._%+\-])[a-z0-9._%+\-]{1,64}@"
                    r"(?:[a-z0-9\-]{1,63}\.){1,8}[a-z]{2,63}\b"), _label("email")),
        (re.compile(r"(?i)(?<![\w.\-])(?:[a-z0-9\-]{1,63}\.){1,8}(?:" + _TLDS
                    + r")/[\w.\-]{1,100}/[\w.\-]{1,100}"), _label("repo")),
        (re.compile(r"(?<![\w.\-/])[\w\-]{1,100}/[\w.\-]{1,100}\.git\b"), _label("repo")),
        (re.compile(r"(?<![\w.:])(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4}(?![\w:])"), _ip),
        (re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])"), _ip),
        (re.compile(r"(?i)(?<![\w\-@.])(?:[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?\.){1,8}(?:"
                    + _TLDS + r")\b(?![\-.]\w)"), _label("host")),
        (re.compile(r"(?<![\w.@])@[A-Za-z0-9](?:[A-Za-z0-9\-_]{0,38})\b"), _label("handle")),
        # The run a long secret is made of.
        (re.compile(r"(?<![A-Za-z0-9_\-+/])[A-Za-z0-9_\-+/]{32,}={0,2}"), _long_secret),
    )


class Scrubber:
    """Scrubs text and JSON with the built-in rules and the operator's listed names."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        listed = sorted({name.strip() for name in names if name.strip()}, key=len, reverse=True)
        self._names = (
            re.compile(r"(?i)(?<![^\W_])(?:" + "|".join(_name_pattern(n) for n in listed)
                       + r")(?![^\W_])")
            if listed else None
        )

    def text(self, value: str) -> str:
        """`value` with every identifying span replaced by its label."""
        for pattern, replacement in _rules():
            value = pattern.sub(replacement, value)
        # Names last: one inside an address or URL is already gone with it.
        if self._names is not None:
            value = self._names.sub(_label("name"), value)
        return value

    def json(self, value: Any) -> Any:
        """A copy of a JSON value with every string in it (keys too) scrubbed."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.json(item) for item in value]
        if isinstance(value, dict):
            return {self.text(str(key)): self.json(item) for key, item in value.items()}
        return value


def _name_pattern(name: str) -> str:
    """A listed name as a pattern: its words apart by spaces, underscores, dots or hyphens,
    or run together ("Jane Doe", "jane_doe", "JaneDoe")."""
    words = [re.escape(word) for word in re.split(r"[\s_.\-]+", name) if word]
    return r"[\s_.\-]*".join(words)


def scrubber(settings: Settings) -> Scrubber:
    """The scrubber for this server: built-in rules plus ARCOS_COMMUNITY_REDACT_NAMES."""
    return Scrubber(settings.community_redact_names.split(","))
