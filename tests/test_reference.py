"""References: content-hash versions, exact round trips, the same scores as `dmi score`."""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import pytest

import dmi
from dmi.io import read_answers
from dmi.service.reference import (
    Reference,
    compare_references,
    fit_reference,
    shipped_reference,
    shipped_reference_population,
)
from dmi.service.store import Store
from dmi.tiers import load_shipped_tier_model


@pytest.fixture(scope="module")
def shipped(miit):
    return shipped_reference(miit)


@pytest.fixture(scope="module")
def population(miit):
    return read_answers(shipped_reference_population(miit), miit)


def test_shipped_reference_scores_as_the_official_method(miit, shipped, population):
    sample = population.head(200)
    expected = dmi.IndexModel(miit).fit().score_batch(sample).scores
    got = shipped.score(sample.loc[sample["respondent_id"].isin(expected["respondent_id"])])
    assert got["dmi"].tolist() == expected["dmi"].tolist()  # bit for bit
    tiers = load_shipped_tier_model(miit).predict(expected)
    assert got["tier"].tolist() == list(tiers)
    one = sample.iloc[0].dropna().to_dict()
    assert shipped.assess(one).dmi == expected["dmi"].iloc[0]


def test_version_is_a_content_hash_and_survives_a_round_trip(miit, shipped):
    again = shipped_reference(miit)
    assert again.version == shipped.version  # same content, same version, any machine
    loaded = Reference.from_json(shipped.to_json())
    assert loaded.version == shipped.version
    assert loaded.to_json() == shipped.to_json()
    other = Reference.from_json(shipped.to_json())
    other._payload = None
    other.note = "changed"
    assert other.version != shipped.version
    with pytest.raises(dmi.ModelFileError, match="field format: unknown format 'something else'"):
        Reference.from_dict({"format": "something else"})


def _strip(document: dict) -> dict:
    """The document as dmi wrote it before it recorded its version (in it and in its parts)."""
    out = {k: v for k, v in document.items() if k != "dmi_version"}
    for part in ("index_model", "tier_model", "peers"):
        if isinstance(out.get(part), dict):
            out[part] = {k: v for k, v in out[part].items() if k != "dmi_version"}
    return out


def _content_hash(document: dict) -> str:
    text = json.dumps(document, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def test_the_version_leaves_out_which_dmi_wrote_the_document(miit, shipped):
    document = shipped.to_dict()
    assert document["dmi_version"] == dmi.__version__
    assert {document[p]["dmi_version"] for p in ("index_model", "tier_model", "peers")} == {
        dmi.__version__
    }
    # the version is the content hash of the document without the dmi_version fields ...
    old = _strip(document)
    assert shipped.version == f"{miit.id}@{_content_hash(old)}"
    # ... so a document stored before dmi recorded its version keeps the version it was stored
    # under (then the hash of all of it), and loads and scores as before
    stored = Reference.from_json(json.dumps(old, ensure_ascii=False))
    assert stored.version == shipped.version and stored.to_dict() == old
    # and the same reference written by another dmi release is the same version
    later = json.loads(shipped.to_json())
    later["dmi_version"] = later["index_model"]["dmi_version"] = "9.9.9"
    assert Reference.from_dict(later).version == shipped.version


GONE = object()


def _edited(data: dict, change: tuple) -> dict:
    copy = json.loads(json.dumps(data))
    *keys, value = change
    target = copy
    for key in keys[:-1]:
        target = target[key]
    if value is GONE:
        del target[keys[-1]]
    else:
        target[keys[-1]] = value
    return copy


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        (("peers", GONE), "peers", "missing"),
        (("n_companies", "3000"), "n_companies", "valid integer, got the text '3000'"),
        (("format", "dmi-reference/2"), "format", "unknown format 'dmi-reference/2'"),
        (("instrument", "version", "1999.1"), "instrument", "fitted for instrument"),
        (("index_model", "weights", GONE), "index_model.weights", "missing"),
        (("index_model", "format", "x"), "index_model.format", "unknown format 'x'"),
        (("tier_model", "centroids", [[1.0]]), "tier_model.centroids", "shape (4, 4)"),
        (("peers", "n", 1.5), "peers.n", "valid integer, got the number 1.5"),
    ],
)
def test_a_broken_reference_document_names_the_field(shipped, change, field, problem):
    with pytest.raises(dmi.ModelFileError) as caught:
        Reference.from_dict(_edited(shipped.to_dict(), change))
    assert (caught.value.source, caught.value.field) == ("reference document", field)
    assert problem in caught.value.problem


def test_a_truncated_reference_document(shipped):
    text = shipped.to_json()
    with pytest.raises(dmi.ModelFileError, match="reference document: not valid JSON"):
        Reference.from_json(text[: len(text) // 3])


def test_a_rank_correlation_of_one_company_or_constant_ranks_is_undefined(
    miit, shipped, population
):
    # one company was given a Spearman of 1.0 (as were two, whatever their order); identical
    # companies gave nan with scipy's warning: both are undefined, shown as a dash
    import warnings

    import numpy as np

    from dmi.locales import text
    from dmi.service.reference import change_tables

    for sample in (population.head(1), pd.concat([population.head(1)] * 3, ignore_index=True)):
        sample = sample.assign(respondent_id=[f"R{i}" for i in range(len(sample))])
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            change = compare_references(shipped, shipped, sample)
        assert np.isnan(change.spearman)
        for lang in ("zh", "en"):
            summary = change_tables(shipped, shipped, change, lang)["summary"]
            rows = dict(summary.itertuples(index=False, name=None))
            shown = rows[text("admin.sum_spearman", lang)]
            assert shown == text("admin.sum_spearman_undefined", lang)


def test_refit_compare_and_store(miit, shipped, population, tmp_path):
    sample = population.head(600)
    refit = fit_reference(miit, sample, weighting="entropy", n_bootstrap=0, source="test")
    assert refit.n_companies == len(dmi.IndexModel(miit).fit().score_batch(sample).scores)
    same = compare_references(shipped, shipped, sample)
    assert same.level_changed == 0 and same.tier_changed == 0
    assert same.max_abs_index_change == 0 and same.spearman == pytest.approx(1.0)
    change = compare_references(shipped, refit, sample)
    assert change.n_compared == refit.n_companies
    assert change.max_abs_index_change > 0
    old = dict(change.weight_changes)
    assert sum(a for a, _ in old.values()) == pytest.approx(1.0)
    assert sum(b for _, b in old.values()) == pytest.approx(1.0)

    store = Store(f"sqlite:///{tmp_path / 'ref.sqlite'}")
    first = store.ensure_reference(lambda: shipped, miit.id)
    assert first.version == shipped.version and first.is_current
    version = store.add_reference(refit, created_by="admin")
    assert store.current_reference(miit.id).version == shipped.version  # not yet published
    store.publish(version)
    assert store.current_reference(miit.id).version == version
    # the earlier one stays, loadable, scoring as before
    earlier = store.reference(shipped.version).load()
    row = sample.iloc[[0]]
    assert earlier.score(row)["dmi"].tolist() == shipped.score(row)["dmi"].tolist()
    assert [r.version for r in store.list_references(miit.id)] == [version, shipped.version]


def test_a_population_without_valid_rows_is_refused(miit):
    with pytest.raises(ValueError, match="no row of the reference population has valid answers"):
        fit_reference(miit, pd.DataFrame({"respondent_id": ["a"], "network": ["?"]}))
