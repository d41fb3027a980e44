"""The analysis report: one self-contained HTML page in Chinese or English.

Charts are inline SVG (:mod:`dmi.analysis.charts`), styles inline, no script and no external
resource, so the file reads offline and prints. Every user-facing string of the report has its
zh and en text in :data:`STRINGS` (and the column headings in :data:`COLUMNS`).
"""

from __future__ import annotations

import math
from html import escape
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dmi.analysis import charts

if TYPE_CHECKING:
    from dmi.analysis.pipeline import Analysis

__all__ = ["COLUMNS", "LANGS", "STRINGS", "render_html"]

LANGS = ("zh", "en")

STRINGS: dict[str, tuple[str, str]] = {
    "title": ("数字化发展指数研究分析报告", "Digital maturity index: research analysis"),
    "provenance": ("来源与复现", "Provenance and rerun"),
    "provenance_note": (
        "以下信息足以完全复现本报告：相同的 dmi 版本、问卷（内容哈希）、方法文件与随机种子"
        "给出相同的数字。",
        "Everything needed to rerun this report exactly: the same dmi version, instrument "
        "(content hash), method file and seed give the same numbers.",
    ),
    "dmi_version": ("dmi 版本", "dmi version"),
    "instrument": ("问卷", "Instrument"),
    "method_file": ("方法文件", "Method file"),
    "default_method": ("（默认方法）", "(the default method)"),
    "input": ("分析数据", "Data analysed"),
    "reference": ("参照总体", "Reference population"),
    "reference_input": ("分析数据本身", "the data analysed itself"),
    "rows": (
        "读取 {read} 行，有效 {valid} 行，拒绝 {rejected} 行（数据哈希 {hash}）",
        "{read} rows read, {valid} valid, {rejected} rejected (data hash {hash})",
    ),
    "seed_runs": ("随机种子 / 运行次数", "Seed / runs"),
    "tier_model": ("梯队模型", "Tier model"),
    "ahp": ("AHP 判断", "AHP judgements"),
    "none": ("无", "none"),
    "command": ("复现命令", "Command to rerun"),
    "method_yaml": ("本次运行的方法（YAML）", "The method as it ran (YAML)"),
    "problems": ("未能计算的部分", "Parts that could not be computed"),
    "contents": ("目录", "Contents"),
    "coverage": ("数据覆盖率与处理", "Data coverage and treatment"),
    "coverage_note": (
        "按 JRC 的 65% 规则：每个指标应在至少 {pct} 的企业中有完整回答，"
        "每家企业应完整回答至少 {pct} 的指标。"
        "按问卷缺失规则计分（计为最低或不计入）的回答在此算作缺失。",
        "The JRC's 65% rule: an indicator should be answered completely by at least {pct} of the "
        "companies, and a company should answer at least {pct} of the indicators completely. "
        "An answer scored by the instrument's missing-answer rule (as lowest, or left out) "
        "counts as missing here.",
    ),
    "units_below": (
        "{count} 家企业（共 {n} 家）低于阈值。",
        "{count} of {n} companies are below the threshold.",
    ),
    "outliers": (
        "异常值（COINr 规则：|偏度| ≥ {skew} 且峰度 ≥ {kurt}）",
        "Outliers (the COINr rule: |skew| ≥ {skew} and kurtosis ≥ {kurt})",
    ),
    "treatment": ("处理记录", "What was done"),
    "treatment_none": (
        "未选择处理：仅报告，不改变任何数值。",
        "No treatment chosen: reported only, no value changed.",
    ),
    "imputation": ("插补记录", "Imputation"),
    "imputation_none": (
        "未插补：沿用问卷的缺失规则。",
        "No imputation: the instrument's missing-answer rule applies.",
    ),
    "reliability": ("信度与结构效度", "Reliability and structure"),
    "reliability_note": (
        "每个维度内题目的 Cronbach's α（Feldt 置信区间）、KMO 与 Bartlett 球形检验；"
        "α 低于 {alpha}、"
        "维度内负相关、与维度其余部分相关低于 {r} 的题目或指标会被标出。",
        "Per dimension, over its items: Cronbach's alpha (Feldt's interval), KMO and Bartlett's "
        "sphericity test; alpha below {alpha}, negative correlations inside a dimension and an "
        "item or indicator correlating below {r} with the rest of its dimension are flagged.",
    ),
    "flags": ("标记", "Flags"),
    "no_flags": ("无标记。", "No flags."),
    "indicator_rest": (
        "指标与所在维度其余部分的相关",
        "Each indicator against the rest of its dimension",
    ),
    "heatmap": ("指标相关矩阵", "Correlations of the indicators"),
    "effective": ("有效权重", "Effective weights"),
    "effective_note": (
        "名义权重是节点应占的份额；主效应 S_i = Var(E[指数|节点]) / Var(指数) "
        "是它单独解释的指数方差份额，"
        "有效份额为 S_i 在同层中的占比（Paruolo、Saisana、Saltelli 2013）。",
        "The nominal weight is the share a node should have; the main effect S_i = "
        "Var(E[index | node]) / Var(index) is the share of the index's variance it explains "
        "alone, and the effective share is S_i over its level's total (Paruolo, Saisana and "
        "Saltelli 2013).",
    ),
    "nominal_vs_effective": ("名义权重与有效份额", "Nominal weight and effective share"),
    "schemes": ("权重方案比较", "Weighting schemes side by side"),
    "schemes_note": (
        "各方案与名义方法（{nominal}）比较：Spearman 与 Kendall 秩相关、排名变动、等级与梯队变化。"
        "问卷官方方法以外的等级均为参考等级（非官方方法），梯队同理为参考梯队。",
        "Each scheme against the nominal method ({nominal}): Spearman and Kendall rank "
        "correlations, rank moves, band and tier changes. Under any method but the instrument's "
        "own, a band is an indicative band (not an official level) and a tier an indicative "
        "tier.",
    ),
    "scheme_weights": ("各方案的权重", "Weights of each scheme"),
    "movers": ("变动最大的企业：{scheme}", "Largest movers: {scheme}"),
    "not_run": ("未能运行", "Could not run"),
    "uncertainty": ("不确定性与敏感性分析", "Uncertainty and sensitivity"),
    "uncertainty_note": (
        "Sobol' 准随机设计（Saltelli 方案，SALib）共 {runs} 次运行，不确定输入：{inputs}；"
        "权重扰动 ±{pert}。"
        "每次运行为全部企业计分；Sobol' 指数针对相对名义排名的平均绝对排名变动。",
        "A quasi-random Sobol' design (Saltelli's scheme, SALib) of {runs} runs over the "
        "uncertain inputs {inputs}; weights perturbed by ±{pert}. Every run scores every "
        "company; the Sobol' indices are those of the mean absolute shift in rank against the "
        "nominal ranking.",
    ),
    "sobol": ("Sobol' 指数", "Sobol' indices"),
    "sobol_chart": ("一阶（S1）与总效应（ST）指数", "First-order (S1) and total (ST) indices"),
    "rules": ("互斥选择的处理规则", "Rules for choices that exclude each other"),
    "rank_chart": (
        "按名义排名排列的企业：5%–95% 排名区间、中位数与名义排名",
        "Companies by nominal rank: 5-95 % rank interval, median and nominal rank",
    ),
    "legend_interval": ("5%–95% 区间", "5-95 % interval"),
    "legend_median": ("中位数", "median"),
    "legend_nominal": ("名义排名", "nominal rank"),
    "companies_axis": ("企业（按名义排名）", "companies (by nominal rank)"),
    "rank_axis": ("排名", "rank"),
    "fragile": ("最不稳定的企业", "The most fragile companies"),
    "fragile_note": (
        "按等级（参考等级）改变的运行占比、再按梯队改变占比与排名区间宽度排序。",
        "By the share of runs that change the company's (indicative) band, then its tier, then "
        "the width of its rank interval.",
    ),
    "summary": ("概要", "Summary"),
    "summary_companies": (
        "{share} 的企业在至少一半的运行中改变了等级（参考等级）。",
        "{share} of the companies change (indicative) band in at least half of the runs.",
    ),
    "summary_flags": ("信度标记 {count} 条。", "{count} reliability flags."),
    "summary_spearman": (
        "各权重方案与名义方法的 Spearman 秩相关在 {low} 至 {high} 之间。",
        "The weighting schemes' Spearman correlations with the nominal method range from {low} "
        "to {high}.",
    ),
    "official": ("官方等级", "official level"),
    "indicative": ("参考等级（非官方方法）", "indicative band (non-official method)"),
    "dimension": ("维度", "Dimension"),
    "geometric-bounded": (
        "几何聚合时标准化方法只在有界方法中抽取（z 分数为负值）",
        "geometric aggregation: the normalisation drawn among the bounded ones (z-scores are "
        "negative)",
    ),
    "bod-own-weights": (
        "有利假设法：算术聚合、企业各自的权重（不扰动）",
        "benefit of the doubt: arithmetic, each company's own weights (nothing perturbed)",
    ),
    "alpha_low": ("α 偏低", "alpha low"),
    "negative_correlation": ("维度内负相关", "negative correlation"),
    "weak_item": ("题目与维度其余部分相关弱", "weak item"),
    "weak_indicator": ("指标与维度其余部分相关弱", "weak indicator"),
    "not_computable": ("不可计算", "not computable"),
    "more_rows": (
        "……另有 {count} 行（完整表格见 --json 输出）。",
        "... {count} more rows (every row is in the --json output).",
    ),
}

