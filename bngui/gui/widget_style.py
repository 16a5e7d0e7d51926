"""Small helpers for how plain widgets look, without style sheets.

A widget with its own style sheet stops following its parent's font, and the
window changes its font for presentation mode: so text colours go through the
palette here, and emphasis through the font's own weight or slant (which leave
its size to the parent).
"""

from PySide6.QtGui import QColor, QFont, QPalette


def set_text_color(widget, color):
    palette = widget.palette()
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text):
        palette.setColor(role, QColor(color))
    widget.setPalette(palette)


def set_emphasis(widget, bold=None, italic=None):
    """Bold or italic text that still takes its size from the parent's font."""
    font = QFont()  # nothing set: everything else is inherited
    if bold is not None:
        font.setBold(bold)
    if italic is not None:
        font.setItalic(italic)
    widget.setFont(font)


def set_background(widget, color, border=None):
    """A filled background (a notice, a hint over the plots)."""
    palette = widget.palette()
    palette.setColor(QPalette.ColorRole.Window, QColor(color))
    if border is not None:
        palette.setColor(QPalette.ColorRole.WindowText, QColor(border))
    widget.setPalette(palette)
    widget.setAutoFillBackground(True)
