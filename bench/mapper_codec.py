"""Per-event encode/decode cost: our MsgspecMapper vs eventsourcing's stock Mapper + JSONTranscoder.

Run: ``.venv/bin/python -m bench.mapper_codec [--events 3000] [--repeats 7]``
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, JSONTranscoder, Mapper, UUIDAsHex

from application.mapper import MsgspecMapper
from bench._common import add_common_args, median, new_keys, print_machine, print_table, timed

KINDS = ("Issued", "Renamed", "Revoked")


def stock_mapper() -> Mapper[Any]:
    """The library default, with the transcodings ``Application.register_transcodings`` adds."""
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(transcoding)
    return Mapper(transcoder=transcoder)


def sample_events(count: int) -> dict[str, list[Any]]:
    """``count`` events of each kind, from real aggregates (issued, renamed, then revoked)."""
    by_kind: dict[str, list[Any]] = {kind: [] for kind in KINDS}
    for key in new_keys(count):
        key.rename(f"{key.name} (renamed)")
        key.revoke()
        for event in key.collect_events():
            by_kind[type(event).__name__].append(event)
    return by_kind


def _pass_seconds(fn: Callable[[Any], Any], items: Sequence[Any]) -> float:
    return timed(lambda: [fn(x) for x in items])


def round_trip_problems(mapper: Mapper[Any], events: Sequence[Any]) -> list[str]:
    """Events whose decoded copy differs from the original (type or any field); empty when all survive."""
    problems = []
    for event in events:
        back = mapper.to_domain_event(mapper.to_stored_event(event))
        if type(back) is not type(event) or vars(back) != vars(event):
            diff = {k: (v, vars(back).get(k)) for k, v in vars(event).items() if vars(back).get(k) != v}
            problems.append(f"{type(event).__name__}: {diff or 'type differs'}")
    return problems


def measure(events: Sequence[Any], repeats: int) -> dict[str, tuple[float, float, float]]:
    """(encode µs, decode µs, stored bytes) per event for each mapper, passes interleaved against drift."""
    mappers = {"stock": stock_mapper(), "ours": MsgspecMapper()}
    stored = {name: [m.to_stored_event(e) for e in events] for name, m in mappers.items()}
    jobs = {
        (name, op): (getattr(m, fn), events if op == "encode" else stored[name])
        for name, m in mappers.items()
        for op, fn in (("encode", "to_stored_event"), ("decode", "to_domain_event"))
    }
    samples: dict[tuple[str, str], list[float]] = {job: [] for job in jobs}
    # One extra first pass warms caches (topic resolution, type hints) and is dropped.
    for _ in range(repeats + 1):
        for job, (fn, items) in jobs.items():
            samples[job].append(_pass_seconds(fn, items))
    us = {job: median(times[1:]) / len(events) * 1e6 for job, times in samples.items()}
    return {
        name: (us[(name, "encode")], us[(name, "decode")], sum(len(s.state) for s in stored[name]) / len(events))
        for name in mappers
    }


def rows_for(kind: str, events: Sequence[Any], repeats: int) -> list[list[str]]:
    """Stock and ours for one kind of event, with ours/stock ratios."""
    found = measure(events, repeats)
    stock, ours = found["stock"], found["ours"]
    rows = []
    for name, (enc, dec, size) in (("stock Mapper + JSONTranscoder", stock), ("MsgspecMapper (ours)", ours)):
        rows.append([kind, name, f"{enc:.2f}", f"{dec:.2f}", f"{enc + dec:.2f}", f"{size:.0f}"])
    ratios = [ours[0] / stock[0], ours[1] / stock[1], (ours[0] + ours[1]) / (stock[0] + stock[1]), ours[2] / stock[2]]
    rows.append([kind, "ratio ours / stock", *(f"{r:.2f}" for r in ratios)])
    return rows


def main(argv: list[str] | None = None) -> None:
    """Parse options, time both mappers per event kind and on the mix, print one table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3_000, help="events of each kind (Issued, Renamed, Revoked)")
    # --backend is accepted for a CLI uniform with the other scripts; encoding touches no database.
    add_common_args(parser)
    parser.set_defaults(repeats=7)
    args = parser.parse_args(argv)
    print_machine()
    by_kind = sample_events(args.events)
    mix = [e for kind in KINDS for e in by_kind[kind]]
    for name, mapper in (("stock", stock_mapper()), ("ours", MsgspecMapper())):
        problems = round_trip_problems(mapper, mix)
        print(f"round trip, {name}: " + ("ok" if not problems else f"{len(problems)} differ, e.g. {problems[0]}"))
    rows = [row for kind in KINDS for row in rows_for(kind, by_kind[kind], args.repeats)]
    rows += rows_for("mix 1:1:1", mix, args.repeats)
    print_table(
        f"Mapper cost per event, µs (median of {args.repeats} passes over {args.events:,} events of each kind)",
        ["events", "mapper", "encode µs", "decode µs", "round trip µs", "bytes"],
        rows,
    )


if __name__ == "__main__":
    main()
