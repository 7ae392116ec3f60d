"""The release rule on its own: a metric's released values change only in steps of at
least k projects, and a released metric is never withdrawn."""

from __future__ import annotations

from arcos.community.benchmark_releases import next_release

K = 3
FIVE = {"m": {"1": 0.1, "2": 0.2, "3": 0.3, "4": 0.4, "5": 0.5}}


def test_a_first_release_needs_k_projects() -> None:
    assert next_release({}, {"m": {"1": 0.1, "2": 0.2}}, K) == {}
    assert next_release({}, {"m": {"1": 0.1, "2": 0.2, "3": 0.3}}, K) == {
        "m": {"1": 0.1, "2": 0.2, "3": 0.3}}


def test_fewer_than_k_changes_keep_the_release() -> None:
    one_new = {"m": {**FIVE["m"], "6": 0.6}}
    one_changed_one_left = {"m": {"1": 0.9, "2": 0.2, "3": 0.3, "4": 0.4}}
    assert next_release(FIVE, one_new, K) == FIVE
    assert next_release(FIVE, one_changed_one_left, K) == FIVE


def test_k_changes_of_any_kind_replace_it() -> None:
    live = {"m": {"1": 0.9, "2": 0.2, "3": 0.3, "4": 0.4, "6": 0.6}}  # changed, left, joined
    assert next_release(FIVE, live, K) == live


def test_a_metric_is_never_withdrawn_and_metrics_move_independently() -> None:
    few = {"m": {"1": 0.9, "2": 0.8}, "n": {"1": 1.0, "2": 2.0, "3": 3.0}}
    assert next_release(FIVE, few, K) == {**FIVE, "n": few["n"]}
    assert next_release(FIVE, {}, K) == FIVE
