"""bngui's own icon (resources/icons): the window's, the application's and the desktop menu's."""

from PySide6.QtGui import QIcon

from bngui.gui.desktop_entry import APP_ID, ICON_SIZES
from bngui.resource_files import resources_dir


def icons_dir():
    return resources_dir() / "icons"


def icon_files():
    """{size in pixels: PNG path} and the scalable SVG (size None) of bngui's icon."""
    folder = icons_dir()
    files = {size: folder / f"{APP_ID}-{size}.png" for size in ICON_SIZES}
    files[None] = folder / f"{APP_ID}.svg"
    return files


def app_icon():
    """The icon at every size shipped (an empty icon if the files are missing)."""
    icon = QIcon()
    for path in icon_files().values():
        if path.is_file():
            icon.addFile(str(path))
    return icon
