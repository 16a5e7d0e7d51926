"""Keep the window's translations in step with the code: extract, check, build.

    python scripts/update_translations.py update   # lupdate the .ts from the sources, then lrelease
    python scripts/update_translations.py check    # exit 1 if the .ts or the .qm is out of step
    python scripts/update_translations.py release  # only build the .qm from the .ts

``update`` runs Qt's ``pyside6-lupdate`` over every module of ``bngui/``: new
texts come in as unfinished entries, texts gone from the code are dropped
(``-no-obsolete``), and no source locations are written, so a .ts changes only
when a text does and merges stay quiet. Translate the unfinished entries (Qt
Linguist: ``pyside6-linguist resources/translations/bngui_zh_CN.ts``, or by
hand), then ``release`` (or ``update`` again) builds the ``.qm`` that ships in
the package (``bngui.resources/translations``). ``check`` is what the test
suite runs: every text of the code is in the .ts, translated, and the .qm is
what lrelease makes of the .ts.
"""

import argparse
import filecmp
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
SOURCES = REPOSITORY / "bngui"
TRANSLATIONS = REPOSITORY / "resources" / "translations"
LANGUAGES = ("zh_CN",)  # bngui.gui.i18n.LANGUAGES but English, the source language


def ts_file(language):
    return TRANSLATIONS / f"bngui_{language}.ts"


def qm_file(language):
    return TRANSLATIONS / f"bngui_{language}.qm"


def _tool(name):
    """Qt's ``lupdate`` or ``lrelease``: the PySide6 wrapper on PATH, else PySide6's own binary."""
    wrapper = shutil.which(f"pyside6-{name}")
    if wrapper:
        return [wrapper]
    import PySide6

    binary = Path(PySide6.__file__).parent / (name + (".exe" if sys.platform == "win32" else ""))
    if binary.exists():
        return [str(binary)]
    raise SystemExit(f"{name} not found: install PySide6 (it ships pyside6-{name})")


def _run(command):
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{completed.stdout}\n{completed.stderr}")
    return completed.stdout


def source_files():
    return sorted(str(path) for path in SOURCES.rglob("*.py"))


def lupdate(ts_path, language):
    """Bring ``ts_path`` (made if missing) in step with the sources."""
    _run([*_tool("lupdate"), *source_files(), "-no-obsolete", "-locations", "none",
          "-source-language", "en", "-target-language", language, "-ts", str(ts_path)])


def lrelease(ts_path, qm_path):
    _run([*_tool("lrelease"), "-silent", str(ts_path), "-qm", str(qm_path)])


def messages(ts_path):
    """``{(context, source, comment): (translation forms, type)}`` of a .ts file; ``type`` is
    "" when finished, else "unfinished", "obsolete" or "vanished"."""
    found = {}
    for context in ElementTree.parse(ts_path).getroot().iter("context"):
        name = context.findtext("name")
        for message in context.iter("message"):
            key = (name, message.findtext("source"), message.findtext("comment") or "")
            translation = message.find("translation")
            forms = [form.text or "" for form in translation.iter("numerusform")] or [translation.text or ""]
            found[key] = (tuple(forms), translation.get("type", ""))
    return found


def problems(language):
    """What is out of step for ``language``, in lines (none: all is well)."""
    ts_path, qm_path = ts_file(language), qm_file(language)
    if not ts_path.exists():
        return [f"{ts_path} is missing: run scripts/update_translations.py update"]
    kept = messages(ts_path)
    lines = []
    with tempfile.TemporaryDirectory() as folder:
        fresh_ts = Path(folder) / ts_path.name
        shutil.copy2(ts_path, fresh_ts)
        lupdate(fresh_ts, language)
        fresh = messages(fresh_ts)
        for key in sorted(set(fresh) - set(kept)):
            lines.append(f"not in the .ts yet: [{key[0]}] {key[1]!r}")
        for key in sorted(set(kept) - set(fresh)):
            lines.append(f"no longer in the code: [{key[0]}] {key[1]!r}")
        for key, (forms, kind) in sorted(kept.items()):
            if kind or not all(forms):
                lines.append(f"{kind or 'empty'}: [{key[0]}] {key[1]!r}")
        built = Path(folder) / qm_path.name
        lrelease(ts_path, built)
        if not qm_path.exists() or not filecmp.cmp(built, qm_path, shallow=False):
            lines.append(f"{qm_path.name} is not what lrelease builds from {ts_path.name}:"
                         " run scripts/update_translations.py release")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("update", "check", "release"))
    args = parser.parse_args(argv)
    TRANSLATIONS.mkdir(parents=True, exist_ok=True)
    status = 0
    for language in LANGUAGES:
        if args.command == "update":
            lupdate(ts_file(language), language)
        if args.command in ("update", "release"):
            lrelease(ts_file(language), qm_file(language))
            unfinished = [key for key, (forms, kind) in messages(ts_file(language)).items()
                          if kind or not all(forms)]
            print(f"{ts_file(language).relative_to(REPOSITORY)}: {len(messages(ts_file(language)))}"
                  f" texts, {len(unfinished)} to translate; built {qm_file(language).name}")
        else:
            found = problems(language)
            for line in found:
                print(f"{language}: {line}")
            if found:
                status = 1
            else:
                print(f"{language}: the .ts and the .qm are in step with the code")
    return status


if __name__ == "__main__":
    sys.exit(main())
