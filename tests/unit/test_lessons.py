"""Lesson files: parsing, validation, quick mode, a teacher's own folder."""

import json

import pytest

from rnnlab.lessons import LessonError, get_lesson, load_lessons, parse_lesson, start_lesson
from rnnlab.store import Store

CONCEPTS = ["types", "unrolling", "vanishing", "exploding", "truncated", "penalties", "esn",
            "dropout", "stock"]


def test_every_concept_of_the_tutorial_has_a_lesson_in_order():
    assert list(load_lessons()) == CONCEPTS


def test_lesson_configs_carry_their_point():
    lessons = load_lessons()
    cells = [cfg.model.cell for _, cfg in lessons["vanishing"].runs]
    assert cells == ["simple_rnn", "lstm", "gru"]
    seeds = {cfg.train.seed for _, cfg in lessons["vanishing"].runs}
    assert len(seeds) == 1, "the comparison needs the same seed"
    clips = [cfg.train.clipnorm for _, cfg in lessons["exploding"].runs]
    assert clips == [None, 1.0]
    assert [cfg.model.lookback for _, cfg in lessons["truncated"].runs] == [10, 60, 120]
    assert [cfg.model.horizon for _, cfg in lessons["types"].runs] == [1, 10]
    stock = lessons["stock"].runs[0][1]
    assert (stock.model.n_layers, stock.model.units, stock.train.epochs) == (4, 50, 30)


def test_quick_epochs_cut_every_run():
    lesson = get_lesson("dropout")
    assert {cfg.train.epochs for _, cfg in lesson.configs(quick_epochs=2)} == {2}
    assert {cfg.train.epochs for _, cfg in lesson.configs()} == {60}


def test_runs_are_named_after_the_lesson():
    lesson = get_lesson("vanishing")
    assert [cfg.name for _, cfg in lesson.runs] == [lesson.run_name(l) for l, _ in lesson.runs]
    assert lesson.runs[0][1].name == "Vanishing gradients · SimpleRNN"


def test_bad_lessons_are_refused_with_the_reason(tmp_path):
    with pytest.raises(LessonError, match="unknown field\\(s\\): colour"):
        parse_lesson({"id": "x", "title": "t", "explanation": "e", "look_at": "l",
                      "runs": [{}], "colour": 1})
    with pytest.raises(LessonError, match="missing: look_at"):
        parse_lesson({"id": "x", "title": "t", "explanation": "e", "runs": [{}]})
    with pytest.raises(LessonError, match="run 'bad'.*units must be in"):
        parse_lesson({"id": "x", "title": "t", "explanation": "e", "look_at": "l",
                      "runs": [{"label": "bad", "changes": {"model": {"units": 0}}}]})
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(LessonError, match="broken.json cannot be read"):
        load_lessons([tmp_path])
    with pytest.raises(LessonError, match="There is no lesson 'nope'"):
        get_lesson("nope")


def test_a_teachers_folder_adds_lessons(tmp_path, monkeypatch):
    own = {"id": "mine", "order": 20, "title": "My lesson", "explanation": "e", "look_at": "l",
           "base": {"model": {"units": 4}}, "runs": [{"label": "a"}, {"label": "b"}]}
    (tmp_path / "mine.json").write_text(json.dumps(own))
    monkeypatch.setenv("RNNLAB_LESSONS", str(tmp_path))
    lessons = load_lessons()
    assert list(lessons)[-1] == "mine"
    assert [cfg.model.units for _, cfg in lessons["mine"].runs] == [4, 4]


def test_start_lesson_submits_every_run_in_order(tmp_path):
    submitted = []

    def fake_submit(store, cfg):
        submitted.append(cfg)
        return store.create_run(cfg.to_dict(), name=cfg.name, epochs_total=cfg.train.epochs)

    store = Store(tmp_path)
    lesson = get_lesson("vanishing")
    ids = start_lesson(store, lesson, quick_epochs=1, submit=fake_submit)
    assert len(ids) == 3 and [c.train.epochs for c in submitted] == [1, 1, 1]
    assert [store.get_run(i).name for i in ids] == [cfg.name for _, cfg in lesson.runs]


def test_lessons_are_parsed_once_and_read_again_when_a_file_changes(tmp_path):
    own = {"id": "mine", "title": "My lesson", "explanation": "first", "look_at": "l",
           "runs": [{"label": "a"}]}
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(own))
    first = load_lessons([tmp_path])
    again = load_lessons([tmp_path])
    assert again["mine"] is first["mine"]           # parsed once
    again.pop("mine")                               # each call gets its own dict
    assert "mine" in load_lessons([tmp_path])
    path.write_text(json.dumps({**own, "explanation": "changed, and longer"}))
    assert load_lessons([tmp_path])["mine"].explanation == "changed, and longer"
    (tmp_path / "more.json").write_text(json.dumps({**own, "id": "more"}))
    assert sorted(load_lessons([tmp_path])) == ["mine", "more"]
    path.unlink()
    assert list(load_lessons([tmp_path])) == ["more"]


def test_lesson_runs_can_reuse_a_listing(tmp_path):
    store = Store(tmp_path)
    lesson = get_lesson("exploding")
    label = lesson.runs[0][0]
    run_id = store.create_run({}, name=lesson.run_name(label))
    listed = store.list_runs()
    assert lessons_runs_ids(store, lesson, listed) == lessons_runs_ids(store, lesson) \
        == {label: run_id}
    assert lessons_runs_ids(store, lesson, []) == {}  # only the listing given is looked at


def lessons_runs_ids(store, lesson, runs=None):
    from rnnlab.lessons import lesson_runs

    return {label: run.id for label, run in lesson_runs(store, lesson, runs).items()}
