"""The ``dmi`` command: a thin shell over the library, one module per command group."""

from dmi.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
