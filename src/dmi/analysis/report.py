"""The analysis report: one self-contained HTML page in Chinese or English.

Charts are inline SVG (:mod:`dmi.analysis.charts`), styles inline, no script and no external
resource, so the file reads offline and prints. Every fixed text of the report is in the locale
table (``dmi/locales/analysis.yaml``: ``analysis.<name>``, column headings
``analysis.col_<column>``); notes, flags and reasons are messages
(:class:`~dmi.analysis.text.Message`), written in the report's language.
"""

from __future__ import annotations

import math
from html import escape
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dmi.analysis import charts
from dmi.analysis.text import localise
from dmi.locales import table as locale_table
from dmi.locales import text

if TYPE_CHECKING:
    from dmi.analysis.pipeline import Analysis

__all__ = ["LANGS", "render_html"]

LANGS = ("zh", "en")

# a table column whose name is not a locale key's
_COLUMN_KEYS = {"bod (dimension level)": "bod_dimension"}

_CSS = """
body { font-family: "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif;
       margin: 2em auto; max-width: 1100px; color: #1a202c; line-height: 1.45; padding: 0 1em; }
h1 { font-size: 1.6em; }
h2 { border-bottom: 2px solid #2b6cb0; padding-bottom: .2em; margin-top: 2em; }
table { border-collapse: collapse; margin: .6em 0 1.2em; font-size: .86em; }
th, td { border: 1px solid #cbd5e0; padding: .25em .5em; text-align: left; vertical-align: top; }
th { background: #edf2f7; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #f7fafc; border: 1px solid #e2e8f0; padding: .8em; overflow-x: auto;
      font-size: .8em; }
.note { color: #4a5568; } .problem { color: #9b2c2c; } svg { max-width: 100%; height: auto; }
figure { margin: .5em 0 1.5em; }
"""


class _Writer:
    def __init__(self, analysis: Analysis, lang: str):
        if lang not in LANGS:
            raise ValueError(f"lang: expected one of {', '.join(LANGS)}, got {lang!r}")
        self.a = analysis
        self.lang = lang
        self.parts: list[str] = []
        instrument = analysis.population.instrument
        self.band_names = {b.level: b.zh if lang == "zh" else b.en for b in instrument.levels.bands}

    def t(self, key: str, **kwargs: Any) -> str:
        return text(f"analysis.{key}", self.lang, **kwargs)

    def column(self, name: str) -> str:
        """A column's heading (its name when it has none: a code such as a scheme's)."""
        code = _COLUMN_KEYS.get(name, name)
        if f"analysis.col_{code}" not in locale_table():
            return name
        return text(f"analysis.col_{code}", self.lang)

    def local(self, value: Any) -> str:
        """A message in the report's language (any other text as it is)."""
        return str(localise(value, self.lang))

    def add(self, html: str) -> None:
        self.parts.append(html)

    def h2(self, title: str, anchor: str) -> None:
        self.add(f'<h2 id="{anchor}">{escape(title)}</h2>')

    def p(self, text: str, cls: str = "note") -> None:
        self.add(f'<p class="{cls}">{escape(text)}</p>')

    def cell(self, value: Any, column: str) -> str:
        if isinstance(value, (bool, np.bool_)):
            return f"<td>{'✓' if value else ''}</td>"
        if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
            return '<td class="num">—</td>'
        if isinstance(value, (int, np.integer)):
            if column in ("band_nominal",) or column.startswith("band_"):
                return f"<td>{escape(self.band_names.get(int(value), str(value)))}</td>"
            return f'<td class="num">{int(value)}</td>'
        if isinstance(value, (float, np.floating)):
            digits = (
                1
                if column.startswith(("rank", "dmi", "largest", "mean_abs", "bartlett_chi2"))
                else 3
            )
            if column == "bartlett_p":
                return f'<td class="num">{value:.3g}</td>'
            return f'<td class="num">{value:.{digits}f}</td>'
        return f"<td>{escape(self.local(value))}</td>"

    def table(self, frame: pd.DataFrame, columns: list[str] | None = None, limit: int = 60) -> None:
        columns = [c for c in (columns or list(frame.columns)) if c in frame.columns]
        head = "".join(f"<th>{escape(self.column(c))}</th>" for c in columns)
        rows = []
        for record in frame[columns].head(limit).itertuples(index=False):
            rows.append(
                "<tr>" + "".join(self.cell(v, c) for v, c in zip(record, columns)) + "</tr>"
            )
        more = ""
        if len(frame) > limit:
            more = f'<p class="note">{escape(self.t("more_rows", count=len(frame) - limit))}</p>'
        self.add(
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{more}"
        )

    def figure(self, svg: str) -> None:
        self.add(f"<figure>{svg}</figure>")