COLUMNS: dict[str, tuple[str, str]] = {
    "item": ("题目", "item"),
    "indicator": ("指标", "indicator"),
    "dimension": ("维度", "dimension"),
    "answered": ("已答", "answered"),
    "complete": ("完整", "complete"),
    "share": ("占比", "share"),
    "below": ("低于阈值", "below"),
    "column": ("列", "column"),
    "n": ("n", "n"),
    "skew": ("偏度", "skew"),
    "kurtosis": ("峰度", "kurtosis"),
    "outlier": ("异常", "outlier"),
    "note": ("说明", "note"),
    "action": ("处理", "action"),
    "points": ("点数", "points"),
    "group": ("组", "group"),
    "cells": ("单元格", "cells"),
    "method": ("方法", "method"),
    "value": ("值", "value"),
    "items": ("题数", "items"),
    "alpha": ("α", "alpha"),
    "alpha_ci_low": ("α 下限", "alpha low"),
    "alpha_ci_high": ("α 上限", "alpha high"),
    "kmo": ("KMO", "KMO"),
    "bartlett_chi2": ("Bartlett χ²", "Bartlett chi2"),
    "bartlett_df": ("自由度", "df"),
    "bartlett_p": ("p 值", "p"),
    "r_rest": ("与其余部分相关", "r with the rest"),
    "kind": ("类型", "kind"),
    "where": ("位置", "where"),
    "threshold": ("阈值", "threshold"),
    "message": ("说明", "message"),
    "level": ("层级", "level"),
    "code": ("代码", "code"),
    "nominal_weight": ("名义权重", "nominal weight"),
    "correlation": ("与指数相关", "correlation with the index"),
    "main_effect": ("主效应 S_i", "main effect S_i"),
    "effective_share": ("有效份额", "effective share"),
    "scheme": ("方案", "scheme"),
    "spearman": ("Spearman", "Spearman"),
    "kendall": ("Kendall", "Kendall"),
    "band_changed": ("等级改变（家）", "band changed"),
    "tier_changed": ("梯队改变（家）", "tier changed"),
    "largest_move": ("最大排名变动", "largest rank move"),
    "mean_abs_move": ("平均排名变动", "mean rank move"),
    "notes": ("说明", "notes"),
    "respondent_id": ("企业编号", "respondent_id"),
    "dmi_a": ("名义指数", "nominal index"),
    "dmi_b": ("方案指数", "scheme index"),
    "rank_a": ("名义排名", "nominal rank"),
    "rank_b": ("方案排名", "scheme rank"),
    "rank_change": ("排名变化", "rank change"),
    "input": ("不确定输入", "uncertain input"),
    "S1": ("S1", "S1"),
    "S1_conf": ("S1 ±", "S1 ±"),
    "ST": ("ST", "ST"),
    "ST_conf": ("ST ±", "ST ±"),
    "rule": ("规则", "rule"),
    "runs": ("运行次数", "runs"),
    "dmi_nominal": ("名义指数", "nominal index"),
    "dmi_median": ("指数中位数", "index median"),
    "dmi_p05": ("指数 5%", "index 5%"),
    "dmi_p95": ("指数 95%", "index 95%"),
    "rank_nominal": ("名义排名", "nominal rank"),
    "rank_median": ("排名中位数", "rank median"),
    "rank_low": ("排名区间下限", "rank low"),
    "rank_high": ("排名区间上限", "rank high"),
    "band_nominal": ("名义等级", "nominal band"),
    "share_band_changed": ("等级改变占比", "band changed (share of runs)"),
    "tier_nominal": ("名义梯队", "nominal tier"),
    "share_tier_changed": ("梯队改变占比", "tier changed (share of runs)"),
}

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
        self.i = 0 if lang == "zh" else 1
        self.parts: list[str] = []
        instrument = analysis.population.instrument
        self.band_names = {b.level: (b.zh, b.en)[self.i] for b in instrument.levels.bands}

    def t(self, key: str, **kwargs: Any) -> str:
        return STRINGS[key][self.i].format(**kwargs)

    def add(self, html: str) -> None:
        self.parts.append(html)

    def h2(self, key: str, anchor: str) -> None:
        self.add(f'<h2 id="{anchor}">{escape(self.t(key))}</h2>')

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
        return f"<td>{escape(str(value))}</td>"

    def table(self, frame: pd.DataFrame, columns: list[str] | None = None, limit: int = 60) -> None:
        columns = [c for c in (columns or list(frame.columns)) if c in frame.columns]
        head = "".join(f"<th>{escape(COLUMNS.get(c, (c, c))[self.i])}</th>" for c in columns)
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


