"""The base of every item type: what a type owns, and the helpers the types share.

An item type (``single``, ``multi`` ...) is one subclass of :class:`ItemType`, registered under
its name in :data:`dmi.instruments.items.ITEM_TYPES`. It owns, for the items of its type:

- the format: the item keys it uses (:attr:`ItemType.keys`) and their checks (:meth:`check`);
- scoring: how one cell is read (:meth:`parser`; vectorised kernels are optional), the maximum
  points (:meth:`max_points`) and the item score from the raw points (:meth:`score`);
- what is made for people: codebook rows (:meth:`codebook_rows`), the template's column
  (:meth:`column`), the app's widget (:meth:`widget`), the report's reading of an answer
  (:meth:`describe`) and the next better answers (:meth:`improvements`);
- synthetic answers (:meth:`synthesise`, :meth:`messy_variant`, :meth:`planted`).

Types are stateless: every method takes the item (and the instrument it belongs to, for what
is set once per instrument, such as the scenario scale or the ``letter_runs`` default).
"""

from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal, NamedTuple

from dmi.instruments.items.cells import Key, Parsed
from dmi.locales import text
from dmi.text import folded

if TYPE_CHECKING:
    import numpy as np

    from dmi.instruments.format import Instrument, Item

__all__ = [
    "Add",
    "Choice",
    "ItemType",
    "NumbersKernel",
    "Parser",
    "Step",
    "TextsKernel",
    "Widget",
    "allowed",
    "answer_key",
    "check_options",
    "describe_options",
    "option_rows",
    "ordinal",
    "check_unambiguous_labels",
    "check_unique_values",
    "fmt",
    "label_lookup",
    "quoted",
]

Add = Callable[[str, str], None]
"""Records one problem of an instrument file: ``add(where, problem)``."""

# distinct normalised texts of a column -> (which it scored, their points, their error or None)
TextsKernel = Callable[["np.ndarray"], tuple["np.ndarray", "np.ndarray", "np.ndarray"]]
# numbers of a numeric column -> (points, which are invalid, the reason of each if it were)
NumbersKernel = Callable[["np.ndarray"], tuple["np.ndarray", "np.ndarray", "np.ndarray"]]


@dataclass(frozen=True)
class Parser:
    """How the cells of one item are read.

    Attributes
    ----------
    parse : callable, key -> (float, str or None)
        One cell's key (normalised text, or a :class:`~dmi.instruments.items.cells.Cell`;
        never None) -> its raw points (or level, or Likert value) and None, or NaN and the
        reason it is not a valid answer. It depends on the key alone.
    numbers : callable or None
        Scores a whole column that holds numbers as numbers: an array of floats (no NaN) ->
        (raw points, which are invalid, the reason each would have). Each number must get
        exactly what ``parse`` gives its text.
    texts : callable or None
        Scores the distinct texts of a column at once: an object array of texts -> (which it
        scored, their raw points, their reasons or None). The texts it does not score go
        through ``parse``; those it scores must get exactly what ``parse`` gives them.
    """

    parse: Callable[[Key], Parsed]
    numbers: NumbersKernel | None = None
    texts: TextsKernel | None = None


class Step(NamedTuple):
    """One better answer to an item and how to say it (see :meth:`ItemType.improvements`)."""

    answer: Any
    zh: str
    en: str


