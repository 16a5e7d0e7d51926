"""A non-editable install into a fresh virtual environment finds the shipped models.

The sources are copied (building writes build/ and *.egg-info next to them),
installed with pip into a new venv that sees this interpreter's packages
(TensorFlow, Qt) so nothing is downloaded, and asked from another folder
where the shipped models are. About 10 s.
"""

import filecmp
import json
import shutil
import subprocess
import venv
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
SHIPPED = ["baseline.keras", "keras-conv-bn-relu.keras"]
PROBE = """
import json, bngui, bngui.resource_files as r
folder = r.shipped_models_dir()
print(json.dumps({"package": bngui.__file__, "folder": str(folder),
                  "files": sorted(p.name for p in folder.glob("*.keras"))}))
"""


def test_a_pip_install_in_a_fresh_venv_finds_the_shipped_models(tmp_path):
    source = _mkdir(tmp_path / "source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPOSITORY / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "build", "*.egg-info")
    shutil.copytree(REPOSITORY / "bngui", source / "bngui", ignore=ignore)
    shutil.copytree(REPOSITORY / "resources", source / "resources", ignore=ignore)

    environment = tmp_path / "venv"
    # This interpreter's packages stay visible, and its pip does the install:
    # no download, no ensurepip.
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(environment)
    python = environment / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
         "--disable-pip-version-check", "-q", str(source)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    assert install.returncode == 0, install.stdout + install.stderr

    elsewhere = _mkdir(tmp_path / "elsewhere")
    probe = subprocess.run([str(python), "-c", PROBE], capture_output=True, text=True,
                           timeout=120, cwd=elsewhere)
    assert probe.returncode == 0, probe.stderr
    found = json.loads(probe.stdout)
    site_packages = environment.resolve()
    assert Path(found["package"]).resolve().is_relative_to(site_packages), found  # not the checkout
    folder = Path(found["folder"])
    assert folder.resolve().is_relative_to(site_packages) and folder.parts[-3:] == ("bngui", "resources", "models")
    assert found["files"] == SHIPPED
    for name in SHIPPED:
        assert filecmp.cmp(folder / name, REPOSITORY / "resources" / "models" / name, shallow=False)


def _mkdir(path):
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_a_source_checkout_finds_the_shipped_models_too():
    from bngui.resource_files import shipped_models_dir

    assert sorted(path.name for path in shipped_models_dir().glob("*.keras")) == SHIPPED