def _input_name(w: _Writer, name: str) -> str:
    """An uncertain input's name (``weighting``, ``weights``, ``weight <code>``) in the
    report's language."""
    if name.startswith("weight "):
        return w.t("input_weight", code=name.removeprefix("weight "))
    group = name
    if f"analysis.input_{group}" not in locale_table():
        return name
    return text(f"analysis.input_{group}", w.lang)


def _not_run_name(w: _Writer, name: str) -> str:
    """``weighting pca`` (an alternative left out) in the report's language."""
    kind, _, option = name.partition(" ")
    return f"{_input_name(w, kind)} {option}".strip()


def _tier_model_text(w: _Writer, tier: dict[str, Any]) -> str:
    source = str(tier.get("source"))
    if source == "shipped":
        return w.t("tier_shipped", path=tier.get("path"))
    if source == "file":
        return w.t("tier_file", path=tier.get("path"))
    if source == "given":
        return w.t("tier_given")
    if source.startswith("none ("):
        return w.t("tier_none_shipped")
    return w.t("tier_none")


def _ahp_text(w: _Writer, source: Any) -> str:
    if not source:
        return w.t("none")
    return w.t("ahp_method_file") if source == "method file" else str(source)


def _percent(value: float) -> str:
    return f"{100 * value:.0f}%"


def render_html(analysis: Analysis, lang: str = "en") -> str:
    """The report of an analysis as one self-contained HTML page."""
    w = _Writer(analysis, lang)
    sections = [
        (w.t("summary"), "summary"),
        (w.t("provenance"), "provenance"),
        (w.t("coverage"), "coverage"),
        (w.t("reliability"), "reliability"),
        (w.t("effective"), "effective"),
        (w.t("schemes"), "schemes"),
        (w.t("uncertainty"), "uncertainty"),
    ]
    w.add(f"<h1>{escape(w.t('title'))}</h1>")
    w.add(
        "<nav><b>"
        + escape(w.t("contents"))
        + "</b>: "
        + " · ".join(f'<a href="#{anchor}">{escape(title)}</a>' for title, anchor in sections)
        + "</nav>"
    )
    _summary(w)
    _provenance(w)
    _coverage(w)
    _reliability(w)
    _effective(w)
    _schemes(w)
    _uncertainty(w)
    title = escape(w.t("title"))
    html_lang = "zh-CN" if lang == "zh" else "en"
    return (
        f'<!DOCTYPE html><html lang="{html_lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>{_CSS}</style></head><body>"
        + "\n".join(w.parts)
        + "</body></html>\n"
    )


def _summary(w: _Writer) -> None:
    a = w.a
    w.h2(w.t("summary"), "summary")
    items = []
    if a.uncertainty is not None:
        fragile = float((a.uncertainty.companies["share_band_changed"] >= 0.5).mean())
        items.append(w.t("summary_companies", share=_percent(fragile)))
    if a.reliability is not None:
        items.append(w.t("summary_flags", count=len(a.reliability.flags)))
    if a.comparison is not None and a.comparison.summary["spearman"].notna().any():
        rho = a.comparison.summary["spearman"].dropna()
        items.append(w.t("summary_spearman", low=f"{rho.min():.3f}", high=f"{rho.max():.3f}"))
    w.add("<ul>" + "".join(f"<li>{escape(text)}</li>" for text in items) + "</ul>")
    if a.problems:
        w.add(f"<h3>{escape(w.t('problems'))}</h3>")
        w.add(
            "<ul>"
            + "".join(
                f'<li class="problem">{escape(w.t(f"part_{part}"))}: {escape(w.local(reason))}</li>'
                for part, reason in a.problems.items()
            )
            + "</ul>"
        )


