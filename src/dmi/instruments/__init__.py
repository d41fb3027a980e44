"""Instruments: questionnaires with their scoring rules, as data.

- :mod:`~dmi.instruments.format`: the instrument file format (pydantic models), validation, and
  :class:`Instrument`, the derived structure the engine uses;
- :mod:`~dmi.instruments.items`: the item types (one module each) and their registry
  :data:`ITEM_TYPES`: how each type's answers are read, scored, checked, described and
  synthesised;
- :mod:`~dmi.instruments.loading`: the shipped instruments (package data under ``data/``) and
  any YAML file;
- :mod:`~dmi.instruments.export`: what is made from an instrument (codebook, bulk template);
- :mod:`~dmi.instruments.synth`: seeded synthetic answers.
"""

from dmi.errors import InstrumentError, InstrumentProblem
from dmi.instruments.format import (
    FORMAT,
    Band,
    Dimension,
    Indicator,
    Instrument,
    Item,
    LevelBand,
    Option,
    ProfileField,
    Text,
)
from dmi.instruments.items import ITEM_TYPES, ItemType, item_type
from dmi.instruments.loading import (
    available_instruments,
    load_instrument,
    parse_instrument,
    shipped_path,
    shipped_reference_population,
)

__all__ = [
    "FORMAT",
    "ITEM_TYPES",
    "Band",
    "Dimension",
    "Indicator",
    "Instrument",
    "InstrumentError",
    "InstrumentProblem",
    "Item",
    "ItemType",
    "LevelBand",
    "Option",
    "ProfileField",
    "Text",
    "available_instruments",
    "item_type",
    "load_instrument",
    "parse_instrument",
    "shipped_path",
    "shipped_reference_population",
]
