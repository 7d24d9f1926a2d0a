"""Command line of the benchmark gate:
``PYTHONPATH=benches python -m gate {run,record,check,floors,report,instructions,machine}``.

The Makefile targets ``bench``, ``bench-check``, ``bench-floors`` and ``bench-gate-tiny`` call it; see
benches/README.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gate import check, floors, instructions, machine, report, run, snapshot
from gate.modalities import MODALITIES
from gate.results import Results, ResultsError, load_criterion, load_pytest_benchmark

DEFAULT_FLOORS = Path("benches/floors.toml")


def _inputs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scale", choices=("full", "tiny"), help="size the benches ran at (not with --snapshot)")
    parser.add_argument(
        "--snapshot", type=Path, action="append", default=[], help="snapshot of a modality's run (`gate run`)"
    )
    parser.add_argument("--pytest", type=Path, action="append", default=[], help="pytest-benchmark JSON file")
    parser.add_argument("--criterion", type=Path, help="criterion output root (target/criterion)")
    parser.add_argument(
        "--criterion-since", type=Path, help="stamp file touched before `cargo bench`: older results are stale"
    )
    parser.add_argument("--instructions", type=Path, help="instruction counts JSON (`gate instructions --out`)")
    parser.add_argument("--floors", type=Path, default=DEFAULT_FLOORS)


class Run:
    """What the inputs of check / floors cover: figures, counts, scales, sources and modalities."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.results = Results([], [])
        self.sources: list[str] = []
        self.scales: list[str] = []
        self.modalities: set[str] | None = None
        self.counts: list[instructions.InstructionCount] | None = None
        if args.snapshot:
            if args.pytest or args.criterion or args.instructions:
                raise ResultsError("give either --snapshot files or --pytest/--criterion/--instructions, not both")
            self.modalities = set()
            for path in args.snapshot:
                snap = snapshot.load(path)
                self.results.extend(snap.results())
                self.sources += snap.sources
                self.scales.append(snap.scale)
                self.modalities.add(snap.modality)
                if "callgrind" in snap.sources:
                    self.counts = (self.counts or []) + snap.instructions
            return
        if args.scale is None:
            raise ResultsError("--scale is required without --snapshot")
        self.scales = [args.scale]
        for path in args.pytest:
            self.results.extend(load_pytest_benchmark(path, default_scale=args.scale))
            self.sources.append("pytest-benchmark")
        if args.criterion is not None:
            since = args.criterion_since.stat().st_mtime if args.criterion_since else None
            self.results.extend(load_criterion(args.criterion, newer_than=since))
            self.sources.append("criterion")
        if args.instructions:
            self.counts = instructions.load(args.instructions)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code (1: a figure regressed or is missing, 2: unusable input)."""
    parser = argparse.ArgumentParser(prog="gate", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="measure one modality and write OUT/snapshot.json")
    p_run.add_argument("--modality", choices=sorted(MODALITIES), required=True)
    p_run.add_argument("--scale", choices=("full", "tiny"), required=True)
    p_run.add_argument("--out", type=Path, required=True, help="folder for the raw results and snapshot.json")
    p_run.add_argument("--repo", type=Path, default=Path())
    p_run.add_argument("--command-line", default=None, help="how the run was started, for BENCHMARKS.md")
    p_run.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=("criterion", "pytest-benchmark", "callgrind"),
        help="leave a source out of this run (its recorded results stay as they are)",
    )
    p_record = sub.add_parser("record", help="copy full-size snapshots to benches/results/<modality>.<source>.json")
    p_record.add_argument("snapshots", type=Path, nargs="+")
    p_record.add_argument("--results", type=Path, default=snapshot.RESULTS_DIR)
    p_check = sub.add_parser("check", help="compare a run with the committed floors; exit 1 on a regression")
    _inputs(p_check)
    p_floors = sub.add_parser("floors", help="rewrite the floors of the scales and modalities this run covered")
    _inputs(p_floors)
    p_floors.add_argument(
        "--keep-lowest", action="store_true", help="keep the lower of the committed and this run's ratio per gate"
    )
    p_report = sub.add_parser("report", help="regenerate the tables of BENCHMARKS.md from benches/results")
    p_report.add_argument("--markdown", type=Path, default=Path("BENCHMARKS.md"))
    p_report.add_argument("--results", type=Path, default=snapshot.RESULTS_DIR)
    p_report.add_argument("--floors", type=Path, default=DEFAULT_FLOORS)
    p_report.add_argument("--check", action="store_true", help="exit 1 if BENCHMARKS.md differs, write nothing")
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
        if args.command == "run":
            line = args.command_line or f"make bench MODALITY={args.modality}"
            snap = run.run(args.modality, args.scale, args.out, args.repo, line, skip=set(args.skip))
            print(
                f"{args.modality}: {len(snap.timings)} timings, {len(snap.metrics)} accuracy figures, "
                f"{len(snap.instructions)} instruction counts -> {args.out / 'snapshot.json'}"
            )
            return 0
        if args.command == "record":
            for path in args.snapshots:
                snap = snapshot.load(path)
                if snap.scale != "full":
                    raise ResultsError(f"{path}: only full-size runs are recorded in BENCHMARKS.md, not {snap.scale}")
                for part in snapshot.split_by_source(snap):
                    target = args.results / f"{snap.modality}.{part.sources[0]}.json"
                    snapshot.save(part, target)
                    print(f"recorded {path} ({part.sources[0]}) as {target}")
            return 0
        if args.command == "report":
            text = args.markdown.read_text(encoding="utf-8") if args.markdown.exists() else "# Benchmarks\n"
            out = report.render(text, snapshot.load_dir(args.results), floors.load(args.floors))
            if args.check:
                if out != text:
                    print(
                        f"{args.markdown} differs from what `gate report` generates from {args.results} and "
                        f"{args.floors}: regenerate it (`make bench-report`) instead of editing its tables",
                        file=sys.stderr,
                    )
                    return 1
                return 0
            args.markdown.write_text(out, encoding="utf-8")
            print(f"regenerated the tables of {args.markdown} from {args.results}")
            return 0
        r = Run(args)
        committed = floors.load(args.floors)
        if args.command == "check":
            rows = check.compare(committed, r.results, r.counts, r.scales, r.sources, r.modalities)
            print(check.table(rows))
            return 1 if any(row.failed for row in rows) else 0
        new = check.updated_floors(committed, r.results, r.counts, r.scales, args.keep_lowest, r.sources, r.modalities)
        args.floors.write_text(floors.dump(new), encoding="utf-8")
        print(f"wrote {args.floors} from this run ({', '.join(sorted(set(r.scales)))}); review the diff and commit")
        print(check.table(check.compare(new, r.results, r.counts, r.scales, r.sources, r.modalities)))
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