def _provenance(w: _Writer) -> None:
    a = w.a
    p = a.provenance
    w.h2(w.t("provenance"), "provenance")
    w.p(w.t("provenance_note"))

    def rows_text(info: dict[str, Any]) -> str:
        return w.t(
            "rows",
            read=info["rows_read"],
            valid=info["rows_valid"],
            rejected=info["rows_rejected"],
            hash=info["data_hash"],
        )

    instrument = p["instrument"]
    method = p["method"]
    reference = p["reference"]
    if reference["kind"] == "input":
        reference_text = w.t("reference_input")
    else:
        where = reference.get("path") or (
            w.t("reference_kind_data_frame")
            if reference["kind"] == "data frame"
            else reference["kind"]
        )
        reference_text = f"{where}: {rows_text(reference)}"
    tier = p["tier_model"]
    entries = [
        (w.t("dmi_version"), p["dmi_version"]),
        (
            w.t("instrument"),
            f"{instrument['id']} {instrument['version']} (sha256 {instrument['hash']})",
        ),
        (
            w.t("method_file"),
            f"{method['path']} (sha256 {method['sha256']})"
            if method["path"]
            else w.t("default_method"),
        ),
        (w.t("input"), f"{p['input']['path'] or '—'}: {rows_text(p['input'])}"),
        (w.t("reference"), reference_text),
        (w.t("seed_runs"), f"{p['seed']} / {p['runs']}"),
        (w.t("tier_model"), _tier_model_text(w, tier)),
        (w.t("ahp"), _ahp_text(w, p["ahp"].get("source"))),
    ]
    read = {k: v for k, v in p.get("read", {}).items() if v}
    if read:
        entries.append((w.t("read_options"), ", ".join(f"{k} {v}" for k, v in read.items())))
    w.add(
        "<table>"
        + "".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>" for k, v in entries)
        + "</table>"
    )
    w.add(f"<p><b>{escape(w.t('command'))}</b></p><pre>{escape(a.command(w.lang))}</pre>")
    w.add(f"<p><b>{escape(w.t('method_yaml'))}</b></p><pre>{escape(a.method.to_yaml())}</pre>")


def _coverage(w: _Writer) -> None:
    a = w.a
    w.h2(w.t("coverage"), "coverage")
    if a.coverage is not None:
        c = a.coverage
        w.p(w.t("coverage_note", pct=_percent(c.threshold)))
        w.table(c.indicators)
        w.p(w.t("units_below", count=c.n_units_below, n=len(c.units)), "")
        below_items = c.items[c.items["below"]]
        if len(below_items):
            w.table(below_items)
    if a.treatment is not None:
        t = a.treatment
        s = t.settings
        w.add(f"<h3>{escape(w.t('outliers', skew=s['skew_max'], kurt=s['kurtosis_max']))}</h3>")
        w.table(t.outliers_before)
        w.add(f"<h3>{escape(w.t('treatment'))}</h3>")
        if s["outlier_treatment"] == "none":
            w.p(w.t("treatment_none"))
        w.table(t.log)
        w.add(f"<h3>{escape(w.t('imputation'))}</h3>")
        if s["imputation"] == "none":
            w.p(w.t("imputation_none"))
        else:
            w.table(t.imputation)


def _reliability(w: _Writer) -> None:
    a = w.a
    w.h2(w.t("reliability"), "reliability")
    r = a.reliability
    if r is None:
        return
    w.p(w.t("reliability_note", alpha=r.thresholds["alpha_min"], r=r.thresholds["item_total_min"]))
    w.table(r.table())
    w.add(f"<h3>{escape(w.t('flags'))}</h3>")
    if len(r.flags):
        flags = r.flags.assign(kind=[w.t(f"kind_{kind}") for kind in r.flags["kind"]])
        # every flag: they are what a reviewer reads the section for
        w.table(flags, ["kind", "dimension", "where", "value", "threshold", "message"], limit=1000)
    else:
        w.p(w.t("no_flags"))
    w.add(f"<h3>{escape(w.t('indicator_rest'))}</h3>")
    w.table(r.indicators)
    w.add(f"<h3>{escape(w.t('heatmap'))}</h3>")
    w.figure(
        charts.heatmap(r.correlation.to_numpy(), list(r.correlation.columns), title=w.t("heatmap"))
    )


def _effective(w: _Writer) -> None:
    a = w.a
    w.h2(w.t("effective"), "effective")
    if a.effective is None:
        return
    w.p(w.t("effective_note"))
    w.table(a.effective.assign(level=[w.t(f"level_{v}") for v in a.effective["level"]]))
    for level, part in a.effective.groupby("level", sort=False):
        w.figure(
            charts.bars(
                list(part["code"]),
                {
                    w.column("nominal_weight"): part["nominal_weight"].to_numpy(),
                    w.column("effective_share"): part["effective_share"].to_numpy(),
                },
                title=f"{w.t('nominal_vs_effective')} ({w.t(f'level_{level}')})",
                low=0.0,
            )
        )


