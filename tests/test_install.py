"""bngui builds and installs the way a user's pip does it, and finds its shipped models and
translations.

The sources are copied (building writes build/ and *.egg-info next to them)
and built into a wheel by pip with build isolation, as ``pip install .``
does on a new machine: pip fetches the build backend that pyproject.toml
asks for from the package index, whatever the interpreter itself has. The
wheel is then installed, without dependencies, into a new empty virtual
environment, and asked from another folder where the shipped models are.
About 20 s; needs the package index (CI has it).
"""

import filecmp
import json
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
SHIPPED_SUFFIX = ".keras"
PROBE = """
import json, bngui, bngui.resource_files as r
folder = r.shipped_models_dir()
translations = r.translations_dir()
print(json.dumps({"package": bngui.__file__, "folder": str(folder),
                  "files": sorted(p.name for p in folder.glob("*.keras")),
                  "translations": str(translations),
                  "catalogues": sorted(p.name for p in translations.glob("*.qm"))}))
"""


def shipped_model_files():
    """The model files in the repository's resources/models, which must hold every shipped model."""
    from bngui.resource_files import SHIPPED_MODEL_IDS

    names = sorted(path.name for path in (REPOSITORY / "resources" / "models").glob("*.keras"))
    assert names == sorted(f"{model_id}{SHIPPED_SUFFIX}" for model_id in SHIPPED_MODEL_IDS)
    return names


def run(command, cwd, timeout=600):
    completed = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=cwd)
    assert completed.returncode == 0, (
        f"{' '.join(map(str, command))} failed:\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
    )
    return completed


def test_a_wheel_built_as_pip_does_installs_in_an_empty_venv_and_finds_the_shipped_models(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPOSITORY / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "build", "*.egg-info")
    shutil.copytree(REPOSITORY / "bngui", source / "bngui", ignore=ignore)
    shutil.copytree(REPOSITORY / "resources", source / "resources", ignore=ignore)

    # An isolated build: pip makes a fresh build environment from pyproject.toml's
    # build-system requirements, so the interpreter's own setuptools does not matter.
    wheels = tmp_path / "wheels"
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check", "-q",
         "-w", str(wheels), str(source)], cwd=tmp_path)
    [wheel] = wheels.glob("bngui-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        packed = {Path(name).name for name in archive.namelist()
                  if name.startswith("bngui/resources/models/")}
    assert packed >= set(shipped_model_files())

    # A new environment that sees nothing of this one; this pip installs into it.
    environment = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(environment)
    python = environment / "bin" / "python"
    run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
         "--disable-pip-version-check", "-q", str(wheel)], cwd=tmp_path)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    probe = run([str(python), "-c", PROBE], cwd=elsewhere, timeout=120)
    found = json.loads(probe.stdout)
    site_packages = environment.resolve()
    assert Path(found["package"]).resolve().is_relative_to(site_packages), found  # not the checkout
    folder = Path(found["folder"])
    assert folder.resolve().is_relative_to(site_packages), found
    assert folder.parts[-3:] == ("bngui", "resources", "models")
    assert found["files"] == shipped_model_files()
    for name in found["files"]:
        assert filecmp.cmp(folder / name, REPOSITORY / "resources" / "models" / name, shallow=False)
    # The window's translations travel in the wheel too.
    translations = Path(found["translations"])
    assert translations.resolve().is_relative_to(site_packages), found
    assert found["catalogues"] == ["bngui_zh_CN.qm"]
    assert filecmp.cmp(translations / "bngui_zh_CN.qm",
                       REPOSITORY / "resources" / "translations" / "bngui_zh_CN.qm", shallow=False)


def test_a_source_checkout_finds_the_shipped_models_too():
    from bngui.resource_files import shipped_models_dir

    assert sorted(path.name for path in shipped_models_dir().glob("*.keras")) == shipped_model_files()
