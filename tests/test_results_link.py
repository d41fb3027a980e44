"""The read-only results link: a view token opens a company's results and nothing else."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta

import pytest

from dmi.service.store import Store, hash_token, view_token

from .test_store import _publish_dummy

REF = "miit-2024-manufacturing@000000000000"


@pytest.fixture
def store(tmp_path):
    db = Store(f"sqlite:///{tmp_path / 'dmi.sqlite'}", retention_days=30)
    _publish_dummy(db, REF)
    return db


def _submitted(store, dmi=40.0):
    token = store.new_draft("miit-2024-manufacturing", "zh")
    store.submit(token, {"company_name": "甲"}, REF, {"dmi": dmi, "level": 2})
    return token


def test_a_view_token_shows_the_results_of_its_company_only(store):
    token, other = _submitted(store, 40.0), _submitted(store, 70.0)
    # the link works from the submission on, before the company has opened its results
    assert [s.dmi for s in store.shared_submissions(view_token(token))] == [40.0]
    view = store.results_link(token)
    assert [s.dmi for s in store.shared_submissions(view)] == [40.0]
    assert [s.dmi for s in store.shared_submissions(store.results_link(other))] == [70.0]
    # a later submission (T1) shows through the same link
    store.submit(token, {}, REF, {"dmi": 45.0, "level": 2})
    assert [s.dmi for s in store.shared_submissions(view)] == [40.0, 45.0]


def test_a_view_token_cannot_open_or_change_the_draft(store):
    token = _submitted(store)
    view = store.results_link(token)
    assert view != token
    assert store.draft(view) is None
    with pytest.raises(KeyError):
        store.save_draft(view, {"company_name": "乙"}, page=0)
    assert store.submissions(view) == []
    # and the resume code is no view token
    assert store.shared_submissions(token) == []
    assert store.shared_submissions(view + "x") == []


def test_the_link_is_the_same_each_time_and_only_its_hash_is_stored(store, tmp_path):
    token = _submitted(store)
    view = store.results_link(token)
    assert store.results_link(token) == view == view_token(token)
    # 144 bits, URL-safe, one-way from the resume code (computed here independently)
    digest = hashlib.sha256(b"dmi-results-view\0" + token.encode()).digest()[:18]
    assert view == base64.urlsafe_b64encode(digest).decode() and len(view) == 24
    raw = (tmp_path / "dmi.sqlite").read_bytes() + b"".join(
        p.read_bytes() for p in tmp_path.glob("dmi.sqlite-*")
    )
    assert view.encode() not in raw and token.encode() not in raw
    assert hash_token(view).encode() in raw


def test_no_link_for_an_unknown_resume_code_nor_for_a_draft_not_submitted(store):
    with pytest.raises(KeyError):
        store.results_link("no-such-code")
    draft = store.new_draft("miit-2024-manufacturing", "zh")
    assert store.shared_submissions(view_token(draft)) == []


def test_the_link_lives_as_long_as_the_results_and_goes_with_them(store):
    token = _submitted(store)
    view = store.results_link(token)
    expires = store.draft(token).expires_at
    assert store.shared_submissions(view)
    store.purge_expired(expires - timedelta(seconds=1))
    assert store.shared_submissions(view)
    store.purge_expired(expires + timedelta(days=1))
    assert store.shared_submissions(view) == []
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("select count(*) from result_links").scalar() == 0
