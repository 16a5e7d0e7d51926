"""The real-window tier: each test drives bngui in a fresh process on Qt's xcb platform,
on an X server of its own (Xvfb), where the window is painted as on a desk.

The offscreen platform the rest of the suite uses paints nothing that matters: a
crash in ``QGraphicsView::paintEvent`` never showed there. Without Xvfb these tests
skip, except under CI (``CI=true``), where that is an error.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
SCREEN = "1920x1080x24"  # the largest projector size; windows are resized within it


def _x_server(screen):
    """A private Xvfb with one ``screen`` ("WxHxDEPTH"): yields its display (``:N``)."""
    if shutil.which("Xvfb") is None:
        if os.environ.get("CI"):
            pytest.fail("Xvfb is missing: the real-window tier cannot run (apt-get install xvfb)")
        pytest.skip("Xvfb is not installed")
    read, write = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", screen, "-nolisten", "tcp"],
                              pass_fds=(write,), stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as pipe:
        number = pipe.readline().strip()
    if not number:
        server.kill()
        pytest.fail("Xvfb did not start")
    yield f":{number}"
    server.terminate()
    server.wait(10)


@pytest.fixture(scope="session")
def display():
    """A private Xvfb display (``:N``) of the largest projector size, for this test process."""
    yield from _x_server(SCREEN)


@pytest.fixture(scope="session")
def small_display():
    """A private Xvfb display of 1280×720, smaller than the window's first size."""
    yield from _x_server("1280x720x24")


def real_window_environment(display, home):
    environment = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb", HOME=str(home),
                       XDG_CONFIG_HOME=str(Path(home) / ".config"), PYTHONFAULTHANDLER="1")
    environment.pop("WAYLAND_DISPLAY", None)
    return environment


@pytest.fixture
def run_in_real_window(display, tmp_path):
    """``run(command, timeout)`` -> CompletedProcess: ``command`` (a list) on the real display."""

    def run(command, timeout=300):
        return subprocess.run(command, env=real_window_environment(display, tmp_path), cwd=HERE,
                              capture_output=True, text=True, timeout=timeout)

    return run


@pytest.fixture
def scenario(run_in_real_window):
    """``scenario(name)`` -> the JSON result of ``scenarios.py NAME`` run in a real window;
    fails with its output when the process dies (a crash shows as its exit code)."""

    def run(name, timeout=300):
        finished = run_in_real_window([sys.executable, str(HERE / "scenarios.py"), name], timeout)
        assert finished.returncode == 0, (
            f"{name} ended with exit code {finished.returncode}\n{finished.stdout[-3000:]}\n"
            f"{finished.stderr[-6000:]}")
        result = json.loads(finished.stdout.strip().splitlines()[-1])
        assert result["platform"] == "xcb"
        return result

    return run
