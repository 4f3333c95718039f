"""Data scale: a generated 1,000,000-row, 5-column CSV: load + clean + window (lookback 60).

Goal: <= 3 s and <= 1 GB peak RSS; windows are a view, not copies. Baseline in the same run:
a bare `pandas.read_csv` of the same file.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import peak_rss_mb, record, run_json, show  # noqa: E402

N_ROWS = 1_000_000


def make_csv(path: Path) -> None:
    """Daily dates (minutes apart) and five numeric columns, one with thousands separators."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "time": pd.date_range("2000-01-01", periods=N_ROWS, freq="min").strftime("%Y-%m-%d %H:%M:%S"),
        **{f"x{i}": rng.standard_normal(N_ROWS).round(5) for i in range(4)},
    })
    frame["volume"] = [f"{v:,}" for v in rng.integers(1000, 5_000_000, N_ROWS)]
    frame.to_csv(path, index=False)


def child(mode: str, path: str) -> dict:
    """Run one measurement in this (fresh) process and return its figures."""
    start = time.perf_counter()
    if mode == "pandas":
        import pandas as pd

        frame = pd.read_csv(path)
        out = {"rows": len(frame)}
    else:
        from rnnlab import data, windows

        loaded = data.load(path)
        values = loaded.frame.to_numpy(dtype="float64")  # (T, F)
        X, y = windows.make_windows(values, 60, 1)  # (T-60, 60, F) view
        out = {"rows": len(loaded.frame), "windows": int(X.shape[0]),
               "view": bool(X.base is not None and X.nbytes > values.nbytes)}
    out["seconds"] = time.perf_counter() - start
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def main() -> list[dict]:
    """Run the benchmark, print and record its table."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.csv"
        make_csv(path)
        size_mb = path.stat().st_size / 1e6
        base = run_json([__file__, "--child", "pandas", str(path)])
        ours = run_json([__file__, "--child", "rnnlab", str(path)])
    rows = [
        {"measure": f"pandas.read_csv ({size_mb:.0f} MB)", "seconds": base["seconds"],
         "peak_rss_mb": base["peak_rss_mb"], "ratio": 1.0},
        {"measure": "rnnlab load + clean + windows(60)", "seconds": ours["seconds"],
         "peak_rss_mb": ours["peak_rss_mb"], "ratio": ours["seconds"] / base["seconds"]},
        {"measure": "goal: <= 3 s and <= 1024 MB, windows a view",
         "seconds": ours["seconds"] <= 3, "peak_rss_mb": ours["peak_rss_mb"] <= 1024,
         "ratio": ours.get("view")},
    ]
    show(rows)
    record("data_scale", rows)
    return rows


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(child(sys.argv[2], sys.argv[3])))
    else:
        main()
