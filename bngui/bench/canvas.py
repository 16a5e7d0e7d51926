"""``bngui bench --canvas``: from the end of a stroke to every prediction on screen.

The real draw page (canvas, preprocessing, inference thread, prediction rows)
runs offscreen unless a display platform is chosen. Synthetic digits are drawn
with real mouse events; the clock starts just before the mouse-button release
and stops when the rows of every model show the new prediction and have been
repainted.
"""

import math
import os
import statistics
import sys
import time

import numpy as np

WARMUP_STROKES = 5
TARGET_MS = 50.0
TIMEOUT_S = 120.0


def _digit_shapes():
    """A few digit-like polylines in unit coordinates (x, y in [0, 1], y down)."""
    circle = [(0.5 + 0.28 * math.sin(a), 0.5 - 0.36 * math.cos(a)) for a in np.linspace(0, 2 * math.pi, 24)]
    return [
        [(0.5, 0.12), (0.5, 0.88)],  # one
        [(0.25, 0.15), (0.75, 0.15), (0.4, 0.88)],  # seven
        circle,  # zero
        [(0.25, 0.25), (0.5, 0.12), (0.75, 0.28), (0.3, 0.85), (0.78, 0.85)],  # two
        [(0.3, 0.15), (0.22, 0.55), (0.75, 0.55), (0.65, 0.15), (0.65, 0.9)],  # four-ish
    ]


def _percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


def run_canvas_bench(variant_ids, strokes=40, warmup=WARMUP_STROKES):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEvent, QEventLoop, QPointF, Qt, QTimer
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    print("Loading TensorFlow and the models…", flush=True)
    from bngui.core.models import build_model
    from bngui.core.preprocess import to_mnist
    from bngui.core.storage import ModelFileError, load_models
    from bngui.gui.draw_page import DrawPage
    from bngui.gui.inference import SHIPPED, UNTRAINED
    from bngui.resource_files import shipped_models_dir

    try:
        shipped, _ = load_models(shipped_models_dir())
    except ModelFileError:
        shipped = {}
    shipped = {variant_id: model for variant_id, model in shipped.items() if variant_id in variant_ids}
    fresh = {variant_id: build_model(variant_id) for variant_id in variant_ids if variant_id not in shipped}

    page = DrawPage()
    page.resize(1280, 800)
    page.show()
    page.start(load_shipped=False)
    ready = {"idle": False}
    page.inference.idle.connect(lambda: ready.__setitem__("idle", True))
    page.add_models(shipped, SHIPPED)
    page.add_models(fresh, UNTRAINED)

    def wait_for(condition, timeout=TIMEOUT_S):
        deadline = time.perf_counter() + timeout
        while not condition():
            if time.perf_counter() > deadline:
                raise TimeoutError("the draw page did not answer in time")
            app.processEvents(QEventLoop.AllEvents, 20)
            if not condition():
                time.sleep(0.002)

    started = time.perf_counter()
    wait_for(lambda: len(page.models) == len(variant_ids) and ready["idle"] and not page.inference.busy)
    print(f"{len(variant_ids)} models ready ({len(shipped)} shipped, {len(fresh)} untrained);"
          f" graphs traced in {time.perf_counter() - started:.1f} s", flush=True)

    canvas = page.canvas
    shown = QEventLoop()
    page.predictions_shown.connect(lambda _request: shown.quit())
    watchdog = QTimer()
    watchdog.setSingleShot(True)
    watchdog.timeout.connect(shown.quit)

    def send(kind, point):
        button = Qt.LeftButton
        buttons = Qt.NoButton if kind == QEvent.MouseButtonRelease else Qt.LeftButton
        global_point = QPointF(canvas.mapToGlobal(point.toPoint()))
        event = QMouseEvent(kind, point, global_point, button, buttons, Qt.NoModifier)
        QApplication.sendEvent(canvas, event)

    shapes = _digit_shapes()
    rng = np.random.default_rng(0)
    totals, inference, preprocessing = [], [], []
    for index in range(warmup + strokes):
        canvas.clear()
        app.processEvents()
        rect = canvas.target_rect()
        shape = np.asarray(shapes[index % len(shapes)], dtype=float)
        shape = shape * (0.85 + 0.15 * rng.random()) + 0.05 * rng.random(2)
        points = []
        for (x0, y0), (x1, y1) in zip(shape[:-1], shape[1:]):
            for t in np.linspace(0.0, 1.0, 8, endpoint=False):
                x, y = x0 + (x1 - x0) * t, y0 + (y1 - y0) * t
                points.append(QPointF(rect.left() + x * rect.width(), rect.top() + y * rect.height()))
        last = QPointF(rect.left() + shape[-1][0] * rect.width(), rect.top() + shape[-1][1] * rect.height())
        send(QEvent.MouseButtonPress, points[0])
        for point in points[1:]:
            send(QEvent.MouseMove, point)
        send(QEvent.MouseMove, last)
        app.processEvents()  # let earlier, throttled work settle before timing

        begin = time.perf_counter()
        send(QEvent.MouseButtonRelease, last)
        request = page.request_id
        if page.shown_id < request:
            watchdog.start(int(TIMEOUT_S * 1000))
            while page.shown_id < request and watchdog.isActive():
                shown.exec()
            watchdog.stop()
        if page.shown_id < request:
            raise TimeoutError("no prediction was shown")
        page.predictions.repaint()
        elapsed = time.perf_counter() - begin

        prepare_begin = time.perf_counter()
        to_mnist(canvas.ink())
        prepare_seconds = time.perf_counter() - prepare_begin
        if index >= warmup:
            totals.append(elapsed * 1000)
            inference.append(page.last_seconds * 1000)
            preprocessing.append(prepare_seconds * 1000)

    page.shutdown()
    median = statistics.median(totals)
    p90 = _percentile(totals, 0.9)
    print(
        f"canvas: stroke end → {len(variant_ids)} models' predictions shown, {strokes} strokes"
        f" (after {warmup} warm-up), Qt platform {app.platformName()}"
    )
    print(f"  total:          median {median:6.1f} ms   p90 {p90:6.1f} ms   max {max(totals):6.1f} ms")
    print(f"  inference:      median {statistics.median(inference):6.1f} ms"
          "   (the worker thread, all models)")
    print(f"  preprocessing:  median {statistics.median(preprocessing):6.1f} ms   (to_mnist of the canvas)")
    verdict = "met" if median < TARGET_MS else "NOT met"
    print(f"  target: median under {TARGET_MS:.0f} ms: {verdict}")
    return 0
