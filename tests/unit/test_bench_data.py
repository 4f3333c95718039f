"""The benchmark's real series are the files their provenance names, byte for byte."""

import hashlib
import re
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2] / "bench" / "data"


def recorded() -> dict[str, str]:
    """file name (relative to bench/data) -> sha256, from the block in PROVENANCE.md."""
    text = (DATA / "PROVENANCE.md").read_text(encoding="utf-8")
    block = text.split("sha256:", 1)[1].split("```")[1]
    return {name: digest for digest, name in re.findall(r"^([0-9a-f]{64})  (\S+)$", block, re.M)}


def test_every_bench_file_has_a_recorded_hash():
    names = recorded()
    on_disk = {p.name for p in DATA.iterdir() if p.suffix == ".csv"}
    assert on_disk and on_disk <= set(names), sorted(on_disk - set(names))


@pytest.mark.parametrize("name", sorted(recorded()))
def test_bench_file_matches_its_hash(name):
    digest = hashlib.sha256((DATA / name).read_bytes()).hexdigest()
    assert digest == recorded()[name]


def test_every_bench_series_reads_a_recorded_file():
    import sys

    sys.path.insert(0, str(DATA.parents[1]))
    from bench.forecast_quality import SERIES

    names = {(DATA / n).resolve() for n in recorded()}
    for series in SERIES:
        assert series.source.resolve() in names, series.name
