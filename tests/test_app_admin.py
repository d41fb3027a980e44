"""The admin, account and weights-lab pages without a browser (Streamlit's AppTest): the
signed-in user in the sidebar; a password changed on the account page (a short one refused in
the page's language, nothing written); the reference page's tables; the weights lab's labels and
weights, checked against the library on the same file."""

from __future__ import annotations

import tomllib

import pandas as pd
import pytest

import dmi
from dmi import locales
from dmi.service.auth import Account, accounts_from_secrets, secrets_entry, verify_password

from .conftest import ROOT, app_database, sent_by_old_names

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

APP = str(ROOT / "app" / "streamlit_app.py")
TIMEOUT = 300
ACCOUNTS = {
    "boss": ("boss-password-1", ["admin"]),
    "scholar": ("scholar-password", ["researcher"]),
}


def a(key: str, lang: str, **values: object) -> str:
    return locales.text(f"admin.{key}", lang, **values)


def t(key: str, lang: str, **values: object) -> str:
    return locales.text(f"app.{key}", lang, **values)


@pytest.fixture(scope="module", autouse=True)
def database(tmp_path_factory):
    """One database for the module (the app caches its store for the process)."""
    with app_database(tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture
def secrets_file(tmp_path, monkeypatch):
    """The accounts in a secrets file the app reads (and the account page writes)."""
    from streamlit import config

    path = tmp_path / "secrets.toml"
    path.write_text(
        "".join(secrets_entry(n, pw, roles) for n, (pw, roles) in ACCOUNTS.items()),
        encoding="utf-8",
    )
    old = config.get_option("secrets.files")
    config.set_option("secrets.files", [str(path)])
    monkeypatch.delenv("DMI_PASSWORD_MIN_LENGTH", raising=False)
    yield path
    config.set_option("secrets.files", old)


def _app(lang: str, secrets_path=None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["lang"] = lang
    text = (
        secrets_path.read_text(encoding="utf-8")
        if secrets_path is not None
        else "".join(secrets_entry(n, pw, roles) for n, (pw, roles) in ACCOUNTS.items())
    )
    for key, value in tomllib.loads(text).items():
        at.secrets[key] = value
    return at


@pytest.fixture
def downloads(monkeypatch):
    """What each download button of a run offers, by key."""
    from streamlit.delta_generator import DeltaGenerator

    offered: dict[str, bytes] = {}
    original = DeltaGenerator.download_button

    def recording(self, label, data, *args, **kwargs):
        offered[kwargs["key"]] = data() if callable(data) else data
        return original(self, label, data, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "download_button", recording)
    return offered


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _signed_in(lang: str, name: str, page: str, secrets_path=None) -> AppTest:
    at = _app(lang, secrets_path).run()
    at.session_state["account"] = Account(name, frozenset(ACCOUNTS[name][1]))
    at.switch_page(page).run()
    _ok(at)
    return at


# -- the signed-in user and the password --------------------------------------------------------
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_account_page_says_who_is_signed_in_and_signs_out(lang):
    at = _signed_in(lang, "boss", "app_pages/account.py")
    roles = t("role_admin", lang)
    assert at.title[0].value == a("account_title", lang)
    assert at.success[0].value == t("login_as", lang, name="boss", roles=roles)
    assert [c.value for c in at.sidebar.caption] == [t("login_as", lang, name="boss", roles=roles)]
    at.button(key="account_logout").click().run()
    _ok(at)
    assert "account" not in at.session_state
    assert at.text_input(key="login_name") is not None
    assert not at.sidebar.caption


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_short_password_is_refused_in_the_page_and_nothing_written(lang, secrets_file):
    at = _signed_in(lang, "boss", "app_pages/account.py", secrets_file)
    before = secrets_file.read_bytes()
    _fill(at, "boss-password-1", "1", "1")
    assert [e.value for e in at.error] == [a("password_short", lang, length=1, min=10)]
    assert secrets_file.read_bytes() == before
    # nine characters are one short; ten are enough
    _fill(at, "boss-password-1", "123456789", "123456789")
    assert [e.value for e in at.error] == [a("password_short", lang, length=9, min=10)]
    assert secrets_file.read_bytes() == before
    _fill(at, "boss-password-1", "1234567890", "1234567890")
    assert [s.value for s in at.success][-1] == a("password_changed", lang)
    hashed = accounts_from_secrets(tomllib.loads(secrets_file.read_text(encoding="utf-8")))
    assert verify_password("1234567890", hashed["boss"][0])
    assert verify_password("scholar-password", hashed["scholar"][0])


def _submit(at: AppTest) -> None:
    next(b for b in at.button if b.proto.is_form_submitter).click().run()


def _fill(at: AppTest, current: str, new: str, again: str) -> None:
    at.text_input(key="pw_current").input(current)
    at.text_input(key="pw_new").input(new)
    at.text_input(key="pw_again").input(again)
    _submit(at)
    _ok(at)


def test_the_current_password_and_a_repeat_are_checked(secrets_file):
    at = _signed_in("en", "boss", "app_pages/account.py", secrets_file)
    before = secrets_file.read_bytes()
    _fill(at, "boss-password-1", "a-long-new-password", "a-long-new-passwort")
    assert [e.value for e in at.error] == [a("password_differ", "en")]
    _fill(at, "not-the-password", "a-long-new-password", "a-long-new-password")
    assert [e.value for e in at.error] == [a("password_wrong", "en")]
    assert secrets_file.read_bytes() == before


def test_an_account_in_no_file_the_app_reads_is_told_where_to_change_it(tmp_path):
    from streamlit import config

    old = config.get_option("secrets.files")
    config.set_option("secrets.files", [str(tmp_path / "none.toml")])
    try:
        at = _signed_in("en", "boss", "app_pages/account.py")
        _fill(at, "boss-password-1", "a-long-new-password", "a-long-new-password")
        assert [e.value for e in at.error] == [a("password_elsewhere", "en", name="boss")]
    finally:
        config.set_option("secrets.files", old)


# -- the reference page: tables, not JSON ------------------------------------------------------
def _table(at: AppTest, first_column: str, second_column: str):
    """The table of the page whose first two headers are these."""
    found = [
        df.value
        for df in at.dataframe
        if list(df.value.columns[:2]) == [first_column, second_column]
    ]
    assert len(found) == 1, [list(df.value.columns) for df in at.dataframe]
    return found[0]


# the official method's dimension shares: the instrument's points (README: 50 + 0 + 30 + 20)
OFFICIAL_DIMENSIONS = {
    "foundation": 50.0,
    "operations": 0.0,
    "management": 30.0,
    "performance": 20.0,
}
LABELS = {
    "zh": {"instrument": "测评体系权重（官方）/ instrument", "goalposts": "目标值法 / goalposts"},
    "en": {"instrument": "Instrument weights (official)", "goalposts": "Goalposts"},
}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_reference_page_shows_tables_and_offers_the_json_as_a_download(lang, downloads, miit):
    from dmi.tiers import load_shipped_tier_model

    at = _signed_in(lang, "boss", "app_pages/admin.py")
    assert not at.json  # no raw JSON on the page
    method = _table(at, a("col_setting", lang), a("col_value", lang))
    values = dict(zip(method.iloc[:, 0], method.iloc[:, 1]))
    assert values[a("row_weighting", lang)] == LABELS[lang]["instrument"]
    assert values[a("row_normalisation", lang)] == LABELS[lang]["goalposts"]
    assert values[a("row_use", lang)] == a("use_official", lang)
    assert values[a("row_source", lang)] == a("source_shipped", lang)

    dims = _table(at, a("col_dimension", lang), a("col_code", lang))
    assert dict(zip(dims[a("col_code", lang)], dims[a("col_weight", lang)])) == OFFICIAL_DIMENSIONS
    names = {d.code: (d.zh if lang == "zh" else d.en) for d in miit.dimensions}
    assert list(dims[a("col_dimension", lang)]) == [names[c] for c in OFFICIAL_DIMENSIONS]

    items = _table(at, a("col_dimension", lang), a("col_indicator", lang))
    assert sorted(items[a("col_code", lang)]) == sorted(i.code for i in miit.items)
    assert items[a("col_weight", lang)].sum() == pytest.approx(100, abs=0.05)
    # each dimension's questions add up to the dimension's share
    by_dimension = items.groupby(a("col_dimension", lang))[a("col_weight", lang)].sum()
    for code, share in OFFICIAL_DIMENSIONS.items():
        assert by_dimension[names[code]] == pytest.approx(share, abs=0.05)

    tiers = _table(at, a("col_tier", lang), a("col_name", lang))
    shipped = load_shipped_tier_model(miit)
    assert list(tiers[a("col_tier", lang)]) == [t.tier for t in shipped.report_.tiers]
    assert list(tiers[a("col_companies", lang)]) == [t.size for t in shipped.report_.tiers]
    assert list(tiers[a("col_name", lang)]) == [t.zh if lang == "zh" else t.en for t in miit.tiers]

    # the JSON is a download: the published reference itself
    from dmi.service.reference import Reference
    from dmi.service.store import Store

    document = downloads["current_download"].decode("utf-8")
    assert Reference.from_json(document).version == Store().current_reference(miit.id).version


def test_a_candidate_is_reviewed_as_tables_of_what_changes(miit):
    from dmi.io import read_answers
    from dmi.service.reference import shipped_reference_population

    lang = "en"
    at = _signed_in(lang, "boss", "app_pages/admin.py")
    at.radio(key="admin_source").set_value("shipped")
    at.selectbox(key="admin_weighting").set_value("entropy")
    at.button(key="admin_fit").click().run()
    _ok(at)
    assert not at.json

    # the same two methods computed here, apart from the page
    population = read_answers(shipped_reference_population(miit), miit)
    official = dmi.IndexModel(miit).fit().score_batch(population).scores
    entropy_model = dmi.IndexModel(miit, weighting="entropy").fit(population)
    entropy = entropy_model.score_batch(population).scores
    n = len(official)

    summary = _table(at, a("col_what", lang), a("col_value", lang))
    said = dict(zip(summary.iloc[:, 0], summary.iloc[:, 1]))
    assert said[a("sum_compared", lang)] == f"{n:,}"
    moved = int((official["level"] != entropy["indicative_level"]).sum())
    assert said[a("sum_band_changes", lang)] == f"{moved:,} / {n:,}"
    assert a("sum_level_changes", lang) not in said  # a research method changes no level

    weights = _table(at, a("col_level", lang), a("col_name", lang))
    dims = weights[weights[a("col_level", lang)] == a("node_dimension", lang)]
    assert list(dims[a("col_before", lang)]) == list(OFFICIAL_DIMENSIONS.values())
    shares = entropy_model.node_weights().query("level == 'dimension'")["weight"] * 100
    assert list(dims[a("col_after", lang)]) == pytest.approx(list(shares), abs=0.006)
    assert list(dims[a("col_change_pp", lang)]) == pytest.approx(
        list(shares - list(OFFICIAL_DIMENSIONS.values())), abs=0.011
    )

    bands = [
        df.value for df in at.dataframe if a("col_after_indicative", lang) in df.value.columns
    ][0]
    levels = {b.level: b.en for b in miit.levels.bands}
    expected_before = official["level"].value_counts()
    expected_after = entropy["indicative_level"].value_counts()
    for row in bands.itertuples(index=False):
        level = next(k for k, v in levels.items() if v == row[0])
        assert row[1] == expected_before.get(level, 0)
        assert row[2] == expected_after.get(level, 0)
        assert row[3] == row[2] - row[1]

    cutoffs = [df.value for df in at.dataframe if a("col_changed", lang) in df.value.columns][0]
    assert list(cutoffs[a("col_before", lang)]) == sorted(b.min for b in miit.levels.bands)
    assert list(cutoffs[a("col_after", lang)]) == sorted(b.min for b in miit.levels.bands)
    assert set(cutoffs[a("col_changed", lang)]) == {a("no", lang)}

    tiers = [df.value for df in at.dataframe if a("col_index_range", lang) in df.value.columns][0]
    assert tiers[a("col_before", lang)].sum() == tiers[a("col_after", lang)].sum() == n


# -- the weights lab -----------------------------------------------------------------------------
WEIGHTING_LABELS = {
    "zh": [
        "测评体系权重（官方）/ instrument",
        "等权重法 / equal",
        "熵权法 / entropy",
        "CRITIC 法 / CRITIC",
        "主成分分析法 / PCA",
        "层次分析法 / AHP",
        "有利原则法（DEA）/ benefit of the doubt",
    ],
    "en": [
        "Instrument weights (official)",
        "Equal weights",
        "Entropy",
        "CRITIC",
        "Principal components (PCA)",
        "AHP (pairwise judgements)",
        "Benefit of the doubt (DEA)",
    ],
}
NORMALISATION_LABELS = {
    "zh": ["目标值法 / goalposts", "极差法 / min-max", "标准分数法 / z-score",
           "百分位法 / percentile", "距目标法 / distance to target"],
    "en": ["Goalposts", "Min-max", "Z-score", "Percentile rank", "Distance to target"],
}  # fmt: skip


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_lab_names_every_method_in_the_pages_language_with_a_line_on_it(lang):
    at = _signed_in(lang, "scholar", "app_pages/weights_lab.py")
    for scheme in ("A", "B"):
        assert at.selectbox(key=f"{scheme}_weight").options == WEIGHTING_LABELS[lang]
        assert at.selectbox(key=f"{scheme}_norm").options == NORMALISATION_LABELS[lang]
        assert not {"entropy", "goalposts", "critic", "minmax"} & set(
            at.selectbox(key=f"{scheme}_weight").options
            + at.selectbox(key=f"{scheme}_norm").options
        )
    captions = [c.value for c in at.caption]
    # scheme B defaults to entropy: its line is shown under its picker
    assert a("weighting_entropy_help", lang) in captions
    assert a("normalisation_goalposts_help", lang) in captions
    # choosing another method shows its line
    at.selectbox(key="B_weight").set_value("critic").run()
    _ok(at)
    assert a("weighting_critic_help", lang) in [c.value for c in at.caption]


def test_a_method_sent_by_its_name_in_the_language_before_stays_chosen(monkeypatch):
    # a run the browser asked for before it had drawn the new language's names sends the old
    # name: it was taken for no method at all
    at = _signed_in("zh", "scholar", "app_pages/weights_lab.py")
    at.selectbox(key="B_weight").set_value("critic").run()
    at.sidebar.radio(key="lang_switch").set_value("en").run()
    _ok(at)
    assert at.selectbox(key="B_weight").value == "critic"
    sent_by_old_names(monkeypatch, at, {"B_weight": WEIGHTING_LABELS["zh"][3]})  # CRITIC
    at.run()
    monkeypatch.undo()
    _ok(at)
    assert at.selectbox(key="B_weight").value == "critic"
    assert a("weighting_critic_help", "en") in [c.value for c in at.caption]


def _own_population(tmp_path, miit) -> tuple[object, int, int]:
    """A researcher's file: 300 reference companies and 3 with an answer no option has."""
    from dmi.service.reference import shipped_reference_population

    rows = pd.read_csv(
        shipped_reference_population(miit), dtype=str, keep_default_na=False, encoding="utf-8-sig"
    ).head(300)
    bad = rows.head(3).copy()
    bad["respondent_id"] = ["BAD-1", "BAD-2", "BAD-3"]
    bad["it_coverage"] = "not-an-option"
    path = tmp_path / "my-companies.csv"
    pd.concat([rows, bad]).to_csv(path, index=False, encoding="utf-8")
    return path, 300, 3


def test_the_lab_shows_the_librarys_weights_for_an_uploaded_population(tmp_path, miit, downloads):
    from dmi.analysis import analyse

    path, valid, bad = _own_population(tmp_path, miit)
    lang = "zh"
    at = _signed_in(lang, "scholar", "app_pages/weights_lab.py")
    at.radio(key="lab_source").set_value("upload").run()
    at.file_uploader(key="lab_file").upload(path.name, path.read_bytes(), "text/csv")
    at.run()
    _ok(at)
    counts = a("lab_counts", lang, name="my\\-companies\\.csv", read="303", valid="300",
               rejected="3")  # fmt: skip
    assert counts in [w.value for w in at.warning]
    rejects = next(df.value for df in at.dataframe if "reason" in df.value.columns)
    assert sorted(rejects["respondent_id"].unique()) == ["BAD-1", "BAD-2", "BAD-3"]
    assert set(rejects["column"]) == {"it_coverage"}
    # the two schemes are compared on this population too
    assert any(c.value.endswith(f"({valid})") for c in at.caption)

    at.button(key="lab_analyse").click().run()
    _ok(at)
    expected = analyse(str(path), instrument=miit)  # what `dmi analyse FILE` computes
    shown = next(df.value for df in at.dataframe if WEIGHTING_LABELS[lang][2] in df.value.columns)
    weights = expected.comparison.weights
    indicator_names = {i.code: i.zh for d in miit.dimensions for i in d.indicators}
    assert list(shown[a("col_node", lang)]) == [indicator_names[c] for c in weights["code"]]
    for key, label in zip(
        ["instrument", "equal", "entropy", "critic", "pca"], WEIGHTING_LABELS[lang]
    ):
        assert list(shown[label]) == [round(100 * w, 2) for w in weights[key]], key
    bod = a("lab_bod_dimension", lang, method=WEIGHTING_LABELS[lang][6])
    assert list(shown[bod]) == [round(100 * w, 2) for w in weights["bod (dimension level)"]]
    # AHP needs judgements: said, not left out silently
    assert any(c.value.startswith(WEIGHTING_LABELS[lang][5]) for c in at.caption)

    effective = next(
        df.value for df in at.dataframe if a("col_effective", lang) in df.value.columns
    )
    assert list(effective[a("col_effective", lang)]) == pytest.approx(
        [round(100 * v, 2) for v in expected.effective["effective_share"]], nan_ok=True
    )
    reliability = next(df.value for df in at.dataframe if "Cronbach α" in df.value.columns)
    assert list(reliability["Cronbach α"]) == pytest.approx(
        [round(d.alpha.alpha, 3) for d in expected.reliability.dimensions], abs=1e-9
    )
    html = downloads["lab_report"].decode("utf-8")
    assert html.lstrip().lower().startswith("<!doctype html")
    assert expected.provenance["input"]["data_hash"] in html


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_method_choice_has_a_distinct_name_and_a_line_in_both_languages(lang):
    from dmi.service.reference import METHOD_OPTIONS, method_help, method_label

    for kind, options in METHOD_OPTIONS.items():
        labels = [method_label(kind, option, lang) for option in options]
        assert len(set(labels)) == len(options), kind
        for option, label in zip(options, labels):
            assert label.strip() and label != option, (kind, option)
            assert method_help(kind, option, lang).strip(), (kind, option)
            if lang == "zh":  # a Chinese name, the researcher's term beside it
                assert any("\u4e00" <= c <= "\u9fff" for c in label), (kind, option, label)
    # the other spellings of a normalisation are the same choice
    assert method_label("normalisation", "min-max", lang) == method_label(
        "normalisation", "minmax", lang
    )
    with pytest.raises(KeyError, match="unknown weighting 'magic'"):
        method_label("weighting", "magic", lang)
