"""`rnnlab export RUN --tensorboard DIR`: the event files, read back record by record, hold the
store's values (losses, learning rate, gradient norms, gradient through time, hparams)."""

import io
import struct
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tensorboardX")

from tensorboardX.proto import event_pb2, plugin_hparams_pb2  # noqa: E402

from fake_run import make_run  # noqa: E402
from rnnlab import cli, export  # noqa: E402

pytestmark = pytest.mark.tensorboard
EPOCHS = 6


def read_events(folder: Path) -> list:
    """Every Event of the event files directly in `folder` (TFRecord framing: length, its CRC,
    the record, its CRC)."""
    events = []
    for path in sorted(folder.glob("events.out.tfevents.*")):
        data = path.read_bytes()
        at = 0
        while at < len(data):
            (length,) = struct.unpack("<Q", data[at:at + 8])
            record = data[at + 12:at + 12 + length]
            at += 12 + length + 4
            event = event_pb2.Event()
            event.ParseFromString(record)
            events.append(event)
    return events


def values(events) -> dict[str, dict[int, object]]:
    """tag -> {step: the summary value}."""
    out: dict[str, dict[int, object]] = defaultdict(dict)
    for event in events:
        for value in event.summary.value:
            out[value.tag][event.step] = value
    return out


@pytest.fixture
def written(store, tmp_path):
    run_id = make_run(store, epochs=EPOCHS)
    folder = tmp_path / "tb"
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["export", run_id, "--tensorboard", str(folder)], out=out, err=err)
    assert code == 0, err.getvalue()
    assert out.getvalue().startswith("tensorboard  ")
    return run_id, folder


def test_scalars_equal_the_stores_epochs(store, written):
    run_id, folder = written
    tags = values(read_events(folder))
    for row in store.epochs(run_id):
        for column, tag in export.EPOCH_SCALARS.items():
            stored = tags[tag][row["epoch"]].simple_value
            assert stored == pytest.approx(row[column], rel=1e-6), (tag, row["epoch"])
    assert sorted(tags["loss/train"]) == list(range(1, EPOCHS + 1))


def test_per_tensor_gradient_norms_equal_the_store(store, written):
    run_id, folder = written
    tags = values(read_events(folder))
    rows = store.tensor_norms(run_id)
    assert len({r["tensor"] for r in rows}) == 14
    for row in rows:
        for stat in ("mean", "max"):
            got = tags[f"grad_tensor/{row['tensor']}/{stat}"][row["epoch"]].simple_value
            assert got == pytest.approx(row[stat], rel=1e-6)


def test_gradient_through_time_and_step_norms_are_histograms(store, written):
    run_id, folder = written
    tags = values(read_events(folder))
    for series, by_epoch in store.through_time(run_id).items():
        for epoch, stored in by_epoch.items():
            histo = tags[f"through_time/{series}"][epoch].histo
            assert list(histo.bucket) == pytest.approx(stored, rel=1e-12)
            assert list(histo.bucket_limit) == list(range(1, len(stored) + 1))
        image = tags[f"through_time_image/{series}"][max(by_epoch)].image
        assert image.encoded_image_string.startswith(b"\x89PNG")
        assert (image.height, image.width) == (EPOCHS * export.IMAGE_CELL,
                                                len(by_epoch[1]) * export.IMAGE_CELL)
    for epoch, norms in store.step_norms(run_id).items():
        histo = tags["grad_norm/steps"][epoch].histo
        assert histo.num == len(norms)
        assert histo.sum == pytest.approx(sum(norms), rel=1e-9)
        assert histo.max == pytest.approx(max(norms), rel=1e-9)


def test_hparams_hold_the_settings_and_the_final_scores(store, written):
    run_id, folder = written
    run = store.get_run(run_id)
    events = read_events(folder / export.HPARAMS_FOLDER)
    start = None
    for event in events:
        for value in event.summary.value:
            if value.metadata.plugin_data.plugin_name == "hparams":
                data = plugin_hparams_pb2.HParamsPluginData()
                data.ParseFromString(value.metadata.plugin_data.content)
                if data.HasField("session_start_info"):
                    start = data.session_start_info
    assert start is not None
    hp = start.hparams
    assert hp["model.cell"].string_value == "lstm"
    assert hp["model.n_layers"].number_value == 4
    assert hp["model.units"].number_value == 50
    assert hp["train.learning_rate"].number_value == pytest.approx(1e-3)
    assert hp["data.target"].string_value == "Open"
    assert hp["model.bidirectional"].bool_value is False
    metrics = values(events)
    test = run.summary["metrics"]["test"]
    got = metrics["hparam/test/model/rmse"][EPOCHS].simple_value
    assert got == pytest.approx(test["model"]["rmse"], rel=1e-6)
    assert metrics["hparam/test/naive/mae"][EPOCHS].simple_value == pytest.approx(
        test["naive"]["mae"], rel=1e-6)
    assert metrics["hparam/skill_vs_naive"][EPOCHS].simple_value == pytest.approx(
        run.summary["skill_vs_naive"], rel=1e-6)


def test_through_time_image_is_log_scaled(store):
    image = export.through_time_image({1: [1.0, 0.1, 0.01], 2: [0.0, None, 1e-3]})
    cell = export.IMAGE_CELL
    assert image.shape == (2 * cell, 3 * cell)
    assert image[0, 0] == 1.0 and image[0, cell] == pytest.approx(2 / 3)
    assert image[cell, 0] == 0.0 and image[cell, 2 * cell] == 0.0
    assert export.through_time_image({1: [0.0, None]}) is None
