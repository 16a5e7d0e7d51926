"""Where the files shipped with bngui (the pre-trained models, the translations) are.

The repository's top-level ``resources/`` folder is installed as the package
``bngui.resources`` (see pyproject.toml). That package only exists in an
installed copy, so a source checkout falls back to the folder itself.
This module imports no TensorFlow and no Qt.
"""

from importlib import resources
from pathlib import Path

MODELS_SUBDIR = "models"
TRANSLATIONS_SUBDIR = "translations"
SHIPPED_MODEL_IDS = ("baseline", "keras-conv-bn-relu", "keras-conv-bn-relu-drawing")

_CHECKOUT_RESOURCES = Path(__file__).resolve().parent.parent / "resources"


def _installed_resources():
    """The installed ``bngui.resources`` folder, or None when it is not installed."""
    try:
        folder = resources.files("bngui.resources")
    except ModuleNotFoundError:
        return None
    # Installed from a wheel or a plain folder this is a real directory; a zip
    # import would need as_file(), which bngui's installs never need.
    path = Path(str(folder))
    return path if path.is_dir() else None


def resources_dir():
    """The folder of shipped files: installed package first, then the checkout."""
    installed = _installed_resources()
    if installed is not None and (installed / MODELS_SUBDIR).is_dir():
        return installed
    return _CHECKOUT_RESOURCES


def shipped_models_dir():
    """The folder holding the shipped ``ID.keras`` models (may be missing in odd installs)."""
    return resources_dir() / MODELS_SUBDIR


def translations_dir():
    """The folder holding the window's translations (``bngui_zh_CN.qm`` and its ``.ts``)."""
    installed = _installed_resources()
    if installed is not None and (installed / TRANSLATIONS_SUBDIR).is_dir():
        return installed / TRANSLATIONS_SUBDIR
    return _CHECKOUT_RESOURCES / TRANSLATIONS_SUBDIR
