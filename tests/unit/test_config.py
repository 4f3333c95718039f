"""Config validation, messages and the JSON round trip."""

import json

import pytest

from rnnlab.config import DataConfig, ModelConfig, RunConfig, TrainConfig, preset
from rnnlab.errors import ConfigError, RnnlabError


def test_defaults_round_trip_through_json():
    cfg = RunConfig()
    assert RunConfig.from_json(cfg.to_json()) == cfg


def test_preset_round_trips_and_matches_the_tutorial():
    cfg = preset("seed-tutorial")
    assert RunConfig.from_dict(json.loads(cfg.to_json())) == cfg
    assert (cfg.model.cell, cfg.model.n_layers, cfg.model.units, cfg.model.dropout) == ("lstm", 4, 50, 0.2)
    assert (cfg.model.lookback, cfg.train.epochs, cfg.train.batch_size) == (60, 100, 32)
    assert cfg.data.test_source == "google_stock_price_test.csv"


def test_per_layer_lists_survive_json_as_tuples():
    cfg = RunConfig(model=ModelConfig(n_layers=2, units=[16, 8], dropout=[0.1, 0.0]))
    back = RunConfig.from_json(cfg.to_json())
    assert back == cfg
    assert back.model.units_per_layer == (16, 8)
    assert back.model.dropout_per_layer == (0.1, 0.0)


def test_unknown_keys_are_refused_by_name():
    raw = RunConfig().to_dict()
    raw["model"]["unitz"] = 3
    with pytest.raises(ConfigError, match="Unknown setting\\(s\\) in model: unitz"):
        RunConfig.from_dict(raw)
    with pytest.raises(ConfigError, match="Unknown setting\\(s\\) in run config: colour"):
        RunConfig.from_dict({"colour": "red"})


@pytest.mark.parametrize("kwargs, message", [
    ({"units": 0}, "units must be in [1, 1024]. Received: units=0"),
    ({"dropout": 1.0}, "dropout must be in [0.0, 1.0). Received: dropout=1.0"),
    ({"lookback": 0}, "lookback must be in [1, 2000]. Received: lookback=0"),
    ({"horizon": 0}, "horizon must be in [1, 365]. Received: horizon=0"),
    ({"n_layers": 9}, "n_layers must be in [1, 8]. Received: n_layers=9"),
    ({"cell": "transformer"}, "cell must be one of simple_rnn, gru, lstm, esn. Received: cell='transformer'"),
    ({"n_layers": 2, "units": [4, 4, 4]}, "units has 3 entries but the model has 2 layers"),
])
def test_bad_model_settings_name_the_value(kwargs, message):
    with pytest.raises(ConfigError) as err:
        ModelConfig(**kwargs)
    assert message in str(err.value)


@pytest.mark.parametrize("kwargs, message", [
    ({"learning_rate": 0}, "learning_rate must be in (0.0, 10.0]. Received: learning_rate=0"),
    ({"learning_rate": 1e6}, "learning_rate must be in (0.0, 10.0]. Received: learning_rate=1000000.0"),
    ({"epochs": 100_000}, "epochs must be in [1, 5000]. Received: epochs=100000"),
    ({"batch_size": 0}, "batch_size must be in [1, 8192]. Received: batch_size=0"),
    ({"clipnorm": -1.0}, "clipnorm must be in (0.0, 1000000.0]. Received: clipnorm=-1.0"),
    ({"optimizer": "lion"}, "optimizer must be one of adam, sgd, rmsprop"),
    ({"epochs": 2.5}, "epochs must be a whole number. Received: epochs=2.5"),
])
def test_bad_train_settings_name_the_value(kwargs, message):
    with pytest.raises(ConfigError) as err:
        TrainConfig(**kwargs)
    assert message in str(err.value)


def test_bad_data_settings():
    with pytest.raises(ConfigError, match="leave too little to train on"):
        DataConfig(val_fraction=0.45, test_fraction=0.45)
    with pytest.raises(ConfigError, match="scaling must be one of minmax, standard, none"):
        DataConfig(scaling="log")


def test_errors_are_rnnlab_errors_and_replace_validates():
    cfg = RunConfig()
    assert cfg.replace(model={"units": 8}).model.units == 8
    with pytest.raises(RnnlabError):
        cfg.replace(train={"epochs": 0})


def test_configs_are_frozen():
    cfg = RunConfig()
    with pytest.raises(Exception):
        cfg.model.units = 3  # type: ignore[misc]
