"""The worker's garbage-collection policy around a run (the runs themselves are
tested through the main window)."""

import gc
import weakref

import pytest

from bngui.gui.tasks import NEVER, full_collections_only_before_the_run


class Node:
    """An object in a reference cycle: only a full collection frees it."""

    def __init__(self):
        self.me = self


def test_the_previous_runs_cycles_are_freed_when_a_run_starts():
    gc.collect()  # the cycle below then sits in an old generation, as a finished run does
    old = Node()
    gc.collect(1)
    alive = weakref.ref(old)
    del old
    with full_collections_only_before_the_run():
        assert alive() is None


def test_no_automatic_full_collection_during_the_run_and_the_threshold_comes_back():
    before = gc.get_threshold()
    with full_collections_only_before_the_run():
        assert gc.get_threshold() == (before[0], before[1], NEVER)
    assert gc.get_threshold() == before
    with pytest.raises(RuntimeError), full_collections_only_before_the_run():
        raise RuntimeError("the run failed")
    assert gc.get_threshold() == before
