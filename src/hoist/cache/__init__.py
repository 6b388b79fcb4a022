"""The build cache: content-based step keys that keep their components."""