def _percent(value: float) -> str:
    return f"{100 * value:.0f}%"


def render_html(analysis: Analysis, lang: str = "en") -> str:
    """The report of an analysis as one self-contained HTML page."""
    w = _Writer(analysis, lang)
    sections = [
        ("summary", "summary"),
        ("provenance", "provenance"),
        ("coverage", "coverage"),
        ("reliability", "reliability"),
        ("effective", "effective"),
        ("schemes", "schemes"),
        ("uncertainty", "uncertainty"),
    ]
    w.add(f"<h1>{escape(w.t('title'))}</h1>")
    w.add(
        "<nav><b>"
        + escape(w.t("contents"))
        + "</b>: "
        + " · ".join(f'<a href="#{anchor}">{escape(w.t(key))}</a>' for key, anchor in sections)
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
    w.h2("summary", "summary")
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
                f'<li class="problem">{escape(part)}: {escape(reason)}</li>'
                for part, reason in a.problems.items()
            )
            + "</ul>"
        )


def _provenance(w: _Writer) -> None:
    a = w.a
    p = a.provenance
    w.h2("provenance", "provenance")
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
        reference_text = f"{reference.get('path') or reference['kind']}: {rows_text(reference)}"
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
        (w.t("tier_model"), " ".join(str(v) for v in tier.values())),
        (w.t("ahp"), str(p["ahp"].get("source") or w.t("none"))),
    ]
    w.add(
        "<table>"
        + "".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>" for k, v in entries)
        + "</table>"
    )
    w.add(f"<p><b>{escape(w.t('command'))}</b></p><pre>{escape(p['command'])}</pre>")
    w.add(f"<p><b>{escape(w.t('method_yaml'))}</b></p><pre>{escape(a.method.to_yaml())}</pre>")


