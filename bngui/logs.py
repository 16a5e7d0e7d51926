"""Where bngui's own log messages go: one line each on standard error.

Problems are logged as warnings or errors with a one-line message;
``BNGUI_VERBOSE=1`` also shows debug messages and the tracebacks of
unexpected errors.
"""

import logging
import os

VERBOSE_VARIABLE = "BNGUI_VERBOSE"


def verbose():
    return os.environ.get(VERBOSE_VARIABLE, "").lower() not in ("", "0", "false", "no")


def configure_logging():
    """Send the ``bngui`` loggers to standard error (once; the root logger is left alone)."""
    logger = logging.getLogger("bngui")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("bngui: %(levelname)s: %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(logging.DEBUG if verbose() else logging.WARNING)
