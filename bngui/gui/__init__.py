"""The Qt desktop application; the only part of bngui that imports Qt."""
