"""Export what a tab shows, at its size on screen: SVG or PDF (vectors), or PNG.

``parts`` are laid side by side as on screen: pyqtgraph views (only their
visible area is drawn, from their scene: the scene rectangle itself grows far
beyond the plots) and plain widgets (the variant list, the legend of the plots).
"""

import contextlib
import re
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QMarginsF, QPoint, QRect, QRectF, QSize, QSizeF, Qt
from PySide6.QtGui import (
    QFont,
    QFontDatabase,
    QFontInfo,
    QFontMetricsF,
    QImage,
    QPageSize,
    QPainter,
    QPdfWriter,
    QPicture,
)
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QGraphicsItem, QGraphicsView, QWidget

from bngui.gui import svg_portable

SVG_RESOLUTION_DPI = 96  # a CSS pixel: the SVG's width and height match the pixels on screen


def _text_dpi(parts):
    """The dots per inch the parts' text is laid out at on screen (96, or more where the
    desktop enlarges fonts: Xft.dpi, QT_FONT_DPI). Fonts in points are drawn at it in a file
    too, or the text would be smaller than the room the layout gave it."""
    return max((part.logicalDpiY() for part in parts), default=SVG_RESOLUTION_DPI)


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


def _paint_part(painter, part, left):
    size = _part_size(part)
    if isinstance(part, QGraphicsView):
        visible = part.mapToScene(part.viewport().rect()).boundingRect()
        with _without_item_caches(part.scene()), _in_export_mode(part.scene(), painter):
            part.scene().render(painter, QRectF(left, 0, size.width(), size.height()), visible,
                                Qt.AspectRatioMode.IgnoreAspectRatio)
    else:
        part.render(painter, QPoint(left, 0), renderFlags=QWidget.RenderFlag.DrawChildren)


def _paint(painter, parts, recorded=False):
    """Paint ``parts`` side by side. ``recorded``: each part is recorded in a QPicture first
    and the picture replayed onto ``painter``. QSvgGenerator needs that: painted straight
    onto it, a clip set under a widget's offset, or one restored by QPainter.restore (each
    plot item clips to its shape), is written for the wrong place or not at all, hiding
    the variant list's note and the axes in other renderers; replayed, every clip reaches
    it as a plain change of state."""
    left = 0
    for part in parts:
        if recorded:
            picture = QPicture()
            recorder = QPainter(picture)
            try:
                _paint_part(recorder, part, 0)
            finally:
                recorder.end()
            painter.save()
            painter.translate(left, 0)
            painter.drawPicture(0, 0, picture)
            painter.restore()
        else:
            _paint_part(painter, part, left)
        left += _part_size(part).width()


def write_svg(parts, path, title="bngui"):
    size = parts_size(parts)
    generator = QSvgGenerator(QSvgGenerator.SvgVersion.Svg11)
    generator.setFileName(str(path))
    generator.setSize(size)
    generator.setViewBox(QRect(QPoint(0, 0), size))
    generator.setResolution(_text_dpi(parts))
    generator.setTitle(title)
    painter = QPainter()
    if not painter.begin(generator):
        raise OSError(_cannot_write())
    try:
        painter.fillRect(QRectF(0, 0, size.width(), size.height()), Qt.GlobalColor.white)
        _paint(painter, parts, recorded=True)
    finally:
        painter.end()
    svg_portable.make_portable(path, replacements=_font_families(path), measure=_measure_text,
                               size=(size.width(), size.height()))


def _measure_text(text, family, size, weight, style):
    """(width, ascent, descent) in pixels of ``text`` as the SVG names it (for its clips)."""
    font = QFont(family.split(",")[0].strip(" '\""))
    font.setPointSizeF(size * 72 / SVG_RESOLUTION_DPI)
    with contextlib.suppress(ValueError):
        font.setWeight(QFont.Weight(int(float(weight))))
    font.setItalic(style == "italic")
    metrics = QFontMetricsF(font, _svg_pixels())
    return metrics.horizontalAdvance(text), metrics.ascent(), metrics.descent()


def _svg_pixels():
    """A paint device of the SVG's resolution, for measuring text."""
    global _PIXELS
    if _PIXELS is None:
        _PIXELS = QImage(1, 1, QImage.Format.Format_ARGB32)
        dots_per_metre = round(SVG_RESOLUTION_DPI / 0.0254)
        _PIXELS.setDotsPerMeterX(dots_per_metre)
        _PIXELS.setDotsPerMeterY(dots_per_metre)
    return _PIXELS


_PIXELS = None


def _font_families(path):
    """(Qt's family, what the SVG names instead) for each font family in the file at ``path``.

    Qt names its default family "Sans Serif", which other programs do not know (a browser
    falls back to a serif font); and CSS's "sans-serif" is a different font in each of
    them (Chromium takes Liberation Sans where Qt and librsvg take DejaVu Sans). Named as
    the family Qt really drew with, then CSS's generic family, every renderer with that
    font draws the same letters, and the others a font of the same kind."""
    text = Path(path).read_text(encoding="utf-8")
    pairs = []
    for family in sorted(set(re.findall(r'font-family="([^"]*)"', text))):
        drawn = QFontInfo(QFont(family)).family()
        generic = "monospace" if QFontDatabase.isFixedPitch(drawn) else "sans-serif"
        named = f"'{drawn}', {generic}" if drawn and drawn.lower() != generic else generic
        pairs.append((family, named))
    return pairs


def write_pdf(parts, path, title="bngui"):
    """One page of the plots' size (a pixel is 3/4 of a point, as in the SVG, where text is
    laid out at 96 dots per inch), drawn by Qt's PDF engine: vectors and embedded fonts,
    for slides and print."""
    size = parts_size(parts)
    dpi = _text_dpi(parts)
    points = QSizeF(size.width(), size.height()) * (72 / dpi)
    writer = QPdfWriter(str(path))
    writer.setResolution(dpi)
    writer.setPageSize(QPageSize(points, QPageSize.Unit.Point, title,
                                 QPageSize.SizeMatchPolicy.ExactMatch))
    writer.setPageMargins(QMarginsF(0, 0, 0, 0))
    writer.setTitle(title)
    writer.setCreator("bngui")
    painter = QPainter()
    if not painter.begin(writer):
        raise OSError(_cannot_write())
    try:
        painter.fillRect(QRectF(0, 0, size.width(), size.height()), Qt.GlobalColor.white)
        _paint(painter, parts)
    finally:
        painter.end()


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
