"""Benchmarks: commands that measure bngui (``bngui bench``), never tests.

Each module has one entry point called by the command line: the training
speed (``training``), the window's responsiveness (``responsiveness``) and
its Start (``window_start``), the drawing canvas's latency (``canvas``),
memory and exits over many runs (``soak``), and recognition of handwriting
from outside MNIST (``handwriting``). ``window`` holds what the window
benchmarks share.
"""
