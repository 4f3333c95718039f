"""The forecast benchmark's counts: a win is a skill above the tie band, never a rounding."""

import math

from bench.forecast_quality import (TIE, beats, goal_rows, path_goal_rows, path_shortfall_rows,
                                     shortfall_rows)


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


def line(name, best, model, linear, anchor, naive=10.0, form="ETS(A,N,N)"):
    """A main-table row with these test RMSEs; skill vs best from them, as the bench gives it."""
    scores = {"naive": naive, "seasonal_naive": math.nan, "linear_ar": linear, "anchor": anchor}
    return {"series": name, "set": "held out", "model": model, **scores, "best": best,
            "skill_vs_best": 1 - model / scores[best], "anchor_form": form}


def test_the_shortfall_table_names_each_loss_and_its_reason_and_skips_the_wins():
    rows = [line("won", "linear_ar", 9.0, 9.5, 9.8),
            line("tie", "linear_ar", 8.004, 8.0, 9.0),
            line("drift", "linear_ar", 8.4, 8.0, 9.0),
            line("ets", "anchor", 10.0, 10.02, 8.0, naive=20.0, form="ETS(M,A,M), season 12"),
            line("walk", "naive", 10.1, 10.3, 10.2),
            {"series": "goal: beats naive", "kind": "1 of 5"}]
    out = {r["series"]: r for r in shortfall_rows(rows)}
    assert "won" not in out and "goal: beats naive" not in out
    assert out["tie"]["model vs its linear AR"] == "+0.05 %"
    assert "stays within 0.05 %" in out["tie"]["why"] and out["tie"]["linear AR vs best"] == "—"
    assert "ends 5.0 % worse" in out["drift"]["why"]
    ets = out["ets"]
    assert ets["best"] == "ETS" and ets["model vs best"] == "+25.0 %"
    assert ets["linear AR vs best"] == "+25.2 %" and "grows with the level" in ets["why"]
    assert "loses what the line loses" in ets["why"]
    assert "3.0 % more than naive" in out["walk"]["why"]
    assert "improves on its least-squares start by 1.9 %" in out["walk"]["why"]
    assert out["reasons"]["why"] == ("ties its straight line: 1; moved off its straight line and "
                                     "lost: 1; ETS beats the straight line: 1; naive is best: 1")


def test_the_free_running_shortfall_speaks_of_paths():
    rows = [line("ets", "anchor", 13.0, 10.0, 8.0, naive=20.0)]
    why = path_shortfall_rows(rows)[0]["why"]
    assert why.startswith("Fed its own forecasts, the linear autoregression errs 25.0 % more")
    assert "the network's path ends 30.0 % worse than its least-squares start's path" in why
    assert why.endswith("it loses more than the line.")
