"""Where a value stands against a benchmark's distribution, respecting which way is better.

The original compared every metric as if higher were better and divided by the baseline, so
a zero or single-sample baseline raised. Here every case has an answer: a status saying how
far the comparison could go and a sentence explaining it; nothing raises and nothing is
divided by zero.

The percentile is estimated from the four known quantiles (25th, 50th, 75th, 90th) by
linear interpolation between them. Outside them the distribution is unknown, so the
estimate extrapolates the nearest sloped part of the known curve (below p25 the slope from
p25 up to the first larger quantile, above p90 the slope from the last smaller quantile up
to p90) and clamps to 0-100; such estimates are flagged `extrapolated`. A value equal to a
run of equal quantiles (p25 == p50, say) is placed in the middle of that run.

Quantiles closer than float noise (`_tied`: a relative 1e-9 or an absolute 1e-12) count as
equal: a spread of 5e-324 is no spread, and dividing by it (or by a slope that underflows
to 0) would raise or give infinity. Likewise a median that close to 0 gives no relative
delta, and any ratio that still overflows is left out rather than reported as infinite.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import pairwise


class Direction(StrEnum):
    """Which way a metric improves."""

    HIGHER_IS_BETTER = "higher_is_better"
    LOWER_IS_BETTER = "lower_is_better"


class Verdict(StrEnum):
    BETTER = "better"
    WORSE = "worse"
    EQUAL = "equal"


class ComparisonStatus(StrEnum):
    """How far a comparison could go, from complete to impossible."""

    #: Percentile, delta and verdict are all given.
    COMPARED = "compared"
    #: The median is 0: no relative delta; percentile, absolute delta and verdict are given.
    ZERO_MEDIAN = "zero_median"
    #: Every quantile is the same value: no spread, so no percentile; delta and verdict given.
    DEGENERATE = "degenerate"
    #: The baseline is one sample: no distribution, so no percentile; delta and verdict given.
    SINGLE_SAMPLE = "single_sample"
    #: The benchmark has no such metric.
    NO_BASELINE = "no_baseline"
    #: No value was given (or the project has none) for this benchmark metric.
    NO_VALUE = "no_value"


#: The known points of the distribution, as (percentile, attribute).
QUANTILES = ((25.0, "p25"), (50.0, "p50"), (75.0, "p75"), (90.0, "p90"))


@dataclass(frozen=True)
class MetricBaseline:
    """One metric of a benchmark: its direction and its distribution's summary."""

    name: str
    direction: Direction
    p25: float
    p50: float
    p75: float
    p90: float
    mean: float | None
    sample_size: int

    def points(self) -> list[tuple[float, float]]:
        """(percentile, value) of each known quantile, ascending."""
        return [(percentile, float(getattr(self, key))) for percentile, key in QUANTILES]


@dataclass(frozen=True)
class PercentileEstimate:
    value: float
    extrapolated: bool


@dataclass(frozen=True)
class MetricComparison:
    """The answer for one metric. Fields that could not be worked out are None; `status`
    and `explanation` say why."""

    name: str
    status: ComparisonStatus
    explanation: str
    direction: Direction | None = None
    value: float | None = None
    median: float | None = None
    sample_size: int | None = None
    #: Estimated share (0-100) of the baseline's values at or below `value`.
    percentile: float | None = None
    percentile_extrapolated: bool = False
    #: Estimated share (0-100) of the baseline that `value` beats, respecting direction.
    better_than: float | None = None
    delta: float | None = None
    #: `delta` relative to |median| (0.1 = 10 % above); None when the median is 0.
    relative_delta: float | None = None
    verdict: Verdict | None = None


def _tied(a: float, b: float) -> bool:
    """Equal up to float noise (a value that went through JSON or a mean)."""
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def _clamped(percentile: float) -> float:
    """A percentile within 0-100 (an extrapolation far out may overflow to infinity)."""
    return 0.0 if math.isnan(percentile) else min(100.0, max(0.0, percentile))


