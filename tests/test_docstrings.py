"""The public API's numpydoc: a function whose docstring has a Parameters section documents
every parameter it takes (``treat``'s ``max_points``, ``open_table``'s ``path`` ... were
missing from theirs)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import pytest

import dmi

PACKAGES = ["dmi"] + sorted(f"dmi.{m.name}" for m in pkgutil.iter_modules(dmi.__path__) if m.ispkg)
SECTION = re.compile(r"^Parameters\n-+\n(.*?)(?=\n\n[A-Z][a-z]+\n-+\n|\Z)", re.S | re.M)


def _public_functions():
    for name in PACKAGES:
        module = importlib.import_module(name)
        for attr in getattr(module, "__all__", []):
            obj = getattr(module, attr, None)
            if inspect.isfunction(obj):
                yield f"{name}.{attr}", obj


def documented(doc: str) -> set[str] | None:
    """The parameter names a numpydoc Parameters section lists (``a, b : int`` lists two)."""
    found = SECTION.search(doc)
    if found is None:
        return None
    names: set[str] = set()
    for line in found.group(1).splitlines():
        if line and not line.startswith(" "):
            names |= {p.strip().lstrip("*") for p in line.split(" : ")[0].split(",")}
    return names


def test_the_section_reader_reads_one_and_several_names_a_line():
    doc = (
        "Sum.\n\nParameters\n----------\nx : int\n    One.\na, b : float\n    Two.\n\n"
        "Returns\n-------\nint\n"
    )
    assert documented(doc) == {"x", "a", "b"}
    assert documented("No section.") is None


@pytest.mark.parametrize(("name", "function"), list(_public_functions()))
def test_a_parameters_section_lists_every_parameter(name, function):
    names = documented(inspect.getdoc(function) or "")
    if names is None:
        pytest.skip("no Parameters section")
    taken = [p for p in inspect.signature(function).parameters if p not in ("self", "cls")]
    assert not [p for p in taken if p not in names], f"{name}: undocumented parameters"


def test_every_example_in_a_docstring_runs_and_gives_what_it_says():
    # dmi.eligibility's examples could not run: "{..., ...}" is no dict, firms_frame was never
    # made (an API review); every module of dmi whose docstrings hold examples is run here
    import doctest
    import warnings

    tested = 0
    for info in pkgutil.walk_packages(dmi.__path__, "dmi."):
        module = importlib.import_module(info.name)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # an example that warns is not the one to show
            result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.failed == 0, info.name
        tested += result.attempted
    assert tested >= 12
