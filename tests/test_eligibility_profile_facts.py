"""The facts table's ``survey_profile``: which profile question of the MIIT survey gives which
fact of the 梯度培育 ladder (所在省份 ``region`` the province, 所属行业 ``sector`` the sector,
从业人员数 ``employees`` the staff), and how its answer is written as the fact.
"""

from __future__ import annotations

import pytest

from dmi.eligibility import FACTS
from dmi.eligibility.facts import parse_facts_table
from dmi.errors import FactsFileError

FED = {"region": "province", "sector": "sector", "employees": "staff"}


def test_the_table_of_profile_facts_names_the_surveys_fields_and_the_facts(miit):
    fed = {entry.field: entry.fact for entry in FACTS.survey_profile}
    assert fed == FED
    for entry in FACTS.survey_profile:
        field = miit.profile_field(entry.field)  # a field of the survey
        assert entry.fact in FACTS
        assert (field.type == "choice") == (entry.written_as != "value")


def test_a_profile_answer_is_written_as_the_apps_pre_check_writes_it(miit):
    # one form for the agency's file and the firm's own pre-check, so that a cohort counts
    # them together
    from dmi.eligibility import profile_fact_text
    from dmi.service.ladder import profile_facts

    by_field = {entry.field: entry for entry in FACTS.survey_profile}
    for region in miit.profile_field("region").options[:5]:
        for sector in miit.profile_field("sector").options[:5]:
            answers = {"region": region.value, "sector": sector.value}
            written = {
                by_field[f].fact: profile_fact_text(miit.profile_field(f), by_field[f], v)
                for f, v in answers.items()
            }
            assert written == profile_facts(miit, answers)
    entry = by_field["employees"]
    assert profile_fact_text(miit.profile_field("employees"), entry, "120") == "120"


@pytest.mark.parametrize(
    ("entry", "said"),
    [
        ("{field: region, fact: provinces, as: name}", "unknown fact 'provinces'"),
        ("{field: region, fact: province, as: label}", "survey_profile[0]"),
        ("{field: region, fact: respondent_id, as: name}", "not the id"),
        (
            "{field: region, fact: province, as: name}\n  - {field: city, fact: province, as: "
            "value}",
            "fed by two fields",
        ),
    ],
)
def test_a_broken_table_of_profile_facts_is_refused_naming_the_entry(entry, said):
    from dmi.eligibility._data import DATA

    text = DATA.joinpath("facts.yaml").read_text(encoding="utf-8")
    start = text.index("survey_profile:")
    end = text.index("\n\n", start)
    broken = text[:start] + f"survey_profile:\n  - {entry}" + text[end:]
    with pytest.raises(FactsFileError) as caught:
        parse_facts_table(broken, "facts.yaml")
    assert said in str(caught.value)
