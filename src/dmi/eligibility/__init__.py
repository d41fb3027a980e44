"""The 梯度培育 ladder: where a firm stands on 创新型 / 专精特新 / 小巨人, by policy version.

Rules are data: one YAML rule file per policy version (``2022`` = 63号, ``2026`` = 2号 with its
transition clauses) under ``dmi/instruments/data/cultivation/``, and one table of the facts a
firm states (``FACTS``). See ``docs/eligibility.md``.

>>> import dmi.eligibility as el
>>> firm = {"sme": "yes", "holds_innovative": "yes", "revenue_y1": 1800, "rd_y1": 40}
>>> result = el.evaluate(firm, policy="2026")                                    # one firm
>>> result["specialised"].status, result["specialised"].condition("sr26_rd").state
('not_yet', 'not_met')
>>> firms = el.synthetic_firms(100, seed=1)
>>> frame = el.evaluate(firms, policy="2026", lang="en")                       # many firms
>>> frame.shape
(100, 61)
>>> results = el.evaluate_firms(firms.head(2), policy="2026")   # each firm's typed result
>>> [r.respondent_id for r in results]
['SYN-E0000001', 'SYN-E0000002']
>>> batch = el.evaluate_batch(firms, policy="2026")  # .results, .rejects: counts reconcile
>>> batch.n_read == len(batch.results) + batch.n_rejected
True
>>> el.cohort(batch).status_counts("specialised")["total"].tolist()    # by province too
[100]

The package depends on numpy, pandas, pyarrow, PyYAML, pydantic, the standard library and the
lowest layers of dmi (see docs/eligibility.md).
"""

from __future__ import annotations

from dmi.eligibility.cohorts import Cohort, cohort
from dmi.eligibility.engine import STATES, STATUSES
from dmi.eligibility.export import facts_codebook, facts_template, facts_xlsform, rules_codebook
from dmi.eligibility.facts import FACTS, Fact, FactsError, FactsFileError, parse_facts
from dmi.eligibility.gaps import Gap
from dmi.eligibility.ladder import (
    ConditionResult,
    EligibilityBatch,
    FirmResult,
    GroupResult,
    IndicatorResult,
    RungResult,
    ScorecardResult,
    evaluate,
    evaluate_batch,
    evaluate_firms,
    output_columns,
    state_label,
    status_label,
)
from dmi.eligibility.policy import (
    RUNGS,
    YEARS_AHEAD,
    Policy,
    PolicyError,
    application_year,
    available_policies,
    citation,
    load_policy,
    parse_policy,
    policy_in_force,
)
from dmi.eligibility.profile import profile_fact_text
from dmi.eligibility.synthetic import synthetic_firms

__all__ = [
    "FACTS",
    "RUNGS",
    "STATES",
    "STATUSES",
    "Cohort",
    "ConditionResult",
    "EligibilityBatch",
    "Fact",
    "FactsError",
    "FactsFileError",
    "FirmResult",
    "Gap",
    "GroupResult",
    "IndicatorResult",
    "Policy",
    "PolicyError",
    "RungResult",
    "ScorecardResult",
    "YEARS_AHEAD",
    "application_year",
    "available_policies",
    "citation",
    "cohort",
    "evaluate",
    "evaluate_batch",
    "evaluate_firms",
    "facts_codebook",
    "facts_template",
    "facts_xlsform",
    "rules_codebook",
    "load_policy",
    "output_columns",
    "parse_facts",
    "parse_policy",
    "policy_in_force",
    "profile_fact_text",
    "state_label",
    "status_label",
    "synthetic_firms",
]
