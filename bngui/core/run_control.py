"""Stop and pause, asked from any thread, honoured by a trainer between batches (no TensorFlow)."""

import threading
import time


class RunControl:
    """Stop and pause flags, set from any thread, checked by the trainer between steps."""

    def __init__(self):
        self._stop = threading.Event()
        self._running = threading.Event()  # cleared while paused
        self._running.set()

    def stop(self) -> None:
        self._stop.set()
        self._running.set()  # wake a paused loop so it can see the stop

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def wait_while_paused(self, poll_seconds: float = 0.05) -> float:
        """Block while paused; return the seconds spent waiting."""
        started = time.perf_counter()
        while not self._running.wait(poll_seconds):
            pass
        return time.perf_counter() - started
