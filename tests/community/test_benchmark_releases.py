"""The release rule on its own: a metric's released values change only in steps of at
least k projects away from the current release and its kept earlier ones; a project that
leaves takes its values out, and the metric is withheld rather than shown without it."""

from __future__ import annotations

from arcos.community.benchmark_releases import HISTORY, next_release, without_project

K = 3
FIVE = {"m": {"1": 0.1, "2": 0.2, "3": 0.3, "4": 0.4, "5": 0.5}}


def release(released, live, history=None):  # type: ignore[no-untyped-def]
    return next_release(released, history or {}, live, K)


def test_a_first_release_needs_k_projects() -> None:
    assert release({}, {"m": {"1": 0.1, "2": 0.2}}) == ({}, {})
    assert release({}, {"m": {"1": 0.1, "2": 0.2, "3": 0.3}}) == (
        {"m": {"1": 0.1, "2": 0.2, "3": 0.3}}, {})


def test_fewer_than_k_changes_keep_the_release() -> None:
    one_new = {"m": {**FIVE["m"], "6": 0.6}}
    one_changed_one_left = {"m": {"1": 0.9, "2": 0.2, "3": 0.3, "4": 0.4}}
    assert release(FIVE, one_new) == (FIVE, {})
    assert release(FIVE, one_changed_one_left) == (FIVE, {})


def test_k_changes_of_any_kind_replace_it_and_keep_the_old_one() -> None:
    live = {"m": {"1": 0.9, "2": 0.2, "3": 0.3, "4": 0.4, "6": 0.6}}  # changed, left, joined
    assert release(FIVE, live) == (live, {"m": [FIVE["m"]]})


def test_going_back_near_an_earlier_release_is_refused() -> None:
    """Three out and three back: the third release would differ from the first by one
    project only (c left), so `sum(R1) - sum(R3)` would be c's value."""
    first = {"m": {"a": 0.5, "b": 0.5, "c": 0.9, "d": 0.5}}
    second_live = {"m": {"a": 0.1, "b": 0.2, "c": 0.3, "d": 0.5}}
    second, history = release(first, second_live)
    assert second == second_live
    back = {"m": {"a": 0.5, "b": 0.5, "d": 0.5}}
    assert release(second, back, history) == (second, history)


def test_history_is_bounded() -> None:
    released, history = {}, {}
    for step in range(HISTORY + 3):
        live = {"m": {str(p): float(step) for p in range(K)}}
        released, history = next_release(released, history, live, K)
        assert released == live
    assert len(history["m"]) == HISTORY
    assert history["m"][0] == {str(p): float(HISTORY + 1) for p in range(K)}


def test_a_metric_is_never_withdrawn_by_a_refresh() -> None:
    few = {"m": {"1": 0.9, "2": 0.8}, "n": {"1": 1.0, "2": 2.0, "3": 3.0}}
    assert release(FIVE, few)[0] == {**FIVE, "n": few["n"]}
    assert release(FIVE, {}) == (FIVE, {})


def test_a_leaving_project_takes_its_values_and_withholds_its_metrics() -> None:
    both = {**FIVE, "n": {"7": 1.0, "8": 2.0, "9": 3.0}}
    earlier = {"m": [{"1": 0.0, "2": 0.0, "3": 0.0}]}
    released, history = without_project(both, earlier, "2")
    assert released == {"n": both["n"]}  # m is withheld, n did not hold it
    assert history["m"] == [{"1": 0.1, "3": 0.3, "4": 0.4, "5": 0.5}, {"1": 0.0, "3": 0.0}]
    assert "'2'" not in repr((released, history))  # no key names project 2
    # m comes back only k projects away from the release it was withheld from
    near = {"m": {"1": 0.1, "3": 0.3, "4": 0.4, "5": 0.9}}
    assert "m" not in next_release(released, history, near, K)[0]
    far = {"m": {"1": 0.7, "3": 0.8, "4": 0.9, "5": 0.5}}
    assert next_release(released, history, far, K)[0]["m"] == far["m"]
