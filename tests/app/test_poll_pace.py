"""Live views slow down with the number of open pages: the pace for a few people, six times
slower for a class of 30, so a class costs the web process what five people do."""

from __future__ import annotations

import pytest

from rnnlab.ui import process


@pytest.mark.parametrize("sessions, expected", [(1, 1.5), (5, 1.5), (10, 3.0), (30, 9.0)])
def test_the_refresh_interval_grows_past_a_few_open_pages(monkeypatch, sessions, expected):
    monkeypatch.setattr(process, "open_sessions", lambda: sessions)
    assert process.poll_every(1.5) == pytest.approx(expected)


def test_outside_a_running_server_there_is_one_page():
    assert process.open_sessions() == 1
    assert process.poll_every(3.0) == 3.0
