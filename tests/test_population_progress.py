"""Progress bars show on a terminal only, and carry counts."""

from __future__ import annotations

import io
import sys

from cds_service.population.progress import Progress


def test_off_a_terminal_the_bar_is_silent(monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    bar = Progress().bar(total=3, desc="files")
    bar.update(3)
    bar.close()
    assert stream.getvalue() == ""


def test_when_asked_the_bar_counts(monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    bar = Progress(enabled=True).bar(total=2, desc="patients", unit="patient")
    bar.update(2)
    bar.close()
    assert "patients" in stream.getvalue() and "2/2" in stream.getvalue()
