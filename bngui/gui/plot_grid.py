"""The pyqtgraph view that every grid of bngui's plots is drawn in."""

import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGraphicsScene


class PlotGrid(pg.GraphicsLayoutWidget):
    """A ``GraphicsLayoutWidget`` whose scene keeps no index of its items.

    A QGraphicsScene's default index (a BSP tree) remembers each item's bounding
    rectangle and learns of a change only through ``prepareGeometryChange()``.
    pyqtgraph's axes with a grid reach over their view's rectangle and do not call
    it when the view is resized, so the index keeps stale entries; once such an
    axis's plot was removed (a layout switch rebuilds the plots), the next paint
    followed a stale entry to the deleted item and the process died in
    ``QGraphicsView::paintEvent`` (QTBUG-18021). Without an index the scene asks
    the items themselves at every paint, cheap for the few hundred items of a
    plot grid, and a removed item is gone from every list the view paints from.
    """

    resized = Signal()  # the view's size changed: what fits its width may fit again

    def __init__(self, background="w", parent=None):
        super().__init__(parent)
        self.setBackground(background)
        self.scene().setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self.resized.emit()

    def stray_plots(self):
        """Plots the scene still holds that the layout does not: a rebuild left them behind."""
        laid_out = set(self.ci.items)
        return [item for item in self.scene().items()
                if isinstance(item, pg.PlotItem) and item not in laid_out]
