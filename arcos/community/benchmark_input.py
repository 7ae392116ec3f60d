"""What a benchmark must be before it is stored or compared with: checked in full, every
problem named by its field, so a refused benchmark writes nothing and says what to fix."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

from arcos.community.benchmark_comparison import QUANTILES, MetricBaseline
from arcos.evidence.drafts import CONTROL_CHARS, IDENTIFIER
from arcos.problems import Problem, ProblemCode, Refused
from arcos.storable import unstorable

#: Most metrics one benchmark (or one comparison) may carry.
MAX_METRICS = 100
MAX_NAME_LENGTH = 200
#: Largest magnitude of a quantile, mean or compared value: far beyond any real metric,
#: and small enough that differences and ratios of two of them stay finite.
MAX_MAGNITUDE = 1e15
MAX_SAMPLE_SIZE = 1_000_000_000
_LABEL_RULE = "1-64 lower-case letters, digits, '_', '.' or '-', starting with a letter"


@dataclass(frozen=True)
class BenchmarkDraft:
    """A checked benchmark, ready to store."""

    name: str
    industry: str
    project_type: str
    metrics: tuple[MetricBaseline, ...]


def label(field: str, what: str, value: str, problems: list[Problem]) -> str:
    """An industry, project type or metric name: lower-cased, checked against IDENTIFIER."""
    normalised = value.strip().lower()
    if not IDENTIFIER.match(normalised):
        problems.append(Problem(field, f"{what} must be {_LABEL_RULE} (got {value[:80]!r})",
                                ProblemCode.INVALID))
    return normalised


def _number(field: str, value: object, problems: list[Problem]) -> bool:
    """Whether `value` is a finite number of a sane size; records why not."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.append(Problem(field, "must be a number", ProblemCode.INVALID))
    elif not math.isfinite(value):
        problems.append(Problem(field, f"must be a finite number (got {value})",
                                ProblemCode.INVALID))
    elif abs(value) > MAX_MAGNITUDE:
        problems.append(Problem(field, f"must be between -{MAX_MAGNITUDE:g} and "
                                f"{MAX_MAGNITUDE:g}", ProblemCode.INVALID))
    else:
        return True
    return False


def _check_metric(index: int, metric: MetricBaseline, problems: list[Problem]) -> MetricBaseline:
    at = f"metrics.{index}"
    name = label(f"{at}.name", "a metric name", metric.name, problems)
    finite = [_number(f"{at}.{key}", getattr(metric, key), problems) for _, key in QUANTILES]
    if metric.mean is not None:
        _number(f"{at}.mean", metric.mean, problems)
    if all(finite):
        for (_, lower), (_, upper) in pairwise(QUANTILES):
            low, high = getattr(metric, lower), getattr(metric, upper)
            if high < low:
                problems.append(Problem(
                    f"{at}.{upper}", f"{upper} ({high:g}) is below {lower} ({low:g}); "
                    "quantiles must not decrease (p25 <= p50 <= p75 <= p90)",
                    ProblemCode.INVALID))
    size = metric.sample_size
    if isinstance(size, bool) or not isinstance(size, int) or not (
            1 <= size <= MAX_SAMPLE_SIZE):
        problems.append(Problem(f"{at}.sampleSize", f"sampleSize must be a whole number from 1 "
                                f"to {MAX_SAMPLE_SIZE} (got {size!r:.40})", ProblemCode.INVALID))
    return MetricBaseline(
        name=name, direction=metric.direction, p25=metric.p25, p50=metric.p50, p75=metric.p75,
        p90=metric.p90, mean=metric.mean, sample_size=size)


def check_count(field: str, count: int) -> None:
    """Refuses an empty or oversized list of metrics before any of it is looked at."""
    if count == 0:
        raise Refused.one(field, f"give at least one metric (at most {MAX_METRICS})",
                          ProblemCode.REQUIRED)
    if count > MAX_METRICS:
        raise Refused.one(field, f"at most {MAX_METRICS} metrics (got {count})",
                          ProblemCode.TOO_LARGE)


def check_benchmark(
    name: str, industry: str, project_type: str, metrics: Sequence[MetricBaseline]
) -> BenchmarkDraft:
    """The draft, or Refused listing every problem."""
    check_count("metrics", len(metrics))
    problems: list[Problem] = []
    title = name.strip()
    if not title or len(title) > MAX_NAME_LENGTH or CONTROL_CHARS.search(title) \
            or unstorable(title):
        problems.append(Problem("name", f"name must be 1-{MAX_NAME_LENGTH} characters without "
                                "control characters or lone UTF-16 surrogates",
                                ProblemCode.INVALID))
    checked_industry = label("industry", "industry", industry, problems)
    checked_type = label("projectType", "projectType", project_type, problems)
    checked = [_check_metric(index, metric, problems) for index, metric in enumerate(metrics)]
    seen: dict[str, int] = {}
    for index, metric in enumerate(checked):
        if metric.name in seen:
            problems.append(Problem(f"metrics.{index}.name", f"{metric.name!r} is given twice "
                                    f"(also metrics.{seen[metric.name]}); metric names must be "
                                    "unique", ProblemCode.CONFLICT))
        seen.setdefault(metric.name, index)
    if problems:
        raise Refused(problems)
    return BenchmarkDraft(title, checked_industry, checked_type, tuple(checked))


def check_values(values: Mapping[str, object]) -> dict[str, float]:
    """Values to compare with a benchmark, by metric name: each a finite number."""
    check_count("metrics", len(values))
    problems: list[Problem] = []
    checked: dict[str, float] = {}
    for name, value in values.items():
        key = label(f"metrics.{name[:64]}", "a metric name", name, problems)
        if _number(f"metrics.{name[:64]}", value, problems):
            checked[key] = float(value)  # type: ignore[arg-type]  # checked just above
    if problems:
        raise Refused(problems)
    return checked
