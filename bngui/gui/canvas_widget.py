"""A square drawing area for a digit: mouse, pen (tablet) or finger.

The drawing lives in a fixed-size greyscale image (``CANVAS_PIXELS`` square,
white ink on black, like MNIST) whatever the widget's size on screen, so a
digit looks the same to the models on a laptop and on a projector. The pen is
round, anti-aliased and ``CANVAS_PIXELS / 12`` wide: a digit drawn across most
of the canvas ends up, after scaling to MNIST's 20-pixel box, with strokes
about two pixels wide, as in MNIST.

Strokes are kept as point lists, so Undo removes the last one by repainting
the others the same way they were first painted.
"""

import os
import tempfile

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

CANVAS_PIXELS = 336  # 12 x 28
PEN_WIDTH = CANVAS_PIXELS / 12
THROTTLE_MS = 120  # predictions while drawing: at most about eight a second
BACKGROUND = QColor(0, 0, 0)
INK = QColor(255, 255, 255)
FRAME = QColor("#7a7a7a")
HINT = QColor("#9a9a9a")


class CanvasWidget(QWidget):
    """Draw with the left mouse button, a pen or a finger.

    ``stroke_finished`` is emitted when a stroke ends; ``drawing_changed`` at
    most every ``THROTTLE_MS`` while a stroke is being drawn; ``cleared`` after
    Clear, and ``stroke_finished`` again after Undo (the drawing changed).
    """

    stroke_finished = Signal()
    drawing_changed = Signal()
    cleared = Signal()

    def __init__(self, parent=None, pixels=CANVAS_PIXELS, pen_width=None):
        super().__init__(parent)
        self.pixels = int(pixels)
        self.pen_width = float(pen_width if pen_width is not None else self.pixels / 12)
        self.image = QImage(self.pixels, self.pixels, QImage.Format_Grayscale8)
        self.image.fill(BACKGROUND)
        self.strokes = []  # finished strokes, each a list of QPointF in image pixels
        self._current = None  # the stroke being drawn
        # An opened image, shown under the strokes: (its full-size ink, the canvas-sized picture).
        self.opened = None
        self._throttle = QTimer(self)
        self._throttle.setSingleShot(True)
        self._throttle.setInterval(THROTTLE_MS)
        self._throttle.timeout.connect(self._emit_drawing_changed)
        self.hint_text = self.tr("Draw a digit here")
        self.setAttribute(Qt.WA_AcceptTouchEvents, True)
        self.setAttribute(Qt.WA_OpaquePaintEvent, False)
        self.setCursor(Qt.CrossCursor)
        # Focus on click, so the page's keys (Ctrl+Z, Delete) work right after drawing.
        self.setFocusPolicy(Qt.StrongFocus)
        self.setMinimumSize(160, 160)
        # As tall as wide when there is room (a page puts spare height elsewhere).
        policy = QSizePolicy(QSizePolicy.Expanding, QSizePolicy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.setToolTip(self.tr(
            "Draw one digit, as large as the square. Each stroke is classified when it"
            " ends (and a few times a second while drawing)."
        ))

    # -- state ---------------------------------------------------------------

    def is_empty(self):
        return not self.strokes and not self._current and self.opened is None

    def set_opened_ink(self, ink):
        """Show an image's ink (bright = ink, any size) on the canvas, fitted and centred;
        it replaces the drawing, and strokes drawn afterwards go on top of it."""
        grey = np.ascontiguousarray(np.clip(np.asarray(ink) * 255 + 0.5, 0, 255).astype(np.uint8))
        height, width = grey.shape
        picture = QImage(grey.data, width, height, width, QImage.Format_Grayscale8).scaled(
            self.pixels, self.pixels, Qt.KeepAspectRatio, Qt.SmoothTransformation)
        self.opened = (np.asarray(ink, np.float32), picture.copy())
        self.strokes, self._current = [], None
        self._throttle.stop()
        self._repaint_strokes()
        self.update()
        self.stroke_finished.emit()

    def opened_ink_alone(self):
        """The opened image's full-size ink while nothing is drawn over it, else None."""
        if self.opened is None or self.strokes or self._current:
            return None
        return self.opened[0]

    @property
    def drawing(self):
        """True while a stroke is in progress."""
        return self._current is not None

    def ink(self):
        """The drawing as float32 ink in [0, 1], shape (pixels, pixels), bright = ink."""
        width, height = self.image.width(), self.image.height()
        line = self.image.bytesPerLine()
        data = np.frombuffer(self.image.constBits(), dtype=np.uint8, count=line * height)
        return data.reshape(height, line)[:, :width].astype(np.float32) / 255.0

    def sizeHint(self):
        return QSize(self.pixels + 2, self.pixels + 2)

    def heightForWidth(self, width):
        return width

    def hasHeightForWidth(self):
        return True

    # -- editing -------------------------------------------------------------

    def clear(self):
        self._throttle.stop()
        self.strokes = []
        self._current = None
        self.opened = None
        self.image.fill(BACKGROUND)
        self.update()
        self.cleared.emit()

    def undo(self):
        """Remove the last stroke; returns False when there was none."""
        if self._current is not None:
            self._current = None
        elif self.strokes:
            self.strokes.pop()
        else:
            return False
        self._throttle.stop()
        self._repaint_strokes()
        self.update()
        if self.strokes or self.opened is not None:
            self.stroke_finished.emit()
        else:
            self.cleared.emit()
        return True

    def save_png(self, path):
        """Write the drawing (white ink on black) as a PNG, atomically."""
        path = os.fspath(path)
        folder = os.path.dirname(os.path.abspath(path))
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".drawing.", suffix=".png")
        os.close(handle)
        try:
            if not self.image.save(temporary, "PNG"):
                raise OSError(f"could not write {path}")
            os.chmod(temporary, 0o644)
            os.replace(temporary, path)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)

    # -- painting strokes ----------------------------------------------------

    def _pen(self):
        return QPen(INK, self.pen_width, Qt.SolidLine, Qt.RoundCap, Qt.RoundJoin)

    def _painter(self):
        painter = QPainter(self.image)
        painter.setRenderHint(QPainter.Antialiasing, True)
        painter.setPen(self._pen())
        return painter

    @staticmethod
    def _paint_segment(painter, points, index):
        """Paint the piece of a stroke that point ``index`` adds (a dot for the first)."""
        if index == 0:
            painter.drawPoint(points[0])
        else:
            painter.drawLine(points[index - 1], points[index])

    def _repaint_strokes(self):
        self.image.fill(BACKGROUND)
        painter = self._painter()
        if self.opened is not None:
            picture = self.opened[1]
            painter.drawImage((self.pixels - picture.width()) // 2,
                              (self.pixels - picture.height()) // 2, picture)
        for points in self.strokes:
            for index in range(len(points)):
                self._paint_segment(painter, points, index)
        painter.end()

    def _add_point(self, point):
        points = self._current
        if points and (points[-1] - point).manhattanLength() < 0.5:
            return  # no visible change
        points.append(point)
        painter = self._painter()
        self._paint_segment(painter, points, len(points) - 1)
        painter.end()
        self.update()

    # -- stroke life cycle (in widget coordinates) ---------------------------

    def target_rect(self):
        """Where the image is shown: the largest square, centred at the top, in a 1 px frame."""
        side = max(1, min(self.width(), self.height()) - 2)
        return QRectF((self.width() - side) / 2, 1, side, side)

    def to_image(self, position):
        """Widget position (QPointF) to image pixels."""
        rect = self.target_rect()
        scale = self.pixels / rect.width()
        return QPointF((position.x() - rect.left()) * scale, (position.y() - rect.top()) * scale)

    def begin_stroke(self, position):
        self._current = []
        self._add_point(self.to_image(position))

    def continue_stroke(self, position):
        if self._current is None:
            return
        self._add_point(self.to_image(position))
        if not self._throttle.isActive():
            self._throttle.start()

    def end_stroke(self, position=None):
        if self._current is None:
            return
        if position is not None:
            self._add_point(self.to_image(position))
        self.strokes.append(self._current)
        self._current = None
        self._throttle.stop()
        self.update()
        self.stroke_finished.emit()

    def _emit_drawing_changed(self):
        if self._current is not None:
            self.drawing_changed.emit()

    # -- input events ----------------------------------------------------------

    def mousePressEvent(self, event):
        if event.button() == Qt.LeftButton:
            self.begin_stroke(event.position())
            event.accept()
        else:
            super().mousePressEvent(event)

    def mouseMoveEvent(self, event):
        if self._current is not None:
            self.continue_stroke(event.position())
            event.accept()
        else:
            super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event):
        if event.button() == Qt.LeftButton and self._current is not None:
            self.end_stroke(event.position())
            event.accept()
        else:
            super().mouseReleaseEvent(event)

    def tabletEvent(self, event):
        # Accepting a tablet event stops Qt from also sending a synthesized mouse event.
        kind = event.type()
        if kind == QEvent.TabletPress:
            self.begin_stroke(event.position())
        elif kind == QEvent.TabletMove:
            self.continue_stroke(event.position())
        elif kind == QEvent.TabletRelease:
            self.end_stroke(event.position())
        event.accept()

    def event(self, event):
        kind = event.type()
        if kind in (QEvent.TouchBegin, QEvent.TouchUpdate, QEvent.TouchEnd, QEvent.TouchCancel):
            points = event.points()
            if kind == QEvent.TouchCancel:
                self.end_stroke()
            elif points:
                position = points[0].position()
                if kind == QEvent.TouchBegin:
                    self.begin_stroke(position)
                elif kind == QEvent.TouchUpdate:
                    self.continue_stroke(position)
                else:
                    self.end_stroke(position)
            event.accept()
            return True
        return super().event(event)

    # -- display ---------------------------------------------------------------

    def paintEvent(self, event):
        painter = QPainter(self)
        rect = self.target_rect()
        painter.setRenderHint(QPainter.SmoothPixmapTransform, True)
        painter.drawImage(rect, self.image)
        painter.setPen(QPen(FRAME, 1))
        painter.drawRect(rect.adjusted(-0.5, -0.5, 0.5, 0.5))
        if self.is_empty() and self.hint_text:
            font = painter.font()
            font.setPointSizeF(max(font.pointSizeF(), 1.0) * 1.6)
            painter.setFont(font)
            painter.setPen(HINT)
            painter.drawText(rect, Qt.AlignCenter | Qt.TextWordWrap, self.hint_text)
        painter.end()
