"""bngui --install-desktop-entry: a freedesktop .desktop file and hicolor icons for the user."""

import configparser

from PySide6.QtGui import QImage

from bngui import cli
from bngui.gui.desktop_entry import APP_ID, ICON_SIZES, desktop_entry_text, installed_files
from bngui.gui.icons import app_icon, icon_files


def read_entry(path):
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return parser["Desktop Entry"]


def test_install_writes_the_entry_and_the_icons_under_xdg_data_home(qapp, tmp_path, monkeypatch, capsys):
    data_home = tmp_path / "share"
    monkeypatch.setenv("XDG_DATA_HOME", str(data_home))
    assert cli.main(["--install-desktop-entry"]) == 0
    entry_path = data_home / "applications" / f"{APP_ID}.desktop"
    assert str(entry_path) in capsys.readouterr().out
    entry = read_entry(entry_path)
    assert entry["Type"] == "Application" and entry["Name"] == "bngui"
    assert entry["Icon"] == APP_ID and entry["StartupWMClass"] == APP_ID
    assert entry["Terminal"] == "false" and "Education" in entry["Categories"].split(";")
    assert "@EXEC@" not in entry["Exec"] and "bngui" in entry["Exec"]
    for size in ICON_SIZES:
        icon = data_home / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
        image = QImage(str(icon))
        assert (image.width(), image.height()) == (size, size), icon
    assert (data_home / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg").is_file()
    # Nothing outside XDG_DATA_HOME, and the uninstall takes exactly that away.
    written = set(installed_files(data_home).values())
    assert {path for path in data_home.rglob("*") if path.is_file()} == written
    assert cli.main(["--uninstall-desktop-entry"]) == 0
    assert not any(path.is_file() for path in data_home.rglob("*"))


def test_the_exec_line_quotes_what_needs_quoting():
    text = desktop_entry_text(["/opt/my apps/bin/python", "-m", "bngui"])
    exec_line = next(line for line in text.splitlines() if line.startswith("Exec="))
    assert exec_line == 'Exec="/opt/my apps/bin/python" -m bngui'


def test_the_window_icon_has_every_size(qapp):
    files = icon_files()
    assert all(path.is_file() for path in files.values())
    sizes = {size.width() for size in app_icon().availableSizes()}
    assert set(ICON_SIZES) <= sizes
