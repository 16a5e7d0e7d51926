"""Export what a tab shows, at its size on screen: SVG (vectors) or PNG.

``parts`` are laid side by side as on screen: pyqtgraph views (only their
visible area is drawn, from their scene: the scene rectangle itself grows far
beyond the plots) and plain widgets (the variant list, the legend of the plots).
"""

import contextlib
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QPoint, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QGraphicsItem, QGraphicsView, QWidget

SVG_RESOLUTION_DPI = 96  # a CSS pixel: the SVG's width and height match the pixels on screen


def _cannot_write():
    # The window's message names the file: "Could not write PATH: ...".
    return QCoreApplication.translate("Export", "the file cannot be written there")


def _part_size(part):
    return part.viewport().size() if isinstance(part, QGraphicsView) else part.size()


def parts_size(parts):
    """The size of ``parts`` side by side."""
    sizes = [_part_size(part) for part in parts]
    return QSize(sum(size.width() for size in sizes), max((size.height() for size in sizes), default=0))


@contextlib.contextmanager
def _without_item_caches(scene):
    """Cached items (the axes) would be drawn as pictures of themselves; draw them as vectors."""
    cached = [(item, item.cacheMode()) for item in scene.items()
              if item.cacheMode() != QGraphicsItem.CacheMode.NoCache]
    for item, _ in cached:
        item.setCacheMode(QGraphicsItem.CacheMode.NoCache)
    try:
        yield
    finally:
        for item, mode in cached:
            item.setCacheMode(mode)


@contextlib.contextmanager
def _in_export_mode(scene, painter):
    """pyqtgraph's items drawn as for its own exporters: markers as paths, not as pictures
    from a cache of pixmaps (as pyqtgraph's Exporter.setExportMode does)."""
    items = [item for item in scene.items() if hasattr(item, "setExportMode")]
    for item in items:
        item.setExportMode(True, {"antialias": True, "background": Qt.GlobalColor.white,
                                  "painter": painter})
    try:
        yield
    finally:
        for item in items:
            item.setExportMode(False)


def _paint(painter, parts):
    left = 0
    for part in parts:
        size = _part_size(part)
        if isinstance(part, QGraphicsView):
            visible = part.mapToScene(part.viewport().rect()).boundingRect()
            with _without_item_caches(part.scene()), _in_export_mode(part.scene(), painter):
                part.scene().render(painter, QRectF(left, 0, size.width(), size.height()), visible,
                                    Qt.AspectRatioMode.IgnoreAspectRatio)
        else:
            part.render(painter, QPoint(left, 0), renderFlags=QWidget.RenderFlag.DrawChildren)
        left += size.width()


def write_svg(parts, path, title="bngui"):
    size = parts_size(parts)
    generator = QSvgGenerator()
    generator.setFileName(str(path))
    generator.setSize(size)
    generator.setViewBox(QRect(QPoint(0, 0), size))
    generator.setResolution(SVG_RESOLUTION_DPI)
    generator.setTitle(title)
    painter = QPainter()
    if not painter.begin(generator):
        raise OSError(_cannot_write())
    try:
        painter.fillRect(QRectF(0, 0, size.width(), size.height()), Qt.GlobalColor.white)
        _paint(painter, parts)
    finally:
        painter.end()
    # Qt names its default family "Sans Serif", which a browser does not know (it falls
    # back to a serif font); CSS's generic name is "sans-serif".
    text = Path(path).read_text(encoding="utf-8")
    Path(path).write_text(text.replace('font-family="Sans Serif"', 'font-family="sans-serif"'),
                          encoding="utf-8")


def write_png(parts, path):
    """A PNG at the screen's pixel density (sharp on a high-density screen)."""
    size = parts_size(parts)
    ratio = max((part.devicePixelRatioF() for part in parts), default=1.0)
    image = QImage(size * ratio, QImage.Format.Format_ARGB32)
    image.setDevicePixelRatio(ratio)
    image.fill(Qt.GlobalColor.white)
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        _paint(painter, parts)
    finally:
        painter.end()
    if not image.save(str(path)):
        raise OSError(_cannot_write())
