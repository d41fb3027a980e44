"""References: content-hash versions, exact round trips, the same scores as `dmi score`."""

from __future__ import annotations

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
    with pytest.raises(ValueError, match="not a dmi reference"):
        Reference.from_dict({"format": "something else"})


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