def _coverage(w: _Writer) -> None:
    a = w.a
    w.h2("coverage", "coverage")
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
    w.h2("reliability", "reliability")
    r = a.reliability
    if r is None:
        return
    w.p(w.t("reliability_note", alpha=r.thresholds["alpha_min"], r=r.thresholds["item_total_min"]))
    w.table(r.table())
    w.add(f"<h3>{escape(w.t('flags'))}</h3>")
    if len(r.flags):
        flags = r.flags.assign(kind=[w.t(kind) for kind in r.flags["kind"]])
        w.table(flags, ["kind", "dimension", "where", "value", "threshold", "message"])
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
    w.h2("effective", "effective")
    if a.effective is None:
        return
    w.p(w.t("effective_note"))
    w.table(a.effective)
    for level, part in a.effective.groupby("level", sort=False):
        w.figure(
            charts.bars(
                list(part["code"]),
                {
                    COLUMNS["nominal_weight"][w.i]: part["nominal_weight"].to_numpy(),
                    COLUMNS["effective_share"][w.i]: part["effective_share"].to_numpy(),
                },
                title=f"{w.t('nominal_vs_effective')} ({level})",
                low=0.0,
            )
        )


def _schemes(w: _Writer) -> None:
    a = w.a
    w.h2("schemes", "schemes")
    c = a.comparison
    if c is None:
        return
    w.p(w.t("schemes_note", nominal=c.nominal))
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
            {s: c.weights[s].to_numpy() for s in schemes},
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
                f'<li class="problem">{escape(k)}: {escape(v)}</li>' for k, v in c.not_run.items()
            )
            + "</ul>"
        )


def _uncertainty(w: _Writer) -> None:
    a = w.a
    w.h2("uncertainty", "uncertainty")
    u = a.uncertainty
    if u is None:
        return
    inputs = ", ".join(
        f"{name} ({' / '.join(options)})"
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
    w.table(u.sensitivity)
    w.figure(
        charts.bars(
            list(u.sensitivity["input"]),
            {"S1": u.sensitivity["S1"].to_numpy(), "ST": u.sensitivity["ST"].to_numpy()},
            title=w.t("sobol_chart"),
            low=min(0.0, float(u.sensitivity[["S1", "ST"]].min().min())),
        )
    )
    if u.rules or u.not_run:
        w.add(f"<h3>{escape(w.t('rules'))}</h3>")
        lines = [f"{w.t(rule)}: {count} {COLUMNS['runs'][w.i]}" for rule, count in u.rules.items()]
        lines += [f"{k}: {v}" for k, v in u.not_run.items()]
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
    keys = ["share_band_changed"]
    if "share_tier_changed" in companies:
        keys.append("share_tier_changed")
    ranked = companies.assign(width=companies["rank_p95"] - companies["rank_p05"])
    ranked = ranked.sort_values(keys + ["width"], ascending=False, kind="stable")
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
            "band_nominal",
            "share_band_changed",
            "tier_nominal",
            "share_tier_changed",
        ],
        limit=20,
    )
