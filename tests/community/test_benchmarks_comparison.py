"""Comparing values with a benchmark: direction respected, every awkward baseline answered
with a status and an explanation, never an exception; and properties over many baselines."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arcos.community.benchmark_comparison import (
    ComparisonStatus,
    Direction,
    MetricBaseline,
    Verdict,
    compare_all,
    compare_metric,
    estimate_percentile,
)
from arcos.community.community_benchmarks import quantile, summarise

HIGHER = Direction.HIGHER_IS_BETTER
LOWER = Direction.LOWER_IS_BETTER


def baseline(p25: float, p50: float, p75: float, p90: float, *, direction: Direction = HIGHER,
             sample_size: int = 40, name: str = "coverage.line_rate") -> MetricBaseline:
    return MetricBaseline(name, direction, p25, p50, p75, p90, None, sample_size)


COVERAGE = baseline(0.6, 0.7, 0.8, 0.9)
DURATION = baseline(60, 120, 300, 600, direction=LOWER, name="build.duration_seconds")


def test_a_higher_value_is_better_only_when_higher_is_better():
    good = compare_metric(COVERAGE, 0.8)
    assert (good.verdict, good.status) == (Verdict.BETTER, ComparisonStatus.COMPARED)
    assert good.percentile == pytest.approx(75)
    assert good.better_than == pytest.approx(75)
    assert good.delta == pytest.approx(0.1) and good.relative_delta == pytest.approx(0.1 / 0.7)
    slow = compare_metric(DURATION, 300)
    assert slow.verdict is Verdict.WORSE
    assert slow.percentile == pytest.approx(75) and slow.better_than == pytest.approx(25)
    assert "lower is better" in slow.explanation
    fast = compare_metric(DURATION, 60)
    assert fast.verdict is Verdict.BETTER and fast.better_than == pytest.approx(75)
    assert compare_metric(DURATION, 120).verdict is Verdict.EQUAL


def test_relative_delta_is_against_the_medians_magnitude():
    negative = baseline(-20, -10, -5, 0, name="findings.net_change", direction=LOWER)
    answer = compare_metric(negative, -5)
    assert answer.delta == 5 and answer.relative_delta == pytest.approx(0.5)
    assert answer.verdict is Verdict.WORSE


def test_percentile_interpolates_between_quantiles_and_extrapolates_beyond():
    assert estimate_percentile(COVERAGE, 0.65).value == pytest.approx(37.5)
    assert estimate_percentile(COVERAGE, 0.85).value == pytest.approx(82.5)
    inside = estimate_percentile(COVERAGE, 0.7)
    assert inside.value == pytest.approx(50) and not inside.extrapolated
    # Below p25 the p25-p50 slope continues (0.1 per 25 points), clamped at 0.
    below = estimate_percentile(COVERAGE, 0.56)
    assert below.value == pytest.approx(15) and below.extrapolated
    assert estimate_percentile(COVERAGE, -5).value == 0
    # Above p90 the p75-p90 slope continues (0.1 per 15 points), clamped at 100.
    assert estimate_percentile(COVERAGE, 0.92).value == pytest.approx(93)
    assert estimate_percentile(COVERAGE, 50).value == 100
    answer = compare_metric(COVERAGE, 0.56)
    assert answer.percentile_extrapolated and "extrapolated" in answer.explanation


def test_a_value_on_a_run_of_equal_quantiles_sits_in_its_middle():
    flat = baseline(0, 0, 2, 5, direction=LOWER, name="findings.high")
    assert estimate_percentile(flat, 0).value == pytest.approx(37.5)
    assert estimate_percentile(flat, 1).value == pytest.approx(62.5)
    middle = baseline(1, 3, 3, 8)
    assert estimate_percentile(middle, 3).value == pytest.approx(62.5)
    # Below a flat bottom the first rising part gives the slope.
    assert estimate_percentile(flat, -2).value == pytest.approx(0)
    # Above a flat top, the slope from the last smaller quantile (p50 here) up to p90.
    assert estimate_percentile(baseline(4, 4, 6, 6), 6.2).value == pytest.approx(94)


def test_zero_median_gives_the_absolute_delta_and_no_ratio():
    findings = baseline(0, 0, 1, 3, direction=LOWER, name="findings.critical")
    answer = compare_metric(findings, 2)
    assert answer.status is ComparisonStatus.ZERO_MEDIAN
    assert answer.relative_delta is None and answer.delta == 2
    assert answer.verdict is Verdict.WORSE and "median is 0" in answer.explanation
    assert answer.percentile == pytest.approx(75 + 15 / 2)
    assert compare_metric(findings, 0).verdict is Verdict.EQUAL


def test_a_single_sample_baseline_gives_a_verdict_and_no_percentile():
    one = baseline(0.5, 0.5, 0.5, 0.5, sample_size=1)
    answer = compare_metric(one, 0.4)
    assert answer.status is ComparisonStatus.SINGLE_SAMPLE
    assert answer.percentile is None and answer.better_than is None
    assert answer.verdict is Verdict.WORSE and answer.delta == pytest.approx(-0.1)
    assert "single sample" in answer.explanation
    zero_single = compare_metric(baseline(0, 0, 0, 0, sample_size=1, direction=LOWER), 0)
    assert zero_single.verdict is Verdict.EQUAL and zero_single.relative_delta is None


def test_degenerate_quantiles_give_a_verdict_and_no_percentile():
    all_equal = baseline(1, 1, 1, 1, sample_size=12)
    answer = compare_metric(all_equal, 3)
    assert answer.status is ComparisonStatus.DEGENERATE
    assert answer.percentile is None and answer.verdict is Verdict.BETTER
    assert answer.relative_delta == pytest.approx(2.0)
    assert "no spread" in answer.explanation
    assert estimate_percentile(all_equal, 1) is None


def test_missing_metrics_and_values_are_named_not_raised():
    answers = compare_all([COVERAGE, DURATION],
                          {"coverage.line_rate": 0.9, "tests.pass_rate": 0.99})
    by_name = {answer.name: answer for answer in answers}
    assert [answer.name for answer in answers] == [
        "coverage.line_rate", "build.duration_seconds", "tests.pass_rate"]
    missing_value = by_name["build.duration_seconds"]
    assert missing_value.status is ComparisonStatus.NO_VALUE and missing_value.verdict is None
    assert missing_value.median == 120
    no_baseline = by_name["tests.pass_rate"]
    assert no_baseline.status is ComparisonStatus.NO_BASELINE
    assert no_baseline.value == 0.99 and no_baseline.verdict is None
    assert "build.duration_seconds" in no_baseline.explanation
    assert compare_metric(COVERAGE, None).status is ComparisonStatus.NO_VALUE
    assert compare_metric(COVERAGE, math.nan).status is ComparisonStatus.NO_VALUE


def test_quantiles_of_samples_interpolate_between_ranks():
    values = [0.5, 0.6, 0.7, 0.8, 0.9]
    assert [quantile(values, q) for q in (0.25, 0.5, 0.75, 0.9)] == pytest.approx(
        [0.6, 0.7, 0.8, 0.86])
    summary = summarise("coverage.line_rate", [0.9, 0.5, 0.7, 0.8, 0.6])
    assert (summary.p50, summary.sample_size, summary.direction) == (0.7, 5, HIGHER)
    assert summary.mean == pytest.approx(0.7)
    assert quantile([3.0], 0.9) == 3.0


def test_a_spread_that_underflows_is_degenerate_not_a_division_by_zero():
    tiny = baseline(0.0, 0.0, 0.0, 5e-324)
    answer = compare_metric(tiny, 1.0)
    assert answer.status is ComparisonStatus.DEGENERATE and answer.percentile is None
    assert answer.verdict is Verdict.BETTER and answer.delta == 1.0
    assert estimate_percentile(baseline(0.0, 5e-324, 1.0, 2.0), -1.0).value == 0.0


def test_a_median_next_to_zero_gives_no_infinite_relative_delta():
    answer = compare_metric(baseline(5e-324, 5e-324, 5e-324, 1.0), 1e15)
    assert answer.relative_delta is None and answer.status is ComparisonStatus.ZERO_MEDIAN
    assert answer.percentile == 100.0 and math.isfinite(answer.delta)


# --- properties over arbitrary baselines -------------------------------------------------

#: Every number a benchmark or a compared value may hold (MAX_MAGNITUDE), subnormals
#: such as 5e-324 included, plus the spreads that once divided by zero or overflowed.
FINITE = st.one_of(
    st.floats(min_value=-1e15, max_value=1e15, allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, 5e-324, -5e-324, 1e-310, 1.0, 1e15, -1e15]))


def _no_spread(low: float, high: float) -> bool:
    """Quantiles the comparison treats as equal (float noise apart)."""
    return math.isclose(low, high, rel_tol=1e-9, abs_tol=1e-12)


@st.composite
def baselines(draw: st.DrawFn) -> MetricBaseline:
    p25, p50, p75, p90 = sorted(draw(st.lists(FINITE, min_size=4, max_size=4)))
    return MetricBaseline("m", draw(st.sampled_from(Direction)), p25, p50, p75, p90, None,
                          draw(st.integers(min_value=1, max_value=1000)))


@given(baselines(), FINITE, FINITE)
def test_percentile_never_falls_as_the_value_rises(metric: MetricBaseline, a: float, b: float):
    low, high = sorted((a, b))
    first, second = estimate_percentile(metric, low), estimate_percentile(metric, high)
    if first is None:
        assert second is None and _no_spread(metric.p25, metric.p90)
        return
    assert 0 <= first.value <= second.value <= 100


@given(baselines(), FINITE)
def test_flipping_the_direction_flips_the_verdict_and_mirrors_better_than(
    metric: MetricBaseline, value: float
):
    flipped_direction = LOWER if metric.direction is HIGHER else HIGHER
    flipped = MetricBaseline(metric.name, flipped_direction, metric.p25, metric.p50,
                             metric.p75, metric.p90, metric.mean, metric.sample_size)
    one, other = compare_metric(metric, value), compare_metric(flipped, value)
    mirror = {Verdict.BETTER: Verdict.WORSE, Verdict.WORSE: Verdict.BETTER,
              Verdict.EQUAL: Verdict.EQUAL}
    assert other.verdict is mirror[one.verdict]
    assert (one.percentile, one.delta, one.status) == (other.percentile, other.delta,
                                                       other.status)
    if one.better_than is not None:
        assert one.better_than + other.better_than == pytest.approx(100)


@given(baselines(), st.one_of(st.none(), FINITE))
def test_every_baseline_and_value_gets_an_answer(metric: MetricBaseline, value: float | None):
    answer = compare_metric(metric, value)
    assert answer.explanation
    if value is None:
        assert answer.status is ComparisonStatus.NO_VALUE
        return
    assert answer.verdict is not None and math.isfinite(answer.delta)
    assert answer.relative_delta is None or math.isfinite(answer.relative_delta)
    if metric.p50 == 0:
        assert answer.relative_delta is None
    if metric.sample_size == 1 or _no_spread(metric.p25, metric.p90):
        assert answer.percentile is None
    else:
        assert 0 <= answer.percentile <= 100
