"""Shipped files (model weights, icons, stylesheets); installed as ``bngui.resources``."""
