"""What is made from an instrument for the people who fill it in: the codebook (every allowed
value, its label and points) and the empty bulk-import template."""

from dmi.instruments.export.codebook import CODEBOOK_COLUMNS, codebook, template

__all__ = ["CODEBOOK_COLUMNS", "codebook", "template"]
