"""The instrument commands: ``dmi instrument list|check``, ``dmi codebook``, ``dmi template``
and ``dmi synth``."""

from __future__ import annotations

import argparse
from typing import Any

from dmi.errors import InstrumentError
from dmi.instruments import available_instruments, load_instrument
from dmi.instruments.export import codebook, template
from dmi.io import write_table

__all__ = [
    "add_commands",
    "cmd_codebook",
    "cmd_instrument_check",
    "cmd_instrument_list",
    "cmd_synth",
    "cmd_template",
]


def cmd_instrument_check(args: argparse.Namespace) -> int:
    try:
        instrument = load_instrument(args.path)
    except InstrumentError as exc:
        print(str(exc))
        return 1
    n_scored = sum(1 for d in instrument.dimensions if instrument.dimension_weight(d) > 0)
    print(
        f"{args.path}: ok — {instrument.id} {instrument.version}: "
        f"{len(instrument.dimensions)} dimensions ({n_scored} weighted), "
        f"{len(instrument.indicators)} indicators, {len(instrument.items)} items"
    )
    for dimension in instrument.dimensions:
        points = sum(instrument.max_points(i) for ind in dimension.indicators for i in ind.items)
        print(
            f"  {dimension.code:<14} weight {instrument.dimension_weight(dimension):g}"
            f"  max points {points:g}  {dimension.zh} / {dimension.en}"
        )
    return 0


def cmd_instrument_list(args: argparse.Namespace) -> int:
    for name in available_instruments():
        instrument = load_instrument(name)
        print(f"{name}  {instrument.version}  {instrument.title.zh} / {instrument.title.en}")
    return 0


def cmd_codebook(args: argparse.Namespace) -> int:
    table = codebook(load_instrument(args.instrument))
    write_table(table, args.output)
    print(f"wrote {args.output}: {len(table)} rows, {table['column'].nunique()} columns described")
    return 0


def cmd_template(args: argparse.Namespace) -> int:
    table = template(load_instrument(args.instrument))
    write_table(table, args.output)
    print(f"wrote {args.output}: {len(table.columns)} columns")
    return 0


def cmd_synth(args: argparse.Namespace) -> int:
    from dmi.instruments.synth import (
        synthesise,  # scipy's import costs ~1 s that `dmi score` need not pay
    )

    frame = synthesise(
        args.instrument, args.n, args.seed, missing_rate=args.missing_rate, messy=args.messy
    )
    write_table(frame, args.output)
    print(f"wrote {args.output}: {len(frame)} synthetic companies (seed {args.seed})")
    return 0


def add_commands(sub: Any) -> None:
    """Add ``instrument``, ``codebook``, ``template`` and ``synth`` to the main parser's
    subparsers."""
    p = sub.add_parser("instrument", help="check or list instruments")
    isub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    c = isub.add_parser("check", help="validate an instrument file")
    c.add_argument("path")
    c.set_defaults(func=cmd_instrument_check)
    c = isub.add_parser("list", help="list the shipped instruments")
    c.set_defaults(func=cmd_instrument_list)

    p = sub.add_parser("codebook", help="write the data dictionary of an instrument")
    p.add_argument("instrument")
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(func=cmd_codebook)

    p = sub.add_parser("template", help="write the empty bulk-import file")
    p.add_argument("instrument")
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(func=cmd_template)

    p = sub.add_parser("synth", help="generate seeded synthetic answers")
    p.add_argument("instrument")
    p.add_argument("-n", type=int, required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--missing-rate", type=float, default=0.02)
    p.add_argument(
        "--messy",
        action="store_true",
        help="plant formatting variants and one row per kind of bad input",
    )
    p.set_defaults(func=cmd_synth)
