"""The real window at projector sizes: the run controls, the progress and the table always fit.

A fresh configuration (the window's first launch), the experiment panel shown,
normal and presentation mode, at the four sizes a lecture room offers. Each
run control must be fully visible (Qt's ``visibleRegion`` covers the widget)
and inside the window; the results table shows every column without scrolling
sideways, with all ten variants and the longest texts it can hold; no label of
the panels is cut.
"""

import re

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QRegion
from PySide6.QtWidgets import QAbstractButton, QLabel

from bngui.core import events
from bngui.core.variants import NOTEBOOK_VARIANT_IDS

SIZES = [(1280, 720), (1366, 768), (1440, 900), (1920, 1080)]


def fully_visible(widget, window):
    """Why ``widget`` is not fully visible inside ``window``, or None."""
    if not widget.isVisible():
        return "hidden"
    hidden_part = QRegion(widget.rect()).subtracted(widget.visibleRegion())
    if not hidden_part.isEmpty():
        return f"partly covered or clipped: {hidden_part.boundingRect()} of {widget.rect()}"
    placed = QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())
    if not window.rect().contains(placed):
        return f"outside the window: {placed} in {window.rect()}"
    return None


def clipped_labels(container):
    """Labels, check boxes and buttons of ``container`` whose text does not fit them.

    A label that wraps must be tall enough for its lines, and wide enough for its
    longest word (a word is never broken).
    """
    cut = []
    for widget in [*container.findChildren(QLabel), *container.findChildren(QAbstractButton)]:
        if not widget.isVisible() or not widget.text():
            continue
        if isinstance(widget, QLabel) and widget.wordWrap():
            if widget.textFormat() == Qt.RichText or "<" in widget.text():
                words = re.sub("<[^>]+>", " ", widget.text()).split()
            else:
                words = widget.text().replace("\u200b", " ").split()
            longest = max(widget.fontMetrics().horizontalAdvance(word) for word in words)
            room = widget.contentsRect().width()
            if longest > room or widget.heightForWidth(widget.width()) > widget.height():
                cut.append(f"wrapped {widget.text()!r}: {widget.size()}, longest word {longest}")
        elif widget.sizeHint().width() > widget.width():
            cut.append(f"{type(widget).__name__} {widget.text()!r}: {widget.width()} < "
                       f"{widget.sizeHint().width()}")
    return cut


def fill_the_table(window):
    """Every row of "All ten", finished, with the widest cells the table can show."""
    history = window.history
    history.reset(NOTEBOOK_VARIANT_IDS)
    history.handle(events.RunStarted(tuple(NOTEBOOK_VARIANT_IDS), 800, 64))
    for variant in NOTEBOOK_VARIANT_IDS:
        history.handle(events.TrainingBatchStatistics(variant, 775, 0.05, 0.96875, (1.0,) * 21))
        history.handle(events.VariantFinished(variant, events.DIVERGED, 0.1, 0.97, 0.1, 1234.5))
    history.handle(events.RunFinished(events.DONE, 1234.5))
    window.redraw()


@pytest.mark.parametrize("presentation", [False, True], ids=["normal", "presentation"])
@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_the_run_controls_progress_and_table_fit(qtbot, fake_window, size, presentation):
    window = fake_window()  # a fresh configuration
    window.setup_panel.apply_preset("All ten")
    if presentation:
        window.presentation_action.trigger()
    window.resize(*size)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == size, timeout=5000)
    # Presentation mode gives the experiment panel's width to the plots (Ctrl+E brings it back).
    assert window.setup_dock.isVisible() is not presentation
    fill_the_table(window)
    bar = window.run_bar
    qtbot.waitUntil(lambda: window.results.horizontalHeader().length() > 0, timeout=5000)
    qtbot.wait(50)  # the docks take their sizes at the next turn of the event loop
    problems = {}
    for name, widget in (("Start", bar.start_button), ("Pause", bar.pause_button),
                         ("Stop", bar.stop_button), ("progress", bar.progress),
                         ("status", bar.status), ("speed", bar.speed)):
        problem = fully_visible(widget, window)
        if problem:
            problems[name] = problem
    assert not problems, problems
    table = window.results
    # (The table's own region excludes its viewport, a child: its place is checked.)
    placed = QRect(table.mapTo(window, QPoint(0, 0)), table.size())
    assert table.isVisible() and window.rect().contains(placed)
    assert table.horizontalScrollBar().maximum() == 0, "the results table scrolls sideways"
    assert table.viewport().height() >= 2 * table.rowHeight(0), "fewer than two rows of results"
    for container in (window.setup_panel, window.run_bar, window.curve_controls,
                      window.curves.variant_list):
        assert not clipped_labels(container), clipped_labels(container)
    # The plots keep their room: the window did not grow beyond the screen's size.
    assert window.curves.graphics.width() > 0.35 * size[0]
    assert window.curves.graphics.height() > 0.25 * size[1]
