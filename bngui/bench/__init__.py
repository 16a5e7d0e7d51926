"""Benchmarks that measure how well bngui's models and preprocessing do, beyond MNIST's test set."""