def estimate_percentile(baseline: MetricBaseline, value: float) -> PercentileEstimate | None:
    """Where `value` falls in the baseline's distribution (0-100), or None when the
    quantiles do not spread (all equal)."""
    points = baseline.points()
    low, high = points[0][1], points[-1][1]
    if high <= low or _tied(low, high):
        return None
    if value < low:
        rising = next((p, q) for p, q in points[1:] if q > low and not _tied(q, low))
        slope = (rising[1] - low) / (rising[0] - points[0][0])
        return PercentileEstimate(_clamped(points[0][0] - (low - value) / slope), True)
    if value > high:
        falling = next((p, q) for p, q in reversed(points[:-1]) if q < high and not _tied(q, high))
        slope = (high - falling[1]) / (points[-1][0] - falling[0])
        return PercentileEstimate(_clamped(points[-1][0] + (value - high) / slope), True)
    # Inside the known range: the lowest and highest percentile whose interpolated value is
    # `value` (the same one unless a run of equal quantiles equals it), and their middle.
    lowest = highest = None
    for (p0, q0), (p1, q1) in pairwise(points):
        if not q0 <= value <= q1:
            continue
        if q1 == q0:
            at_low, at_high = p0, p1
        else:
            at_low = at_high = p0 + (value - q0) / (q1 - q0) * (p1 - p0)
        lowest = at_low if lowest is None else min(lowest, at_low)
        highest = at_high if highest is None else max(highest, at_high)
    assert lowest is not None and highest is not None  # value lies within [low, high]
    return PercentileEstimate((lowest + highest) / 2, False)


def _verdict(direction: Direction, value: float, median: float) -> Verdict:
    if _tied(value, median):
        return Verdict.EQUAL
    above = value > median
    return Verdict.BETTER if above == (direction is Direction.HIGHER_IS_BETTER) else Verdict.WORSE


def _some(names: list[str], shown: int = 5) -> str:
    """A few names, and how many more, for a sentence."""
    if len(names) <= shown:
        return ", ".join(names)
    return f"{', '.join(names[:shown])} and {len(names) - shown} more"


def _number(value: float) -> str:
    return f"{value:.6g}"


def compare_metric(baseline: MetricBaseline, value: float | None) -> MetricComparison:
    """One metric's answer; never raises for any finite baseline and value."""
    common = {"name": baseline.name, "direction": baseline.direction,
              "median": baseline.p50, "sample_size": baseline.sample_size}
    if value is None or not math.isfinite(value):
        return MetricComparison(
            status=ComparisonStatus.NO_VALUE, value=None, **common,
            explanation=f"no value for {baseline.name!r} to compare with the benchmark's "
            f"median {_number(baseline.p50)}")
    median = baseline.p50
    delta = value - median
    verdict = _verdict(baseline.direction, value, median)
    notes: list[str] = []
    status = ComparisonStatus.COMPARED
    relative = None if _tied(median, 0.0) else delta / abs(median)
    if relative is not None and not math.isfinite(relative):
        relative = None
    if relative is None:
        status = ComparisonStatus.ZERO_MEDIAN
        notes.append("the median is 0 (or too close to 0 for a ratio), so no relative change "
                     "is given; the absolute delta is")
    estimate = None
    if baseline.sample_size == 1:
        status = ComparisonStatus.SINGLE_SAMPLE
        notes.append("the baseline is a single sample, so no percentile is estimated; "
                     "the value is compared with that sample")
    else:
        estimate = estimate_percentile(baseline, value)
        if estimate is None:
            status = ComparisonStatus.DEGENERATE
            notes.append(f"every quantile is {_number(median)}, so the baseline has no spread "
                         "and no percentile is estimated")
    if estimate is not None and estimate.extrapolated:
        notes.append("the percentile is extrapolated beyond the known quantiles")
    better_than = None
    if estimate is not None:
        better_than = (estimate.value if baseline.direction is Direction.HIGHER_IS_BETTER
                       else 100.0 - estimate.value)
    way = "higher" if baseline.direction is Direction.HIGHER_IS_BETTER else "lower"
    summary = f"{_number(value)} is {verdict.value} than the median {_number(median)}" \
        if verdict is not Verdict.EQUAL else f"{_number(value)} equals the median"
    explanation = "; ".join([f"{summary} ({way} is better)", *notes])
    return MetricComparison(
        status=status, value=value, percentile=estimate.value if estimate else None,
        percentile_extrapolated=bool(estimate and estimate.extrapolated),
        better_than=better_than, delta=delta, relative_delta=relative, verdict=verdict,
        explanation=explanation, **common)


def compare_all(
    baselines: Sequence[MetricBaseline], values: Mapping[str, float | None]
) -> list[MetricComparison]:
    """Every benchmark metric in the benchmark's order, then each given value the
    benchmark has no baseline for (by name)."""
    answers = [compare_metric(baseline, values.get(baseline.name)) for baseline in baselines]
    known = {baseline.name for baseline in baselines}
    for name in sorted(set(values) - known):
        value = values[name]
        answers.append(MetricComparison(
            name=name, status=ComparisonStatus.NO_BASELINE,
            value=value if value is not None and math.isfinite(value) else None,
            explanation=f"the benchmark has no metric {name!r}; it measures "
            f"{_some(sorted(known))}"))
    return answers
