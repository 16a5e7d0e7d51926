"""bngui: watch, live, why batch normalization matters."""

__version__ = "0.1.0"
