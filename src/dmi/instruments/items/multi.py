"""``multi``: any of the item's ``options``, scored by the sum of their points (capped)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from dmi.instruments.items.base import (
    Add,
    Choice,
    ItemType,
    Parser,
    Step,
    Widget,
    allowed,
    check_options,
    describe_options,
    label_lookup,
    option_rows,
    quoted,
)
from dmi.instruments.items.cells import Choices, Key, Parsed
from dmi.locales import text
from dmi.text import folded

if TYPE_CHECKING:
    from dmi.instruments.format import Instrument, Item

__all__ = ["MultipleChoice"]

# Between the option values of a multiple-choice answer; whitespace separates them too, but
# only where the text between the other separators is not one option's label ("Product design").
_SEPARATORS = re.compile(r"[;,，、；|｜/／]")
# Words that mean "no answer": never read as option letters ("N/A" is not N;A, "NO" not N;O)
_NOT_ANSWERS = frozenset({"n/a", "na", "no", "none", "nil", "null", "nan", "not", "unknown"})

# the options a cell ticks (positions, sorted, each once) and None, or None and the reason
Chosen = tuple[list[int] | None, str | None]


class MultipleChoice(ItemType):
    """Several options: the answer is option values or labels between separators (or a list
    of them); it earns the sum of their points, at most ``max_points``. An ``exclusive``
    option ("none") cannot be ticked with another."""

    keys = frozenset({"options", "max_points", "letter_runs"})

    def check(self, item: Item, instrument: Instrument, where: str, add: Add) -> None:
        check_options(item, where, add)
        if not any(not o.exclusive for o in item.options):
            add(where, "a multi item needs at least one non-exclusive option")
        if instrument.letter_runs(item):
            _check_letter_runs(item, where, add)

    def max_points(self, item: Item, instrument: Instrument) -> float:
        if item.max_points is not None:
            return item.max_points
        return math.fsum(o.points for o in item.options if not o.exclusive)

    def parser(self, item: Item, instrument: Instrument) -> Parser:
        choose = _chooser(item, instrument.letter_runs(item))
        top = self.max_points(item, instrument)
        options = item.options

        def parse(key: Key) -> Parsed:
            chosen, error = choose(key)
            if chosen is None:
                return math.nan, error
            return min(math.fsum(options[i].points for i in chosen), top), None

        return Parser(parse)

    def ticked(self, item: Item, instrument: Instrument, key: Key) -> list[int]:
        """The positions of the options a cell ticks, read as the scoring reads it (none when
        the cell is blank or not a valid answer)."""
        if key is None:
            return []
        chosen, _ = _chooser(item, instrument.letter_runs(item))(key)
        return chosen or []

    def answer_values(self, item: Item, instrument: Instrument, key: Key) -> frozenset[str] | None:
        if key is None:
            return None
        chosen, _ = _chooser(item, instrument.letter_runs(item))(key)
        return None if chosen is None else frozenset(item.options[i].value for i in chosen)

    def _worth(self, item: Item, instrument: Instrument, i: int) -> float:
        """What ticking option ``i`` earns on its own."""
        return item.options[i].points or 0.0

    def codebook_rows(self, item: Item, instrument: Instrument) -> list[dict[str, Any]]:
        return option_rows(item)

    def widget(self, item: Item, instrument: Instrument) -> Widget:
        return Widget(
            "multiselect", tuple(Choice(o.value, o.zh, o.en, o.exclusive) for o in item.options)
        )

    def describe(
        self, item: Item, instrument: Instrument, answer: str, lang: str
    ) -> list[tuple[str, str | None]]:
        return describe_options(item, answer, lang)

    def improvements(self, item: Item, instrument: Instrument, current: Key) -> list[Step]:
        """One more option ticked (each option worth points that is not ticked yet)."""
        ticked = set(self.ticked(item, instrument, current))
        chosen = [o for i, o in enumerate(item.options) if i in ticked and not o.exclusive]
        steps = []
        for i, option in enumerate(item.options):
            if option.exclusive or i in ticked or self._worth(item, instrument, i) <= 0:
                continue
            answer = ";".join([o.value for o in chosen] + [option.value])
            steps.append(
                Step(
                    answer,
                    text("items.step_multi", "zh", option=option.zh),
                    text("items.step_multi", "en", option=option.en),
                )
            )
        return steps

    def synthesise(
        self, item: Item, instrument: Instrument, latent: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """Each option ticked with a chance that rises with maturity, the options' difficulty
        shuffled; no tick is the exclusive option (or blank)."""
        from scipy.special import ndtr

        n = len(latent)
        ticks = [(i, o) for i, o in enumerate(item.options) if not o.exclusive]
        difficulty = np.linspace(-0.6, 1.0, len(ticks))
        rng.shuffle(difficulty)
        mask = np.zeros(n, dtype=np.int64)
        for bit, ((_, _option), d) in enumerate(zip(ticks, difficulty)):
            ticked = rng.random(n) < ndtr(1.1 * latent - d)
            mask |= ticked.astype(np.int64) << bit
        none = next((o.value for o in item.options if o.exclusive), "")
        uniques, inverse = np.unique(mask, return_inverse=True)
        texts = [
            ";".join(ticks[b][1].value for b in range(len(ticks)) if m >> b & 1) or none
            for m in uniques.tolist()
        ]
        answers = np.array(texts, dtype=object)[inverse]
        return np.where(answers == "", None, answers)

    def messy_variant(self, item: Item) -> Callable[[Any], Any]:
        """Lower-case codes joined by a full-width comma."""
        return lambda v: v if not isinstance(v, str) else v.lower().replace(";", "，")

    def planted(self, item: Item) -> dict[str, Any]:
        none = next((o.value for o in item.options if o.exclusive), None)
        other = next((o.value for o in item.options if not o.exclusive), None)
        if none is None or other is None:
            return {}
        return {"none ticked with other options": f"{none};{other}"}


def _chooser(item: Item, letter_runs: bool) -> Callable[[Key], Chosen]:
    """Read a multiple-choice answer: option values or labels between separators.

    With ``letter_runs`` (the instrument's setting), a run of option letters written without
    separators (``BCE``) also reads as those options, but only a run that can be nothing
    else: in the case the codes are written in, each letter once, in option order, and not a
    word meaning "no answer" (``NO``). Without it such a run is rejected, with a hint.
    """
    lookup = label_lookup(item.options)
    values = allowed([o.value for o in item.options])
    wanted = f"option values from {values} separated by ';'"
    expected = f"expected {wanted}"
    position = item.letter_codes()

    def run_of(token: str) -> list[int] | None:
        """The options a run of letters stands for, if it can only be codes."""
        if len(token) < 2 or not position or token.casefold() in _NOT_ANSWERS:
            return None
        at = [position.get(ch, -1) for ch in token]
        if min(at) < 0 or any(a >= b for a, b in zip(at, at[1:])):
            return None
        return at

    def checked(chosen: list[int]) -> Chosen:
        unique = sorted(set(chosen))
        exclusive = [i for i in unique if item.options[i].exclusive]
        if exclusive and len(unique) > 1:
            names = ", ".join(item.options[i].value for i in exclusive)
            return None, f"option {names} (none) cannot be ticked together with other options"
        return unique, None

    def not_options(unknown: list[str], how: str = expected, hint: str = "") -> Chosen:
        verb = "is not an option" if len(unknown) == 1 else "are not options"
        return None, f"{quoted(unknown)} {verb}; {how}{hint}"

    def choose_text(text: str) -> Chosen:
        whole = lookup.get(text.casefold())
        if whole is not None:  # one option, possibly a label with spaces or commas in it
            return checked([whole])
        if "".join(text.split()).casefold() in _NOT_ANSWERS:
            how = f"leave the cell blank when there is no answer, or give {wanted}"
            return not_options([text], how)
        chosen: list[int] = []
        unknown: list[str] = []
        runs: list[str] = []
        for piece in _SEPARATORS.split(text):
            index = lookup.get(piece.strip().casefold())
            if index is not None:
                chosen.append(index)
                continue
            tokens = piece.split()
            if not tokens:
                continue
            missed = []
            for token in tokens:
                index = lookup.get(token.casefold())
                run = None if index is not None else run_of(token)
                if index is not None:
                    chosen.append(index)
                elif run is not None and letter_runs:
                    chosen.extend(run)
                else:
                    missed.append(token)
                    if run is not None:
                        runs.append(";".join(token))
            # a piece none of whose words is an option is shown whole ('Product desing')
            unknown.extend(missed if len(missed) < len(tokens) else [piece.strip()])
        if unknown:
            return not_options(unknown, hint=f" (write {', '.join(runs)})" if runs else "")
        if not chosen:
            return None, f"no option value, only separators; {expected}"
        return checked(chosen)

    def choose_list(elements: tuple[str, ...]) -> Chosen:
        """A list of option values or labels (what the app and Python callers hand over)."""
        indices = [lookup.get(e.casefold()) for e in elements]
        unknown = [e for e, i in zip(elements, indices) if i is None]
        if unknown:
            return not_options(unknown, f"expected option values from {values}, one per element")
        return checked([i for i in indices if i is not None])

    def choose(key: Key) -> Chosen:
        if isinstance(key, Choices):
            return choose_list(key.values)
        if isinstance(key, str):
            return choose_text(key)
        return None, f"{expected}, got {key.what}"

    return choose


def _check_letter_runs(item: Item, where: str, add: Add) -> None:
    """A run of letters can only be read as codes that are single letters of one case."""
    order = item.letter_codes()
    if not order:
        add(
            where,
            "letter_runs needs option values that are single letters of one case (A, B, C ...), "
            f"got {', '.join(o.value for o in item.options)}; set letter_runs: false on this item",
        )
        return
    for option in item.options:
        for label in (option.zh, option.en):
            run = folded(label).strip()  # as the scoring reads it
            if len(run) > 1 and all(ch in order for ch in run):
                if all(order[a] < order[b] for a, b in zip(run, run[1:])):
                    add(where, f"label {label!r} could also be read as the letter run {run!r}")
