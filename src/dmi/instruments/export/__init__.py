"""What is made from an instrument for the people who fill it in: the codebook (every allowed
value, its label and points) and the empty bulk-import template; for the survey tools, the
问卷星 survey text (:mod:`~dmi.instruments.export.wjx`) and the XLSForm
(:mod:`~dmi.instruments.export.xlsform`), imported from their modules."""

from dmi.instruments.export.codebook import CODEBOOK_COLUMNS, codebook, template

__all__ = ["CODEBOOK_COLUMNS", "codebook", "template"]
