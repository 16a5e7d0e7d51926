"""Garbage collection around a run: on the GUI thread only, and no full collection during a
run (the runs themselves are tested through the main window)."""

import gc
import threading
import weakref

import pytest

from bngui.gui.garbage import collect_on_the_gui_thread
from bngui.gui.tasks import NEVER, no_full_collections_during_the_run


class Node:
    """An object in a reference cycle: only a collection frees it."""

    def __init__(self):
        self.me = self


def old_cycle():
    """A cycle that has reached the oldest generation, as a finished run's objects do."""
    node = Node()
    gc.collect(0)
    gc.collect(1)
    return weakref.ref(node)


def test_cycles_are_collected_by_the_gui_thread_and_never_by_another(qtbot):
    collector = collect_on_the_gui_thread()
    assert not gc.isenabled()  # no thread collects by allocating
    made_elsewhere, kept = [], []

    def worker():
        node = Node()
        made_elsewhere.append(weakref.ref(node))
        del node
        # Enough new objects to start a collection, if a thread could start one.
        kept.extend(Node() for _ in range(10 * gc.get_threshold()[0]))

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert made_elsewhere[0]() is not None  # the worker collected nothing

    def collected_by_the_gui_thread():
        # New objects keep the collector's counts rising, so its checks go on to the
        # older generations too (should anything have moved the cycle there).
        kept.extend(Node() for _ in range(gc.get_threshold()[0]))
        return made_elsewhere[0]() is None

    qtbot.waitUntil(collected_by_the_gui_thread, timeout=20_000)
    assert collector.timer.isActive()


def make_every_generation_due():
    """Counts above every threshold, as after a busy stretch of training."""
    young, middle, _ = gc.get_threshold()
    for _ in range(11):  # the oldest generation's threshold is 10 (outside a run)
        gc.collect(1)
    for _ in range(middle + 1):
        gc.collect(0)
    return [Node() for _ in range(young + 100)]


def test_the_collector_holds_full_collections_during_a_run_and_makes_one_after(qtbot):
    collector = collect_on_the_gui_thread()
    before = gc.get_threshold()
    with no_full_collections_during_the_run():
        assert gc.get_threshold() == (before[0], before[1], NEVER)
        alive = old_cycle()
        keep = make_every_generation_due()
        collector.check()  # young generations collected; the full collection waits
        assert alive() is not None
    assert gc.get_threshold() == before
    keep += make_every_generation_due()
    collector.check()
    assert alive() is None
    with pytest.raises(RuntimeError), no_full_collections_during_the_run():
        raise RuntimeError("the run failed")
    assert gc.get_threshold() == before
