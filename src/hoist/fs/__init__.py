"""Filesystem primitives: root-confined resolution, atomic writes, locks."""
