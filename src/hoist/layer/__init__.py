"""Layers: change detection, the deterministic tar writer, safe extraction and codecs."""
