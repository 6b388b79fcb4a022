"""Archives in and out of the store: docker-archive, OCI archive/layout, rootfs tarballs."""
