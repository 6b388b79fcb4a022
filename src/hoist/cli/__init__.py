"""Command-line interface: thin argument parsing, rendering, exit codes."""
