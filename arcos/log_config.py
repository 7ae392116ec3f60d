"""How `arcos serve` logs: text or JSON lines (ARCOS_LOG_FORMAT), the request id on every
record, values clipped (arcos/log_bounds.py) and credentials masked.

One `logging.config.dictConfig` dictionary configures ARCOS's loggers (the root) and
uvicorn's (server and access log) alike; `arcos serve` applies it before the server starts
and hands the same dictionary to uvicorn, which applies it in each process it runs. In
JSON mode uvicorn's access line is a JSON object too, with its fields split out.

Masking is a filter on every handler, whatever the format: a bearer token or ARCOS API
token in any message, a credential-looking query parameter in a logged path, and the
values of the secret settings. Nothing logs an Authorization header on purpose; this is
what keeps one that slips into an exception message or a URL out of the log.
"""

from __future__ import annotations

import copy
import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

from uvicorn.config import LOGGING_CONFIG

from arcos.auth.token_format import TOKEN_PREFIX
from arcos.log_bounds import BoundedRecords
from arcos.request_id import current_request_id
from arcos.settings import SECRET_SETTINGS, Settings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
MASK = "[redacted]"
#: Credentials as they appear in text: `Bearer <anything>`, ARCOS API tokens
#: (arcos/auth/token_format.py: `arcos_` + 43 URL-safe base64 characters) and query
#: parameters named like credentials.
CREDENTIALS = re.compile(
    r"(?P<scheme>\bbearer\s+)[^\s\"',;]+|(?P<basic>\bbasic\s+)[A-Za-z0-9+/]{8,}=*"
    rf"|{re.escape(TOKEN_PREFIX)}[A-Za-z0-9_-]{{16,}}"
    r"|(?P<param>[?&;](?:access_token|token|secret|password|passwd|api_key|apikey|key|"
    r"authorization|auth|signature|sig)=)[^&\s\"']*",
    re.IGNORECASE,
)


class RequestIdFilter(logging.Filter):
    """Adds `request_id` (the request being served, or None) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id()
        return True


class MaskCredentials(logging.Filter):
    """Masks credentials in a record's message, arguments and traceback (after
    `BoundedRecords`, so the text searched is already clipped)."""

    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        super().__init__()
        #: Values of the secret settings, longest first so none masks part of another.
        self.secrets = tuple(sorted({s for s in secrets if s}, key=len, reverse=True))

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = self.mask(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(self._masked_argument(value) for value in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: self._masked_argument(value)
                           for key, value in record.args.items()}
        if record.exc_text:
            record.exc_text = self.mask(record.exc_text)
        return True

    def _masked_argument(self, value: object) -> object:
        """An argument as the message will show it, masked: an exception or any other
        object may carry a credential in its text (`str(error)` of a failed request)."""
        if value is None or isinstance(value, int | float):
            return value  # numbers keep their %d / %.2f formats
        return self.mask(value if isinstance(value, str) else str(value))

    def mask(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return CREDENTIALS.sub(_masked, text)


def _masked(match: re.Match[str]) -> str:
    prefix = match.group("scheme") or match.group("basic") or match.group("param") or ""
    return prefix + MASK


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message,
    request_id, and exception when there is one. uvicorn's access records also carry
    client, method, path, http_version and status."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) \
                and len(record.args) == 5:
            client, method, path, version, status = record.args
            entry.update(client=client, method=method, path=path, http_version=version,
                         status=status)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=True, default=str)


def log_config(settings: Settings) -> dict[str, Any]:
    """The dictConfig dictionary for `settings`: uvicorn's own, with ARCOS's root handler
    added, every handler filtered (bounded, request id, masked) and, in JSON mode, every
    formatter JSON."""
    config = copy.deepcopy(LOGGING_CONFIG)
    secrets = tuple(getattr(settings, name) for name in SECRET_SETTINGS)
    config["filters"] = {
        "bounded": {"()": BoundedRecords},
        "request_id": {"()": RequestIdFilter},
        "masked": {"()": MaskCredentials, "secrets": secrets},
    }
    config["formatters"]["arcos"] = {"format": TEXT_FORMAT}
    if settings.log_format == "json":
        for name in config["formatters"]:
            config["formatters"][name] = {"()": JsonFormatter}
    config["handlers"]["arcos"] = {
        "class": "logging.StreamHandler", "formatter": "arcos", "stream": "ext://sys.stderr",
    }
    for handler in config["handlers"].values():
        handler["filters"] = ["bounded", "request_id", "masked"]
    config["root"] = {"level": settings.log_level.upper(), "handlers": ["arcos"]}
    return config


def configure_logging(settings: Settings) -> dict[str, Any]:
    """Apply `log_config(settings)` now (for what `arcos serve` logs before uvicorn runs)
    and return it for uvicorn."""
    import logging.config

    config = log_config(settings)
    logging.config.dictConfig(config)
    return config