@dataclass(frozen=True)
class Choice:
    """One choice a widget offers: the answer it gives and its label in both languages.

    ``exclusive`` marks the choice of a ``multiselect`` that cannot be ticked with another
    ("none"): the app clears the others when it is ticked, and it when another is.
    """

    value: Any
    zh: str
    en: str
    exclusive: bool = False

    def label(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class Widget:
    """What the app shows for an item (see :meth:`ItemType.widget`).

    ``kind`` is ``radio`` (one of ``choices``), ``multiselect`` (any of ``choices``, the
    answer a list of their values) or ``number`` (a number from ``min`` to ``max``, in
    ``unit``). ``horizontal`` lays a short radio out in a row.

    ``scale`` names a rating scale that several items share (the same ``choices``): the app
    asks the items of a page that follow one another on one scale as a matrix, one row each
    with the choices as a compact control of their values, and shows the choices' labels and
    ``legend`` (a longer description of each choice, in the order of ``choices``) once.
    """

    kind: Literal["radio", "multiselect", "number"]
    choices: tuple[Choice, ...] = ()
    horizontal: bool = False
    unit: str = ""
    min: float | None = None
    max: float | None = None
    scale: str = ""
    legend: tuple[Choice, ...] = ()


class ItemType(ABC):
    """One type of item. Subclass it, then add an instance to ``ITEM_TYPES``.

    Attributes
    ----------
    keys : frozenset of str
        The item keys this type uses beyond those every item has (``code``, ``type``, ``zh``,
        ``en``, ``help``, ``missing``, ``weight``). A file giving an item another key is
        refused.
    scenario : bool
        Whether the item's raw answer is a scenario level, which the level rule counts.
    """

    keys: ClassVar[frozenset[str]] = frozenset()
    scenario: ClassVar[bool] = False

    # -- the format -------------------------------------------------------------------------
    def check(self, item: Item, instrument: Instrument, where: str, add: Add) -> None:
        """Record the problems of the item's own keys with ``add(where, problem)``.

        The instrument is being validated: apart from this item, only its pydantic-checked
        structure (such as ``scenario_levels``) may be relied upon. A type with nothing to
        check beyond its keys' pydantic types keeps this default.
        """
        return None

    @abstractmethod
    def max_points(self, item: Item, instrument: Instrument) -> float:
        """The most points an answer can earn (the item's default weight)."""

    def score(self, item: Item, instrument: Instrument, raw: np.ndarray) -> np.ndarray:
        """Item scores in [0, 1] of the raw points that :meth:`parser` gave (NaN stays NaN)."""
        return raw / self.max_points(item, instrument)

    # -- reading answers --------------------------------------------------------------------
    @abstractmethod
    def parser(self, item: Item, instrument: Instrument) -> Parser:
        """How the item's cells are read (built once per instrument by the scoring)."""

    def read(self, item: Item, instrument: Instrument, key: Key) -> Parsed | None:
        """One cell as the scoring reads it: None when blank, else ``(raw, error)``.

        ``key`` is the cell as :func:`dmi.scoring.answers.cell_key` gives it.
        """
        return None if key is None else self.parser(item, instrument).parse(key)

    def answer_values(self, item: Item, instrument: Instrument, key: Key) -> frozenset[str] | None:
        """The values of the codebook a cell stands for (the option values ticked, the band,
        the level or scale point as its digits, ``yes``/``no``), read as the scoring reads it;
        None when the cell is blank or not a valid answer. What a crosswalk maps from."""
        read = self.read(item, instrument, key)
        if read is None or read[1] is not None:
            return None
        return frozenset({str(int(read[0]))}) if float(read[0]).is_integer() else None

    # -- what is made for people ------------------------------------------------------------
    def column(self, item: Item) -> str:
        """The item's column in the bulk-import file and its template: the item's code."""
        return item.code

    @abstractmethod
    def codebook_rows(self, item: Item, instrument: Instrument) -> list[dict[str, Any]]:
        """The codebook rows of the item: one per allowed value (or band, or range).

        Each row gives ``value``, ``label_zh``, ``label_en``, ``points`` and, where they
        apply, ``min`` and ``max``; the codebook adds the item's column, dimension, type and
        missing-answer policy.
        """

    @abstractmethod
    def widget(self, item: Item, instrument: Instrument) -> Widget:
        """The widget the app asks the question with."""

    def describe(
        self, item: Item, instrument: Instrument, answer: str, lang: str
    ) -> list[tuple[str, str | None]]:
        """An answer as the report shows it: its parts, each as given and the label it
        stands for (None when it stands for none)."""
        return [(answer, None)]

    @abstractmethod
    def improvements(self, item: Item, instrument: Instrument, current: Key) -> list[Step]:
        """The next better answers to try instead of ``current`` (a cell key, read as the
        scoring reads it; None when blank), with what the change is in zh and en."""

    # -- synthetic answers ------------------------------------------------------------------
    @abstractmethod
    def synthesise(
        self, item: Item, instrument: Instrument, latent: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """Answers of companies whose maturity on the item is ``latent`` (standard normal):
        better answers likelier as it rises. Draws from ``rng`` only, always alike for the
        same item, so the same seed gives the same file."""

    def messy_variant(self, item: Item) -> Callable[[Any], Any] | None:
        """A harmless rewriting of a synthetic answer that people write too (a label for a
        code, a ``%`` sign, full-width digits), or None when the type has none."""
        return None

    def planted(self, item: Item) -> dict[str, Any]:
        """The invalid answers the type can plant in a messy synthetic file, by the problem
        they stand for (a name of :data:`dmi.instruments.synth.PLANTED_PROBLEMS`)."""
        return {}


# -- helpers the types share ------------------------------------------------------------------


def answer_key(text: str) -> str:
    """A value or label as the scoring matches a cell against it (folded: :func:`dmi.text.folded`;
    trimmed, any case)."""
    return folded(text).strip().casefold()


def label_lookup(choices: Sequence[Any]) -> dict[str, int]:
    """Each choice's value and zh/en labels (as :func:`answer_key`) -> the choice's position;
    the first choice wins a text two share (a valid file has none)."""
    lookup: dict[str, int] = {}
    for i, choice in enumerate(choices):
        for written in (choice.value, choice.zh, choice.en):
            lookup.setdefault(answer_key(written), i)
    return lookup


def allowed(values: Sequence[str]) -> str:
    """Values listed for a reason: ``A, B, C``."""
    return ", ".join(values)


def quoted(texts: Sequence[str], limit: int = 5) -> str:
    """``'x'`` or ``'x', 'y'`` for a reason: long texts cut, at most ``limit`` of them."""
    shown = [repr(t if len(t) <= 40 else t[:37] + "...") for t in texts[:limit]]
    more = f" and {len(texts) - limit} more" if len(texts) > limit else ""
    return ", ".join(shown) + more


def fmt(x: float) -> str:
    """A number for a reason: whole numbers without ``.0``."""
    return str(int(x)) if float(x).is_integer() else str(x)


def number_range(low: float | None, high: float | None) -> str:
    """What a number cell should hold, for a reason: ``a number from 0 to 100``, or with one
    bound ``a number of at least 0`` (not "from 0 to inf"), or ``a number``."""
    bounded = [b is not None and math.isfinite(b) for b in (low, high)]
    if all(bounded):
        return f"a number from {fmt(low)} to {fmt(high)}"  # type: ignore[arg-type]
    if bounded[0]:
        return f"a number of at least {fmt(low)}"  # type: ignore[arg-type]
    if bounded[1]:
        return f"a number of at most {fmt(high)}"  # type: ignore[arg-type]
    return "a number"


def check_unique_values(values: list[str], where: str, add: Add) -> None:
    """Every value once (in any case, trimmed)."""
    seen: set[str] = set()
    for value in values:
        key = value.strip().casefold()
        if key in seen:
            add(where, f"option value {value!r} appears more than once")
        seen.add(key)


def check_unambiguous_labels(
    choices: list[tuple[str, tuple[str, ...]]], kind: str, where: str, add: Add
) -> None:
    """Every value and label must name one choice: an answer matching two would be read as
    whichever the scoring met first."""
    values = {answer_key(value): value for value, _ in choices}
    owner: dict[str, str] = {}
    for value, labels in choices:
        for label in labels:
            key = answer_key(label)
            if values.get(key, value) != value:
                add(where, f"label {label!r} is also another {kind}'s value (ambiguous)")
            elif owner.setdefault(key, value) != value:
                add(
                    where, f"{kind}s {owner[key]} and {value} share the label {label!r} (ambiguous)"
                )


def check_options(item: Item, where: str, add: Add) -> None:
    """The checks of an item answered with one or more of its ``options``."""
    if len(item.options) < 2:
        add(where, f"a {item.type} item needs at least 2 options, got {len(item.options)}")
    check_unique_values([o.value for o in item.options], where, add)
    check_unambiguous_labels([(o.value, (o.zh, o.en)) for o in item.options], "option", where, add)
    unpointed = [o.value for o in item.options if o.points is None]
    if unpointed:
        add(where, f"option(s) {', '.join(unpointed)} need points")
        return
    if all(o.points == 0 for o in item.options):
        add(where, "every option scores 0 points")


def option_rows(item: Item) -> list[dict[str, Any]]:
    """Codebook rows of an item answered with its ``options``: one per option."""
    return [
        {
            "value": o.value,
            "label_zh": text("items.exclusive_option", "zh", label=o.zh) if o.exclusive else o.zh,
            "label_en": text("items.exclusive_option", "en", label=o.en) if o.exclusive else o.en,
            "points": o.points,
        }
        for o in item.options
    ]


def describe_options(item: Item, answer: str, lang: str) -> list[tuple[str, str | None]]:
    """The option values of an answer, each with its option's label (None when it is not a
    value)."""
    by_value = {o.value.casefold(): o for o in item.options}
    parts: list[tuple[str, str | None]] = []
    for token in (t.strip() for t in re.split(r"[;,，；]", answer)):
        if token:
            option = by_value.get(token.casefold())
            parts.append(
                (token, None if option is None else (option.zh if lang == "zh" else option.en))
            )
    return parts


def ordinal(latent: np.ndarray, n_levels: int, shift: float) -> np.ndarray:
    """Ordered response: level k with cut points spread evenly on the latent scale."""
    import numpy as np

    cuts = np.linspace(-1.6, 1.6, n_levels - 1) + shift
    return np.searchsorted(cuts, latent).astype(np.int64)
