"""``bngui --install-desktop-entry``: put bngui in the desktop's application menu (freedesktop).

For the current user only: a ``.desktop`` file in ``$XDG_DATA_HOME/applications``
and the icon in the hicolor theme under ``$XDG_DATA_HOME/icons`` (by default
``~/.local/share``), as the freedesktop Desktop Entry and Icon Theme
specifications describe. Nothing is written unless asked for; the uninstall
removes exactly these files. No Qt here.
"""

import os
import shutil
import sys
from pathlib import Path

from bngui import resource_files

APP_ID = "bngui"  # the desktop file's name, the icon's name and the window class (app.py)
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)
_RESERVED = '"`$\\'  # characters escaped inside a quoted Exec argument


def shipped_file(relative):
    """A file of resources/ (the icon, the desktop file's template).

    The installed resources first, then this checkout's: an editable install
    made from another checkout maps ``bngui.resources`` there, where a newer
    file may be missing.
    """
    for folder in (resource_files.resources_dir(), resource_files._CHECKOUT_RESOURCES):
        if (folder / relative).is_file():
            return folder / relative
    return resource_files.resources_dir() / relative


def data_home():
    """``$XDG_DATA_HOME``, or ``~/.local/share`` when it is unset or empty."""
    value = os.environ.get("XDG_DATA_HOME", "")
    return Path(value) if value else Path.home() / ".local" / "share"


def _quote(argument):
    """One argument of an Exec line (Desktop Entry specification, "The Exec key")."""
    if argument and not any(char in argument for char in ' \t\n"\'\\><~|&;$*?#()`'):
        return argument
    escaped = "".join("\\" + char if char in _RESERVED else char for char in argument)
    return f'"{escaped}"'.replace("%", "%%")


def launch_command():
    """How to start this bngui: its ``bngui`` script beside this Python, else ``python -m bngui``."""
    script = Path(sys.executable).parent / APP_ID
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", APP_ID]


def desktop_entry_text(command=None):
    template = shipped_file(f"{APP_ID}.desktop").read_text(encoding="utf-8")
    exec_line = " ".join(_quote(argument) for argument in (command or launch_command()))
    return template.replace("@EXEC@", exec_line)


def installed_files(home=None):
    """{what: path} of every file the installation writes."""
    home = Path(home) if home is not None else data_home()
    files = {"desktop entry": home / "applications" / f"{APP_ID}.desktop",
             "scalable icon": home / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"}
    for size in ICON_SIZES:
        files[f"{size} px icon"] = home / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
    return files


def install_desktop_entry(home=None, command=None):
    """Write the desktop entry and the icons; returns the paths written."""
    sources = {"scalable icon": shipped_file(f"icons/{APP_ID}.svg")}
    sources.update({f"{size} px icon": shipped_file(f"icons/{APP_ID}-{size}.png") for size in ICON_SIZES})
    written = []
    for what, target in installed_files(home).items():
        target.parent.mkdir(parents=True, exist_ok=True)
        if what == "desktop entry":
            target.write_text(desktop_entry_text(command), encoding="utf-8")
        else:
            shutil.copyfile(sources[what], target)
        written.append(target)
    return written


def uninstall_desktop_entry(home=None):
    """Remove what ``install_desktop_entry`` wrote; returns the paths removed."""
    removed = []
    for target in installed_files(home).values():
        if target.is_file():
            target.unlink()
            removed.append(target)
    return removed
