"""The bulk package's parts: one chunk kernel, two engines behind one interface, no import
that comes back."""

from __future__ import annotations

import ast
from pathlib import Path

import pandas as pd
import pytest

import dmi
from dmi.bulk.engines import Engine
from dmi.bulk.engines.local import LocalEngine
from dmi.bulk.kernel import ChunkResult, ChunkTask
from dmi.instruments.synth import synthesise

SRC = Path(dmi.__file__).parent
MIIT = dmi.load_instrument("miit-2024-manufacturing")
MODEL = dmi.IndexModel(MIIT).fit()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The dmi modules a file imports, anywhere in it (in a function too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            # `from dmi.io import Chunk` imports dmi.io; `from dmi.bulk import run`, dmi.bulk.run
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        found |= {n for n in names if n in modules}
    return found


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` (a path that comes back to its start), or None."""
    state: dict[str, int] = {}  # 1 on the path being walked, 2 done

    def walk(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (found := walk(nxt, [*path, nxt])):
                return found
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := walk(start, [start])):
            return found
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_no_module_of_the_bulk_package_imports_one_that_imports_it_back():
    files = {_module_name(p): p for p in SRC.rglob("*.py")}
    graph = {name: _imports(path, set(files)) - {name} for name, path in files.items()}
    bulk = {name for name in graph if name.startswith("dmi.bulk")}
    assert {"dmi.bulk.kernel", "dmi.bulk.engines.local", "dmi.bulk.engines.dask"} <= bulk
    # every path through a bulk module, into any module of dmi and out again
    assert _cycle({n: e for n, e in graph.items() if n in bulk or e & bulk}) is None
    # the engines know the kernel, not the run that chooses them
    for engine in ("dmi.bulk.engines.local", "dmi.bulk.engines.dask"):
        assert "dmi.bulk.kernel" in graph[engine]
        assert "dmi.bulk.run" not in graph[engine]


def test_both_engines_have_the_interface():
    pytest.importorskip("distributed")
    from dmi.bulk.engines.dask import DaskEngine

    for engine in (LocalEngine, DaskEngine):
        assert engine.name in ("local", "dask")
        for method in Engine.__annotations__.keys() | {"score", "close"}:
            assert hasattr(engine, method), (engine, method)


def test_the_local_engine_gives_results_in_the_order_of_its_tasks(tmp_path):
    # chunks of a file, scored on three threads: the results come back in file order
    path = tmp_path / "in.csv"
    synthesise(MIIT, 90, seed=6, missing_rate=0.0).to_csv(path, index=False)
    from dmi.bulk.duplicates import DuplicateIndex
    from dmi.io import map_columns, open_table

    reader = open_table(path, chunk_rows=30)
    mapping = map_columns(MIIT, reader.columns)
    tasks = [
        ChunkTask(c, mapping, "reject", reader.columns, DuplicateIndex()) for c in reader.chunks()
    ]
    results = list(LocalEngine(MODEL, threads=3).score(tasks))
    assert all(isinstance(r, ChunkResult) for r in results)
    assert len(results) > 1 and sum(r.n_read for r in results) == 90
    ids = [rid for r in results for rid in r.scores["respondent_id"]]
    assert ids == pd.read_csv(path, dtype=str)["respondent_id"].tolist()
