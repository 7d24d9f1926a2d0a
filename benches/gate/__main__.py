"""Command line of the benchmark gate: ``PYTHONPATH=benches python -m gate {check,floors,report,instructions,machine}``.

The Makefile targets ``bench``, ``bench-check``, ``bench-floors`` and ``bench-gate-tiny`` call it; see
benches/README.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from gate import check, floors, instructions, machine, report
from gate.results import Results, ResultsError, load_criterion, load_pytest_benchmark

DEFAULT_FLOORS = Path("benches/floors.toml")


def _inputs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scale", choices=("full", "tiny"), required=True, help="size the benches ran at")
    parser.add_argument("--pytest", type=Path, action="append", default=[], help="pytest-benchmark JSON file")
    parser.add_argument("--criterion", type=Path, help="criterion output root (target/criterion)")
    parser.add_argument(
        "--criterion-since", type=Path, help="stamp file touched before `cargo bench`: older results are stale"
    )
    parser.add_argument("--instructions", type=Path, help="instruction counts JSON (`gate instructions --out`)")
    parser.add_argument("--floors", type=Path, default=DEFAULT_FLOORS)


def _load(args: argparse.Namespace) -> tuple[Results, list[instructions.InstructionCount] | None, list[str]]:
    results = Results([], [])
    sources = []
    for path in args.pytest:
        results.extend(load_pytest_benchmark(path, default_scale=args.scale))
        sources.append("pytest-benchmark")
    if args.criterion is not None:
        since = args.criterion_since.stat().st_mtime if args.criterion_since else None
        results.extend(load_criterion(args.criterion, newer_than=since))
        sources.append("criterion")
    counts = instructions.load(args.instructions) if args.instructions else None
    return results, counts, sources


def _run_date(paths: list[Path]) -> str | None:
    for path in paths:
        try:
            value = json.loads(path.read_text(encoding="utf-8")).get("datetime")
        except (OSError, json.JSONDecodeError, AttributeError):
            continue
        if isinstance(value, str):
            return value[:16].replace("T", " ") + " UTC"
    return None


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code (1: a figure regressed or is missing, 2: unusable input)."""
    parser = argparse.ArgumentParser(prog="gate", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_check = sub.add_parser("check", help="compare a run with the committed floors; exit 1 on a regression")
    _inputs(p_check)
    p_floors = sub.add_parser("floors", help="rewrite the floors of the scales this run covered")
    _inputs(p_floors)
    p_floors.add_argument(
        "--keep-lowest", action="store_true", help="keep the lower of the committed and this run's ratio per gate"
    )
    p_report = sub.add_parser("report", help="regenerate the tables of BENCHMARKS.md")
    _inputs(p_report)
    p_report.add_argument("--markdown", type=Path, default=Path("BENCHMARKS.md"))
    p_report.add_argument("--machine", type=Path, default=Path(".benchmarks/machine.json"))
    p_instr = sub.add_parser("instructions", help="build the kernels example and count instructions")
    p_instr.add_argument("--out", type=Path, required=True)
    p_instr.add_argument("--repo", type=Path, default=Path())
    p_machine = sub.add_parser("machine", help="record the machine facts of this run")
    p_machine.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)

    try:
        if args.command == "machine":
            machine.save(args.out)
            return 0
        if args.command == "instructions":
            counts = instructions.measure_all(args.repo)
            instructions.save(counts, args.out)
            for c in counts:
                print(f"{c.kernel}: {c.instructions:,} instructions for {c.items:,} items ({c.per_item:,.0f}/item)")
            return 0
        results, counts_or_none, sources = _load(args)
        committed = floors.load(args.floors)
        if args.command == "check":
            rows = check.compare(committed, results, counts_or_none, [args.scale], sources)
            print(check.table(rows))
            return 1 if any(r.failed for r in rows) else 0
        if args.command == "floors":
            new = check.updated_floors(committed, results, counts_or_none, [args.scale], args.keep_lowest, sources)
            args.floors.write_text(floors.dump(new), encoding="utf-8")
            print(f"wrote {args.floors} from this {args.scale} run; review `git diff {args.floors}` and commit")
            print(check.table(check.compare(new, results, counts_or_none, [args.scale], sources)))
            return 0
        text = args.markdown.read_text(encoding="utf-8") if args.markdown.exists() else "# Benchmarks\n"
        when = _run_date(args.pytest) or datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        out = report.render(text, results, counts_or_none, committed, machine.load(args.machine), when)
        args.markdown.write_text(out, encoding="utf-8")
        print(f"regenerated the gate tables of {args.markdown}")
        return 0
    except (
        ResultsError,
        floors.FloorsError,
        check.GateError,
        instructions.InstructionsError,
    ) as exc:
        print(f"benchmark gate: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