def _schemes(w: _Writer) -> None:
    a = w.a
    w.h2(w.t("schemes"), "schemes")
    c = a.comparison
    if c is None:
        return
    w.p(w.t("schemes_note", nominal=c.nominal))
    if a.treated:
        w.p(w.t("treated_bands"))
    w.table(
        c.summary,
        [
            "scheme",
            "method",
            "spearman",
            "kendall",
            "band_changed",
            "tier_changed",
            "largest_move",
            "mean_abs_move",
            "notes",
        ],
    )
    w.add(f"<h3>{escape(w.t('scheme_weights'))}</h3>")
    w.table(c.weights)
    schemes = [s for s in c.weights.columns if s != "code"]
    w.figure(
        charts.bars(
            list(c.weights["code"]),
            {w.column(s): c.weights[s].to_numpy() for s in schemes},
            title=w.t("scheme_weights"),
            low=0.0,
            digits=3,
        )
    )
    for scheme, movers in c.movers.items():
        w.add(f"<h3>{escape(w.t('movers', scheme=scheme))}</h3>")
        w.table(movers.head(5))
    if c.not_run:
        w.add(f"<h3>{escape(w.t('not_run'))}</h3>")
        w.add(
            "<ul>"
            + "".join(
                f'<li class="problem">{escape(k)}: {escape(w.local(v))}</li>'
                for k, v in c.not_run.items()
            )
            + "</ul>"
        )


def _uncertainty(w: _Writer) -> None:
    a = w.a
    w.h2(w.t("uncertainty"), "uncertainty")
    u = a.uncertainty
    if u is None:
        return
    inputs = ", ".join(
        f"{w.t(f'input_{name}')} ({' / '.join(options)})"
        for name, options in u.inputs.items()
        if isinstance(options, list)
    )
    w.p(
        w.t(
            "uncertainty_note",
            runs=u.n_runs,
            inputs=inputs,
            pert=f"{100 * u.inputs['perturbation']:.0f}%",
        )
    )
    w.add(f"<h3>{escape(w.t('sobol'))}</h3>")
    sensitivity = u.sensitivity.assign(input=[_input_name(w, v) for v in u.sensitivity["input"]])
    w.table(sensitivity)
    for note in u.notes:  # not defined, or a design too small for stable indices
        w.p(w.local(note), "problem")
    if u.sensitivity[["S1", "ST"]].notna().any().any():
        w.figure(
            charts.bars(
                list(sensitivity["input"]),
                {"S1": u.sensitivity["S1"].to_numpy(), "ST": u.sensitivity["ST"].to_numpy()},
                title=w.t("sobol_chart"),
                low=min(0.0, float(u.sensitivity[["S1", "ST"]].min().min())),
            )
        )
    if u.rules or u.not_run:
        w.add(f"<h3>{escape(w.t('rules'))}</h3>")
        lines = [
            w.t("rules_runs", rule=w.t(f"rule_{rule.replace('-', '_')}"), count=count)
            for rule, count in u.rules.items()
        ]
        lines += [f"{_not_run_name(w, k)}: {w.local(v)}" for k, v in u.not_run.items()]
        w.add("<ul>" + "".join(f"<li>{escape(line)}</li>" for line in lines) + "</ul>")
    companies = u.companies
    w.figure(
        charts.intervals(
            companies["rank_nominal"].to_numpy(),
            companies["rank_p05"].to_numpy(),
            companies["rank_median"].to_numpy(),
            companies["rank_p95"].to_numpy(),
            title=w.t("rank_chart"),
            x_label=w.t("companies_axis"),
            y_label=w.t("rank_axis"),
            legend=[w.t("legend_interval"), w.t("legend_median"), w.t("legend_nominal")],
        )
    )
    w.add(f"<h3>{escape(w.t('fragile'))}</h3>")
    w.p(w.t("fragile_note"))
    band, tier = "band_nominal", "tier_nominal"
    if u.band_name != "level":  # the nominal band is no official level: headed as indicative
        band, tier = "band_nominal_indicative", "tier_nominal_indicative"
        w.p(w.t("treated_bands") if a.treated else w.t("nominal_indicative"))
    keys = ["share_band_changed"]
    if "share_tier_changed" in companies:
        keys.append("share_tier_changed")
    ranked = companies.assign(width=companies["rank_p95"] - companies["rank_p05"])
    ranked = ranked.sort_values(keys + ["width"], ascending=False, kind="stable")
    ranked = ranked.rename(columns={"band_nominal": band, "tier_nominal": tier})
    w.table(
        ranked,
        [
            "respondent_id",
            "dmi_nominal",
            "dmi_median",
            "dmi_p05",
            "dmi_p95",
            "rank_nominal",
            "rank_median",
            "rank_low",
            "rank_high",
            band,
            "share_band_changed",
            tier,
            "share_tier_changed",
        ],
        limit=20,
    )
