"""The server's Prometheus metrics: defined once here, counted where things happen.

A top-level module (like arcos/broker.py) so that plumbing and domains can both count their
own events without either importing the other. Every metric lives in `METRICS`, a registry
of its own rather than prometheus-client's process-global default, so a scrape shows ARCOS's
series and nothing an imported library happened to register.

Label values are bounded by construction: routes are Starlette route templates (never the
raw path), GraphQL operation names pass through `OperationNames` (a capped set), and
outcomes are short fixed words or error codes. No label ever carries a token, a secret or
a caller's name.
"""

from __future__ import annotations

import logging
import threading

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

logger = logging.getLogger("arcos.graphql")

METRICS = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter(
    "arcos_http_requests", "HTTP requests answered, by route template, method and status.",
    ["route", "method", "status"], registry=METRICS,
)
HTTP_LATENCY = Histogram(
    "arcos_http_request_seconds", "Time from a request's arrival to its response's start, "
    "by route template.", ["route"], registry=METRICS,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
GRAPHQL_OPERATIONS = Counter(
    "arcos_graphql_operations", "GraphQL operations run over HTTP, by operation name "
    "(capped; see ARCOS_METRICS_MAX_OPERATION_NAMES) and outcome (ok, or the first error's "
    "code).", ["operation", "outcome"], registry=METRICS,
)
# Gauges are summed over live workers under `--workers` (arcos/web/worker_metrics.py).
OPEN_WEBSOCKETS = Gauge(
    "arcos_open_websockets", "GraphQL websockets currently open.", registry=METRICS,
    multiprocess_mode="livesum",
)
#: Read from the broker (arcos/app.py hands over the function when it starts).
ACTIVE_SUBSCRIPTIONS = Gauge(
    "arcos_active_subscriptions", "Live subscriptions (websocket and SSE), as /healthz "
    "counts them.", registry=METRICS, multiprocess_mode="livesum",
)

#: Observed by the shared broker (arcos/redis_broker/) as it hands an event to this
#: instance's subscribers; wall-clock time, since the publishing instance may be another.
BROKER_LAG = Histogram(
    "arcos_broker_lag_seconds", "Time from an event's hand-over to the shared broker after "
    "its commit (on whichever instance wrote it) to its delivery to this instance's "
    "subscribers, ordering waits included.", registry=METRICS,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)

# Counted by the domains that own the events (labels are their own closed sets of words).
WEBHOOK_DELIVERIES = Counter(
    "arcos_webhook_deliveries", "Webhook deliveries answered, by provider and outcome "
    "(processed, ignored, ping, failed, duplicate, or the refusal's code).",
    ["provider", "outcome"], registry=METRICS,
)
INGEST_JOBS = Counter(
    "arcos_ingest_jobs", "Artifact uploads (ingestion jobs) recorded, by kind and status.",
    ["kind", "status"], registry=METRICS,
)
PLUGIN_EXECUTIONS = Counter(
    "arcos_plugin_executions", "Plugin executions recorded, by outcome (the execution's "
    "status).", ["outcome"], registry=METRICS,
)

#: The label value of routes nothing matched (404s): one value, whatever the path was.
UNMATCHED_ROUTE = "unmatched"
#: The label value of anonymous operations.
ANONYMOUS_OPERATION = "anonymous"
#: The label value every operation name past the cap (or not a plain GraphQL name) shares.
OTHER_OPERATION = "other"


class OperationNames:
    """The operation names that get a label value of their own: the first `limit` distinct
    names seen, each at most 64 characters of GraphQL name characters. Later names, odd
    names and ad-hoc ones collapse into OTHER_OPERATION, so a client that invents a new
    name per request cannot grow the metric without bound."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._known: set[str] = set()
        self._lock = threading.Lock()

    def label(self, name: str | None, *, may_claim: bool = True) -> str:
        """The label value to count operation `name` under. A name not yet known takes a
        slot only when `may_claim` (the operation succeeded): otherwise a caller without a
        token could spend every slot with failing requests under invented names, and the
        real clients' operations would all be counted as `other`."""
        if not name:
            return ANONYMOUS_OPERATION
        if name in self._known:
            return name
        if not may_claim or len(name) > 64 or not _is_graphql_name(name):
            return OTHER_OPERATION
        with self._lock:
            if len(self._known) >= self.limit:
                return OTHER_OPERATION
            self._known.add(name)
        return name


def _is_graphql_name(name: str) -> bool:
    """Whether `name` matches GraphQL's Name production (/[_A-Za-z][_0-9A-Za-z]*/)."""
    return name.isascii() and (name[0].isalpha() or name[0] == "_") and name.replace(
        "_", "a"
    ).isalnum()


def count_operation(names: OperationNames, name: str | None, errors: object) -> None:
    """Count one GraphQL operation named `name` whose result carried `errors` (GraphQLError
    objects, or their JSON dicts on the direct path; None or empty when it succeeded)."""
    outcome = "ok"
    if errors:
        first = errors[0] if isinstance(errors, list) else None
        extensions = (
            first.get("extensions") if isinstance(first, dict)
            else getattr(first, "extensions", None)
        )
        code = extensions.get("code") if isinstance(extensions, dict) else None
        outcome = code if isinstance(code, str) and _is_error_code(code) else "error"
    GRAPHQL_OPERATIONS.labels(names.label(name, may_claim=outcome == "ok"), outcome).inc()
    # Under the request's id (arcos/request_id.py), so a request can be followed.
    logger.debug("graphql operation %s: %s", name or "anonymous", outcome)


def _is_error_code(code: str) -> bool:
    """Error codes are short upper-case words (ErrorCode); anything else counts as 'error'
    rather than becoming a label value."""
    return len(code) <= 40 and code.replace("_", "A").isalpha() and code.isupper()
