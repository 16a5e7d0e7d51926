"""Plots that are built when their widget is shown, not once per setting."""


class BuiltWhenShown:
    """Mixin for a QWidget whose plots are costly to build (in ``_build``).

    A setting that changes the plots calls ``_rebuild_when_shown``: on screen
    they are rebuilt at once; hidden (a background tab, a window not shown
    yet) they are rebuilt when next shown or used, so several settings in a
    row, as at start-up, cost one build. Whatever reads the plots calls
    ``_build_if_stale`` first.
    """

    _stale = True

    def _rebuild_when_shown(self):
        self._stale = True
        if self.isVisible():
            self._build_if_stale()

    def _build_if_stale(self):
        if self._stale:
            self._stale = False
            self._build()

    def showEvent(self, event):
        self._build_if_stale()
        super().showEvent(event)
