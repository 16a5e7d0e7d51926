"""The real window, driven as a person drives it (see conftest.py and scenarios.py)."""

import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from bngui.core import lesson

# Loose bounds, to catch a regression (a quit that waits for TensorFlow's import, a
# stop that waits for a whole scoring pass); the figures are measured by the benchmarks.
QUIT_BOUND_S = 2.0


def test_the_first_window_fits_a_small_screen(small_display, tmp_path):
    """On a 1280×720 screen the first window (1440×900 by default) and a saved size larger
    than the screen are reduced to fit it."""
    from conftest import HERE, real_window_environment

    finished = subprocess.run([sys.executable, str(HERE / "scenarios.py"), "first_window"],
                              env=real_window_environment(small_display, tmp_path), capture_output=True,
                              text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr[-4000:]
    result = json.loads(finished.stdout.strip().splitlines()[-1])
    x, y, width, height = result["screen"]
    for frame in (result["first"], result["restored"]):
        left, top, frame_width, frame_height = frame
        assert x <= left and y <= top, result
        assert left + frame_width <= x + width and top + frame_height <= y + height, result
    assert result["problems"] == []


def test_layout_switches_idle_and_while_training(scenario):
    result = scenario("layout_switches")
    assert result["problems"] == []
    assert result["trained_while_switching"]


def test_presentation_mode_gives_the_plots_more_room(scenario):
    result = scenario("presentation")
    assert result["problems"] == []
    for name, sizes in result["sizes"].items():
        normal, shown = sizes["normal"], sizes["presentation"]
        assert shown[0] * shown[1] >= normal[0] * normal[1], (name, sizes)
        # Room for the tick labels beside and below a plot's data, at presentation size.
        assert shown[0] >= 50 and shown[1] >= 50, (name, sizes)


def test_every_lesson_step_forwards_and_backwards(scenario):
    result = scenario("lesson_steps")
    assert result["problems"] == []
    count = len(lesson.STEPS)
    assert result["steps"] == list(range(count)) + list(range(count - 2, -1, -1))


def test_opening_a_session_while_a_run_trains(scenario):
    result = scenario("session_while_training")
    assert result["problems"] == []
    assert result["refused_while_training"] is True
    assert result["opened_variants"] == ["baseline", "keras-conv-bn-relu"]


def test_strokes_on_the_draw_page(scenario):
    result = scenario("strokes", timeout=400)
    assert result["problems"] == []
    assert result["predictions_shown"] >= 1


def test_a_seeded_monkey_with_the_fake_trainer(run_in_real_window):
    finished = run_in_real_window([sys.executable, "-m", "bngui", "bench", "--monkey",
                                   "--seconds", "110", "--seed", "2026"], timeout=400)
    summary = finished.stdout.strip().splitlines()[-1] if finished.stdout.strip() else ""
    assert finished.returncode == 0, f"exit code {finished.returncode}\n{finished.stdout[-4000:]}\n" \
                                     f"{finished.stderr[-4000:]}"
    assert "0 problem(s)" in finished.stdout, finished.stdout[-4000:]
    assert "monkey:" in summary or "problem" in finished.stdout


@pytest.mark.mnist
def test_a_seeded_monkey_with_real_training(run_in_real_window, mnist_path):
    finished = run_in_real_window([sys.executable, "-m", "bngui", "bench", "--monkey", "--real",
                                   "--seconds", "60", "--seed", "7", "--data", str(mnist_path)],
                                  timeout=600)
    assert finished.returncode == 0, f"exit code {finished.returncode}\n{finished.stdout[-4000:]}\n" \
                                     f"{finished.stderr[-4000:]}"
    assert "0 problem(s)" in finished.stdout, finished.stdout[-4000:]


def test_quit_right_after_launch(display, tmp_path, mnist_path):
    """Ctrl+Q while TensorFlow and MNIST still load: the process ends at once, with code 0."""
    if shutil.which("xdotool") is None:
        if os.environ.get("CI"):
            pytest.fail("xdotool is missing (apt-get install xdotool)")
        pytest.skip("xdotool is not installed")
    from conftest import real_window_environment

    environment = real_window_environment(display, tmp_path)
    app = subprocess.Popen([sys.executable, "-m", "bngui", "--data", str(mnist_path)], env=environment,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    window = ""
    deadline = time.monotonic() + 60
    while not window and time.monotonic() < deadline and app.poll() is None:
        found = subprocess.run(["xdotool", "search", "--onlyvisible", "--pid", str(app.pid)], env=environment,
                               capture_output=True, text=True)
        window = found.stdout.split()[0] if found.stdout.split() else ""
        time.sleep(0.1)
    assert window, "no window appeared"
    subprocess.run(["xdotool", "windowfocus", "--sync", window], env=environment, timeout=10)
    subprocess.run(["xdotool", "key", "--clearmodifiers", "ctrl+q"], env=environment, timeout=10)
    pressed = time.monotonic()
    try:
        code = app.wait(30)
    finally:
        app.kill()
    seconds = time.monotonic() - pressed
    stderr = app.stderr.read()
    assert code == 0, stderr
    assert seconds < QUIT_BOUND_S, f"quit took {seconds:.2f} s"
    assert "thread" not in stderr.lower(), stderr
