"""One Settings object for the whole server, read from ARCOS_* environment variables.

Every limit the server enforces lives here with its default, so the README table, the
CLI flags and the tests all point at the same numbers.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, get_type_hints

ENV_PREFIX = "ARCOS_"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class SettingsError(ValueError):
    """A setting has a value the server cannot use; the message names the variable.

    `setting` is the field at fault, so a command can name its flag instead when the
    value came from one (`arcos serve --port 0`).
    """

    def __init__(self, message: str, setting: str | None = None) -> None:
        super().__init__(message)
        self.setting = setting

    def naming_flag(self, flag: str) -> SettingsError:
        """The same error, naming the command-line flag `flag` instead of the variable."""
        assert self.setting is not None
        return SettingsError(str(self).replace(env_name(self.setting), flag), self.setting)


ROTATION_DOC = "The previous value, still accepted while senders rotate to the new one."
#: Shortest webhook secret accepted, from a setting or from setWebhookSecret alike.
MIN_SECRET_LENGTH = 16


def _secret(doc: str) -> Any:
    """A secret setting: empty means not configured (`arcos settings` shows defaults only)."""
    return field(default="", metadata={"doc": doc, "secret": True})


@dataclass(frozen=True)
class Settings:
    """Server configuration. Field `foo_bar` is read from `ARCOS_FOO_BAR`."""

    host: str = field(default="127.0.0.1", metadata={"doc": "Interface to listen on."})
    port: int = field(default=8000, metadata={"doc": "TCP port to listen on."})
    database_url: str = field(
        default="sqlite://./arcos.db",
        metadata={"doc": "`sqlite://PATH` (embedded default) or `postgres://user@host:port/db`."},
    )
    sqlite_synchronous: str = field(
        default="FULL",
        metadata={
            "doc": "SQLite `synchronous` pragma: FULL survives power loss, NORMAL only "
            "process crashes."
        },
    )
    sqlite_busy_timeout_ms: int = field(
        default=5000, metadata={"doc": "How long a writer waits for the SQLite lock."}
    )
    expose_schema: bool = field(
        default=True,
        metadata={"doc": "Serve GraphiQL and allow introspection; set false in production."},
    )
    graphiql_assets_url: str = field(
        default="",
        metadata={
            "doc": "Where GraphiQL's files are loaded from (a mirror's URL ending in /); "
            "empty: this server, from the installed graphene-django-graphiql-static package."
        },
    )
    max_body_bytes: int = field(
        default=10 * 1024 * 1024, metadata={"doc": "Largest accepted request body (413 above)."}
    )
    max_json_depth: int = field(
        default=64, metadata={"doc": "Deepest nesting allowed in evidence `data` and `metadata`."}
    )
    max_evidence_bytes: int = field(
        default=5 * 1024 * 1024,
        metadata={"doc": "Largest canonical JSON size of one evidence item's data."},
    )
    max_response_bytes: int = field(
        default=32 * 1024 * 1024,
        metadata={
            "doc": "Most evidence `data` and `metadata` (canonical JSON bytes) one response "
            "or subscription event may carry; RESPONSE_TOO_LARGE above. At least twice "
            "ARCOS_MAX_EVIDENCE_BYTES, so any one item can be read."
        },
    )
    max_query_depth: int = field(default=10, metadata={"doc": "GraphQL selection depth limit."})
    max_aliases: int = field(default=15, metadata={"doc": "Aliases allowed in one document."})
    max_tokens: int = field(default=2000, metadata={"doc": "Tokens allowed in one document."})
    max_query_cost: int = field(
        default=5000, metadata={"doc": "Cost budget of one operation (see README)."}
    )
    max_fragment_spreads: int = field(
        default=50,
        metadata={"doc": "Fragment spreads (`...Name`) allowed in one GraphQL document."},
    )
    max_field_merges: int = field(
        default=1000,
        metadata={
            "doc": "Pairs of same-named fields validation may compare in one document (a "
            "field selected n times in one place makes n(n-1)/2; nested repeats multiply)."
        },
    )
    max_page_size: int = field(
        default=100, metadata={"doc": "Largest `first` / `limit` on any list or connection."}
    )
    max_batch_items: int = field(
        default=100, metadata={"doc": "Items allowed in one submitEvidenceBatch."}
    )
    max_subscriptions_per_connection: int = field(
        default=20, metadata={"doc": "Concurrent subscriptions on one websocket."}
    )
    subscriber_queue_size: int = field(
        default=1000,
        metadata={"doc": "Events buffered per subscriber before it is cut off as too slow."},
    )
    ws_init_timeout_seconds: float = field(
        default=10.0, metadata={"doc": "Time a websocket client has to send connection_init."}
    )
    ws_compression: bool = field(
        default=False,
        metadata={
            "doc": "Offer permessage-deflate on websockets. Off: compressing costs CPU per "
            "subscriber for every event, and inflated input costs memory."
        },
    )
    ws_max_init_bytes: int = field(
        default=8192,
        metadata={
            "doc": "Largest websocket message (after decompression) before connection_ack, "
            "i.e. the connection_init carrying the token."
        },
    )
    ws_max_message_bytes: int = field(
        default=1024 * 1024,
        metadata={
            "doc": "Largest websocket message after connection_ack (a subscribe: query plus "
            "variables); larger ones close the socket with 1009. Send big mutations over HTTP."
        },
    )
    ws_max_pending_per_address: int = field(
        default=64,
        metadata={"doc": "Websockets one client address may hold open before connection_ack."},
    )
    max_live_connections_per_principal: int = field(
        default=16,
        metadata={
            "doc": "Websockets (once acknowledged) plus SSE streams one principal may hold "
            "open. Each stuck reader can keep one large message buffered, so this also bounds "
            "that memory."
        },
    )
    max_subscriptions_per_principal: int = field(
        default=100,
        metadata={
            "doc": "Subscriptions one principal (or, for anonymous readers, one client "
            "address) may hold open across all its websockets and SSE streams; each one "
            "receives its own copy of every matching event."
        },
    )
    max_anonymous_live_connections_per_address: int = field(
        default=16,
        metadata={
            "doc": "Websockets plus SSE streams anonymous readers (ARCOS_ANONYMOUS_READ) may "
            "hold open from one client address."
        },
    )
    anonymous_read: bool = field(
        default=False,
        metadata={"doc": "Let callers without a token read evidence (a public dashboard)."},
    )
    bootstrap_admin: bool = field(
        default=True,
        metadata={"doc": "On an empty store, create an admin token and print it once."},
    )
    write_rate_per_minute: int = field(
        default=600, metadata={"doc": "Sustained writes per minute allowed per principal."}
    )
    write_burst: int = field(
        default=100,
        metadata={"doc": "Writes a principal may make at once before the rate applies."},
    )
    auth_recheck_seconds: float = field(
        default=30.0,
        metadata={"doc": "How often open subscriptions re-check that their token is still valid."},
    )
    auth_cache_seconds: float = field(
        default=30.0,
        metadata={"doc": "How long an authenticated token's principal, and the webhook "
                  "secrets set at run time, are reused without reading them again (0: read "
                  "them on every request). Revocation and `setWebhookSecret` still take "
                  "effect at once; expiry is checked on every request."},
    )
    auth_cache_size: int = field(
        default=10_000,
        metadata={"doc": "Most tokens whose principals are cached at once; the least "
                  "recently used is dropped first."},
    )
    auth_revocation_poll_seconds: float = field(
        default=0.25,
        metadata={"doc": "How often the server reads the outbox for tokens revoked by "
                  "another process (`arcos token revoke`, other workers), which bounds how "
                  "long their cached principals are still honoured."},
    )
    webhook_secret_poll_seconds: float = field(
        default=0.25,
        metadata={"doc": "How often the server reads the outbox for webhook secrets set by "
                  "another process (other workers), which bounds how long a secret they "
                  "dropped is still accepted; a secret they set is accepted at once."},
    )
    sse_heartbeat_seconds: float = field(
        default=15.0, metadata={"doc": "Idle time after which an SSE stream sends a comment."}
    )
    github_webhook_secret: str = _secret("Secret GitHub signs deliveries with.")
    github_webhook_secret_previous: str = _secret(ROTATION_DOC)
    gitlab_webhook_token: str = _secret("GitLab webhook secret token (X-Gitlab-Token).")
    gitlab_webhook_token_previous: str = _secret(ROTATION_DOC)
    gitlab_webhook_signing_key: str = _secret("GitLab signing token (whsec_...).")
    gitlab_webhook_signing_key_previous: str = _secret(ROTATION_DOC)
    bitbucket_webhook_secret: str = _secret("Secret Bitbucket Cloud/DC sign deliveries with.")
    bitbucket_webhook_secret_previous: str = _secret(ROTATION_DOC)
    cicd_webhook_token: str = _secret("Bearer token generic CI/CD senders may use.")
    cicd_webhook_token_previous: str = _secret(ROTATION_DOC)
    max_artifact_bytes: int = field(
        default=50 * 1024 * 1024,
        metadata={"doc": "Largest report upload to /api/cicd and /api/security (413 above)."},
    )
    max_gzip_members: int = field(
        default=64,
        metadata={"doc": "Most concatenated gzip members in one report (413 above)."},
    )
    max_findings_per_scan: int = field(
        default=5000,
        metadata={"doc": "Findings one scan tracks, the most severe first (GitHub shows 5,000); "
                  "the rest are counted in the metrics, not stored, and named in a warning."},
    )
    parse_workers: int = field(
        default=2,
        metadata={"doc": "Worker processes that decode and parse uploaded reports, off the "
                  "event loop."},
    )
    parse_queue: int = field(
        default=8,
        metadata={"doc": "Uploads that may wait for a parse worker; more are refused with 429 "
                  "and Retry-After."},
    )
    json_threads: int = field(
        default=1,
        metadata={"doc": "Threads that decode large JSON bodies and check and encode evidence "
                  "off the event loop; further large writes wait for one. One is usually "
                  "best: they share the GIL, and each more competes with the event loop."},
    )
    json_thread_min_bytes: int = field(
        default=256 * 1024,
        metadata={"doc": "Bodies this large or larger are decoded in a JSON thread; smaller "
                  "ones inline, where the hand-off would cost more than the decoding."},
    )
    webhook_allow_unsigned: bool = field(
        default=False,
        metadata={"doc": "DEVELOPMENT ONLY: accept deliveries from providers with no secret set."},
    )
    webhook_max_body_bytes: int = field(
        default=25 * 1024 * 1024, metadata={"doc": "Largest webhook body (413 above)."}
    )
    webhook_body_retention_days: int = field(
        default=7, metadata={"doc": "Days raw delivery bodies are kept for re-processing."}
    )
    webhook_replay_window_seconds: int = field(
        default=0,
        metadata={
            "doc": "A signed body a provider already delivered within this many seconds is a "
            "duplicate, whatever its delivery id (0: off; 259200 covers GitHub's redelivery)."
        },
    )
    outbox_retention_hours: int = field(
        default=168,
        metadata={"doc": "Hours published events stay in the outbox, so subscribers and SSE "
                  "streams can resume after them (`Last-Event-ID`, `after:`)."},
    )
    plugin_workers: int = field(
        default=2,
        metadata={"doc": "Sandbox zygotes that fork one child per plugin call (one per core is "
                  "right): at most this many plugin calls run at once."},
    )
    plugin_queue: int = field(
        default=16,
        metadata={"doc": "Plugin calls that may wait for a sandbox slot; more are refused "
                  "with BUSY."},
    )
    plugin_timeout_seconds: float = field(
        default=5.0,
        metadata={"doc": "Wall-clock limit of one plugin call; past it the call's process "
                  "group is killed."},
    )
    plugin_cpu_seconds: int = field(
        default=2, metadata={"doc": "CPU-time limit (RLIMIT_CPU) of one plugin call."}
    )
    plugin_memory_mib: int = field(
        default=256,
        metadata={"doc": "Address-space limit (RLIMIT_AS) of one plugin call, in MiB."},
    )
    plugin_max_result_bytes: int = field(
        default=1024 * 1024,
        metadata={"doc": "Largest reply a plugin call may write; past it the call is killed."},
    )
    plugin_uid_base: int = field(
        default=200_000,
        metadata={"doc": "First of the unprivileged user ids plugin calls run as, one per "
                  "sandbox slot."},
    )
    plugin_sandbox_drop_layers: str = field(
        default="",
        metadata={"doc": "DEVELOPMENT ONLY: comma-separated sandbox layers not to apply "
                  "(see `arcos plugins doctor`); logged loudly at start."},
    )
    plugin_max_consecutive_failures: int = field(
        default=5,
        metadata={"doc": "A plugin version that fails this many executions in a row is "
                  "disabled automatically (setPluginEnabled turns it back on)."},
    )
    plugin_signing_key_path: str = field(
        default="./arcos-plugin-signing.key",
        metadata={"doc": "Ed25519 key that signs registered plugin versions; created (mode "
                  "0600) on first start. Keep it outside the database and its backups."},
    )
    community_redact_names: str = field(
        default="",
        metadata={"doc": "Comma-separated names (people, customers, products) scrubbed as "
                  "[redacted:name] from community items shared anonymised."},
    )
    community_benchmark_min_projects: int = field(
        default=5,
        metadata={"doc": "A community benchmark (and each metric in it) is published only "
                  "when at least this many opted-in projects contribute, so no single "
                  "project can be read back from it."},
    )
    community_benchmark_refresh_seconds: int = field(
        default=3600,
        metadata={"doc": "How often a read may re-release a community benchmark. A metric's "
                  "figures change only when the new values differ in at least k projects "
                  "from its current and recent releases, so one project's upload or opt-in "
                  "never shows between two readings."},
    )
    broker_url: str = field(
        default="",
        metadata={"doc": "Empty: the in-process broker (one `arcos serve`). `redis://host:6379/0` "
                  "(or `rediss://`): events, shared rate limits and revocations cross every "
                  "instance that names the same Redis; required for `--workers` above 1."},
    )
    redis_key_prefix: str = field(
        default="",
        metadata={"doc": "Prefix of every key ARCOS keeps in the Redis of ARCOS_BROKER_URL "
                  "(shared rate limits, revocation and webhook-secret epochs). Empty: "
                  "`arcos:<digest of the store>:`, the deployment's own, like its events "
                  "channel, so deployments sharing one Redis never share budgets or epochs."},
    )
    log_level: str = field(default="info", metadata={"doc": "Python log level."})
    log_format: str = field(
        default="text",
        metadata={"doc": "`text` (one readable line per record) or `json` (one JSON object per "
                  "line, uvicorn's access log included, each with the request's `request_id`)."},
    )
    shutdown_grace_seconds: float = field(
        default=30.0,
        metadata={"doc": "On SIGTERM/SIGINT, how long in-flight requests may take to finish "
                  "(websockets close at once with 1001, SSE streams end) before they are "
                  "cancelled and the store closes. Keep systemd's TimeoutStopSec above it."},
    )
    metrics_token: str = _secret(
        "Bearer token Prometheus scrapers send to read /metrics (compared in constant time). "
        "With neither this nor ARCOS_METRICS_ALLOW_LOOPBACK, /metrics answers 404."
    )
    metrics_allow_loopback: bool = field(
        default=False,
        metadata={"doc": "Serve /metrics without a token to clients on 127.0.0.1 / ::1 (a "
                  "scraper on the same host). Off by default: every local user could read it."},
    )
    metrics_max_operation_names: int = field(
        default=200,
        metadata={"doc": "Distinct GraphQL operation names /metrics counts separately; later "
                  "names share the label value `other`, so clients cannot grow it unbounded."},
    )

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, **overrides: Any
    ) -> Settings:
        """Build settings from `ARCOS_*` variables, then apply explicit overrides (CLI flags,
        named `--field-name`: an error about one names the flag)."""
        env = os.environ if environ is None else environ
        hints = get_type_hints(cls)
        values: dict[str, Any] = {}
        for spec in fields(cls):
            name = env_name(spec.name)
            if name in env:
                values[spec.name] = _coerce(name, env[name], hints[spec.name])
        flags = {k: v for k, v in overrides.items() if v is not None}
        values.update(flags)
        settings = cls(**values)
        try:
            settings.validate()
        except SettingsError as error:
            if error.setting in flags:
                raise error.naming_flag("--" + error.setting.replace("_", "-")) from None
            raise
        return settings

    def validate(self) -> None:
        """Refuse values that would make a limit meaningless or the store unsafe."""
        positive = (
            "port", "max_body_bytes", "max_json_depth", "max_evidence_bytes", "max_query_depth",
            "max_response_bytes", "max_aliases", "max_tokens", "max_query_cost",
            "max_fragment_spreads", "max_field_merges", "max_page_size", "max_batch_items",
            "max_subscriptions_per_connection", "subscriber_queue_size", "ws_max_init_bytes",
            "ws_max_message_bytes", "ws_max_pending_per_address",
            "max_live_connections_per_principal", "max_subscriptions_per_principal",
            "max_anonymous_live_connections_per_address",
            "write_rate_per_minute", "write_burst", "auth_recheck_seconds", "auth_cache_size",
            "auth_revocation_poll_seconds", "webhook_secret_poll_seconds",
            "metrics_max_operation_names", "shutdown_grace_seconds",
            "sse_heartbeat_seconds", "webhook_max_body_bytes", "webhook_body_retention_days",
            "max_artifact_bytes", "max_gzip_members", "max_findings_per_scan", "parse_workers",
            "json_threads", "json_thread_min_bytes", "outbox_retention_hours",
            "plugin_workers", "plugin_timeout_seconds", "plugin_cpu_seconds",
            "plugin_memory_mib", "plugin_max_result_bytes", "plugin_uid_base",
            "plugin_max_consecutive_failures",
        )
        for name in positive:
            if getattr(self, name) <= 0:
                raise SettingsError(f"{env_name(name)} must be a positive number", name)
        if self.ws_max_init_bytes > self.ws_max_message_bytes:
            raise SettingsError(
                f"{env_name('ws_max_init_bytes')} ({self.ws_max_init_bytes}) must not exceed "
                f"{env_name('ws_max_message_bytes')} ({self.ws_max_message_bytes})"
            )
        if self.community_benchmark_min_projects < 2:
            raise SettingsError(
                f"{env_name('community_benchmark_min_projects')} must be at least 2: with one "
                "project a community benchmark is that project's own numbers",
                "community_benchmark_min_projects",
            )
        for name in ("parse_queue", "plugin_queue", "community_benchmark_refresh_seconds",
                     "auth_cache_seconds"):
            if getattr(self, name) < 0:
                raise SettingsError(f"{env_name(name)} must be zero or more", name)
        if self.max_response_bytes < 2 * self.max_evidence_bytes:
            raise SettingsError(
                f"{env_name('max_response_bytes')} must be at least twice "
                f"{env_name('max_evidence_bytes')} ({2 * self.max_evidence_bytes}), so one "
                "item's data and metadata can always be read; raise it",
                "max_response_bytes",
            )
        for name in ("webhook_replay_window_seconds",):
            if getattr(self, name) < 0:
                raise SettingsError(f"{env_name(name)} must be 0 (off) or a positive number", name)
        for name in SECRET_SETTINGS:
            value = getattr(self, name)
            if value and len(value) < MIN_SECRET_LENGTH:
                raise SettingsError(
                    f"{env_name(name)} must be at least {MIN_SECRET_LENGTH} characters (a "
                    "guessable secret protects nothing); generate one with "
                    "`python3 -c 'import secrets; print(secrets.token_hex(32))'`"
                )
        if self.sqlite_synchronous.upper() not in {"FULL", "NORMAL", "EXTRA"}:
            raise SettingsError(
                f"{env_name('sqlite_synchronous')} must be FULL, NORMAL or EXTRA "
                f"(got {self.sqlite_synchronous!r})", "sqlite_synchronous",
            )
        if self.log_level.upper() not in {"CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"}:
            raise SettingsError(
                f"{env_name('log_level')} must be debug, info, warning, error or critical "
                f"(got {self.log_level!r})", "log_level",
            )
        if self.log_format not in {"text", "json"}:
            raise SettingsError(
                f"{env_name('log_format')} must be text or json (got {self.log_format!r})",
                "log_format",
            )
        if not self.database_url.startswith(("sqlite://", "postgres://", "postgresql://")):
            raise SettingsError(
                f"{env_name('database_url')} must start with sqlite:// or postgres:// "
                f"(got {self.database_url!r})", "database_url",
            )

        if self.broker_url and not self.broker_url.startswith(("redis://", "rediss://")):
            raise SettingsError(
                f"{env_name('broker_url')} must be empty (the in-process broker) or start with "
                f"redis:// or rediss:// (got {redacted_url(self.broker_url)!r})", "broker_url",
            )

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed, validated like the original."""
        settings = dataclasses.replace(self, **changes)
        settings.validate()
        return settings

    def to_env(self) -> dict[str, str]:
        """The environment that reproduces these settings (used to hand them to uvicorn)."""
        return {env_name(spec.name): _render(getattr(self, spec.name)) for spec in fields(self)}


#: Every secret setting (see `_secret`), checked against MIN_SECRET_LENGTH.
SECRET_SETTINGS = tuple(spec.name for spec in fields(Settings) if spec.metadata.get("secret"))


def redacted_url(url: str) -> str:
    """`url` with any password replaced, for messages and logs."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        credentials, _, host = rest.rpartition("@")
        user = credentials.split(":")[0]
        return f"{scheme}{sep}{user}:***@{host}"
    return url


def env_name(field_name: str) -> str:
    """The environment variable that sets a field."""
    return ENV_PREFIX + field_name.upper()


def documented_settings() -> list[tuple[str, str, str]]:
    """(variable, default, description) for every setting, for docs and `arcos settings`."""
    defaults = Settings()
    return [
        (env_name(spec.name), _render(getattr(defaults, spec.name)), spec.metadata.get("doc", ""))
        for spec in fields(Settings)
    ]


def _coerce(name: str, raw: str, kind: Any) -> Any:
    if kind is bool:
        lowered = raw.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise SettingsError(f"{name} must be true or false (got {raw!r})")
    if kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            raise SettingsError(f"{name} must be a number (got {raw!r})") from None
    return raw


def _render(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
