"""bngui's own icon (resources/icons): the window's, the application's and the desktop menu's."""

from PySide6.QtGui import QIcon

from bngui.gui.desktop_entry import APP_ID, ICON_SIZES, shipped_file


def icon_files():
    """{size in pixels: PNG path} and the scalable SVG (size None) of bngui's icon."""
    files = {size: shipped_file(f"icons/{APP_ID}-{size}.png") for size in ICON_SIZES}
    files[None] = shipped_file(f"icons/{APP_ID}.svg")
    return files


def app_icon():
    """The icon at every size shipped (an empty icon if the files are missing)."""
    icon = QIcon()
    for path in icon_files().values():
        if path.is_file():
            icon.addFile(str(path))
    return icon
