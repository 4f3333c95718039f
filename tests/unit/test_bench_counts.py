"""The forecast benchmark's counts: a win is a skill above the tie band, never a rounding."""

import math

from bench.forecast_quality import TIE, beats, goal_rows, path_goal_rows


def row(name, vs_naive, vs_best, role="held out"):
    return {"series": name, "set": role, "skill_vs_naive": vs_naive, "skill_vs_best": vs_best,
            "seed_spread": 0.01}


def test_a_model_equal_to_its_linear_start_but_for_rounding_ties_and_does_not_win():
    assert not beats(3.9e-8) and not beats(TIE) and not beats(-0.2) and not beats(math.nan)
    assert beats(2 * TIE) and beats(0.4)
    rows = [row("a", 0.3, 3.9e-8), row("b", 0.2, 0.0015), row("c", 0.1, -0.1),
            row("d", 1e-9, -1e-9)]
    lines = {r["series"]: (r["kind"], r["frequency"]) for r in goal_rows(rows, seeds=3)}
    assert lines["goal: beats naive (>= 4 of 4)"] == ("3 of 4 (held out 3 of 4; new 0 of 0)",
                                                      "not met")
    assert lines["goal: beats the best baseline (>= 2 of 4)"][0].startswith("1 of 4")
    counts = {r["series"]: r["set"] for r in path_goal_rows(rows)}
    assert counts["beats naive"] == "3 of 4" and counts["beats the best baseline"] == "1 of 4"
