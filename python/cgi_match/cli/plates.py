"""``cgi-match plates``: ANPR reads against plate alerts; and ``cgi-match synth plates``: synthetic data."""

from __future__ import annotations

import datetime as dt
import logging
import time
from pathlib import Path
from typing import Any

import click
import polars as pl

from cgi_match.cli.options import job_options
from cgi_match.errors import CgiMatchError
from cgi_match.jobs import Accountability, audited_job
from cgi_match.outputs import REJECTS_SCHEMA, make_rejects, write_json_atomic, write_parquet_atomic
from cgi_match.plates import COUNTRY_POLICIES, MATCH_KIND_DTYPE, PLATE_REJECT_REASONS, PlateIndex, read_table
from cgi_match.progress import progress

log = logging.getLogger("cgi_match.cli.plates")

#: Reads handed to one matching call; the progress bar advances per batch (results do not depend on it).
BATCH_ROWS = 1 << 20
_COUNTRY_REASON = PLATE_REJECT_REASONS[6]


def _is_index_file(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(8) == b"CGIPLATE"
    except OSError:
        return False


def _rejects(input_name: str, frame: pl.DataFrame, id_column: str) -> pl.DataFrame:
    """Rejects of one input in the shared schema; ``field`` says whether the plate or the country was refused."""
    if frame.height == 0:
        return pl.DataFrame(schema=REJECTS_SCHEMA)
    out = make_rejects(
        input_name,
        frame["row"].cast(pl.Int64),
        frame["reason"],
        record_ids=frame[id_column].cast(pl.String),
        field="plate",
    )
    return out.with_columns(
        pl.when(pl.col("reason") == _COUNTRY_REASON).then(pl.lit("country")).otherwise(pl.col("field")).alias("field")
    )


@click.command("plates")
@click.option(
    "--alerts",
    "alerts_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="Alerts (.parquet or .csv with alert_id, plate[, country, valid_from, valid_to]) or a saved index.",
)
@click.option(
    "--reads",
    "reads_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="Reads (.parquet or .csv with read_id, plate[, country, seen_at]).",
)
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True, help="Output folder."
)
@click.option("--max-ocr", type=click.IntRange(0, 12), default=2, show_default=True, help="Look-alike swaps for 'ocr'.")
@click.option("--max-edits", type=click.IntRange(0, 2), default=0, show_default=True, help="Weighted edits for 'edit'.")
@click.option(
    "--min-fuzzy-length",
    type=click.IntRange(0, 12),
    default=5,
    show_default=True,
    help="No edit below this length, ocr only within --max-ocr-short.",
)
@click.option(
    "--max-ocr-short",
    type=click.IntRange(0, 12),
    default=1,
    show_default=True,
    help="Look-alike swaps for 'ocr' on plates shorter than --min-fuzzy-length.",
)
@click.option(
    "--country-policy", type=click.Choice(COUNTRY_POLICIES), default="lenient", show_default=True, help="Countries."
)
@click.option(
    "--at",
    "at_text",
    default=None,
    help="ISO 8601 moment at which reads without seen_at check alert validity (default: now).",
)
@click.option(
    "--save-index",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also save the alert index built from --alerts to this file, for later runs.",
)
@job_options
def plates(
    alerts_path: Path,
    reads_path: Path,
    out_dir: Path,
    max_ocr: int,
    max_edits: int,
    min_fuzzy_length: int,
    max_ocr_short: int,
    country_policy: str,
    at_text: str | None,
    save_index: Path | None,
    who: Accountability,
    audit_log: Path | None,
) -> None:
    """Match ANPR READS against plate ALERTS; write hits.parquet, rejects.parquet and summary.json to OUT."""
    try:
        at = dt.datetime.fromisoformat(at_text) if at_text else dt.datetime.now(dt.UTC)
    except ValueError as err:
        raise click.BadParameter(f"not an ISO 8601 moment: {at_text!r}", param_hint="--at") from err
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    parameters: dict[str, Any] = {
        "max_ocr": max_ocr,
        "max_edits": max_edits,
        "min_fuzzy_length": min_fuzzy_length,
        "max_ocr_short": max_ocr_short,
        "country_policy": country_policy,
        "at": at.isoformat(),
    }
    try:
        _run(alerts_path, reads_path, out_dir, parameters, at, save_index, who, audit_log)
    except CgiMatchError as err:
        raise click.ClickException(str(err)) from err


def _run(
    alerts_path: Path,
    reads_path: Path,
    out_dir: Path,
    parameters: dict[str, Any],
    at: dt.datetime,
    save_index: Path | None,
    who: Accountability,
    audit_log: Path | None,
) -> None:
    with audited_job("plates", who, audit_log=audit_log, out_dir=out_dir, parameters=parameters) as job:
        job.add_input(alerts_path, role="alerts")
        job.add_input(reads_path, role="reads")
        with job.stage("index"):
            index = PlateIndex.load(alerts_path) if _is_index_file(alerts_path) else PlateIndex(alerts_path)
            parameters["ocr_classes"] = index.ocr_classes
        job.set_rows("alerts", index.alerts.height)
        if save_index is not None:
            with job.stage("save index"):
                index.save(save_index)
        with job.stage("read reads"):
            reads = read_table(reads_path, "reads")
        job.set_rows("reads", reads.height)
        hits: list[pl.DataFrame] = []
        read_rejects: list[pl.DataFrame] = []
        counts: dict[str, int] = {"reads_with_hits": 0, "reads_without_hits": 0}
        by_kind: dict[str, int] = dict.fromkeys(MATCH_KIND_DTYPE.categories.to_list(), 0)
        with job.stage("match"), progress(reads.height, "matching reads") as advance:
            for start in range(0, reads.height, BATCH_ROWS):
                batch = reads.slice(start, BATCH_ROWS)
                result = index.match_with_rejects(
                    batch,
                    max_ocr=parameters["max_ocr"],
                    max_edits=parameters["max_edits"],
                    min_fuzzy_length=parameters["min_fuzzy_length"],
                    max_ocr_short=parameters["max_ocr_short"],
                    country_policy=parameters["country_policy"],
                    at=at,
                )
                hits.append(result.hits)
                read_rejects.append(result.rejects.with_columns(pl.col("row") + start))
                counts["reads_with_hits"] += result.reads_with_hits
                counts["reads_without_hits"] += result.reads_without_hits
                for kind, n in result.hits_by_kind.items():
                    by_kind[kind] += n
                advance(batch.height)
        all_hits = (
            pl.concat(hits)
            if hits
            else index.match(pl.DataFrame(schema={"read_id": pl.Int64, "plate": pl.String}), at=at)
        )
        read_id_col = "read_id" if "read_id" in reads.columns else "row"
        reads_rejected = pl.concat(read_rejects) if read_rejects else pl.DataFrame()
        rejects = pl.concat(
            [
                _rejects("alerts", index.rejects, "alert_id"),
                _rejects("reads", reads_rejected, read_id_col)
                if reads_rejected.height
                else pl.DataFrame(schema=REJECTS_SCHEMA),
            ]
        )
        with job.stage("write"):
            job.write_parquet(all_hits, "hits.parquet")
            job.write_parquet(rejects, "rejects.parquet")
        summary_counts = {
            "alerts_in": index.alerts.height,
            "alerts_indexed": len(index),
            "alerts_rejected": index.rejects.height,
            "reads_in": reads.height,
            "reads_with_hits": counts["reads_with_hits"],
            "reads_without_hits": counts["reads_without_hits"],
            "reads_rejected": reads_rejected.height,
            "hits": all_hits.height,
            "hits_by_kind": by_kind,
        }
        if (
            counts["reads_with_hits"] + counts["reads_without_hits"] + reads_rejected.height != reads.height
            or len(index) + index.rejects.height != index.alerts.height
        ):
            raise CgiMatchError("internal error: counts do not add up; outputs are incomplete")
        job.write_summary(summary_counts)
    click.echo(
        f"{reads.height:,} reads: {counts['reads_with_hits']:,} with hits, {counts['reads_without_hits']:,} without, "
        f"{reads_rejected.height:,} rejected; {all_hits.height:,} hits → {out_dir}"
    )


@click.command("plates")
@click.option("--alerts", "n_alerts", type=click.IntRange(0, 100_000_000), required=True, help="Number of alerts.")
@click.option("--reads", "n_reads", type=click.IntRange(0, 1_000_000_000), required=True, help="Number of reads.")
@click.option(
    "--related-share",
    type=click.FloatRange(0.0, 1.0),
    default=0.1,
    show_default=True,
    help="Share of reads derived from an alert through the noise model.",
)
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=0, show_default=True, help="Seed of the generator.")
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True, help="Output folder."
)
def synth_plates(n_alerts: int, n_reads: int, related_share: float, seed: int, out_dir: Path) -> None:
    """Write synthetic alerts.parquet, reads.parquet, ground_truth.parquet and summary.json to OUT."""
    from cgi_match.synth.plates import NOISE_KINDS, generate

    t0 = time.perf_counter()
    data = generate(n_alerts, n_reads, related_share=related_share, seed=seed)
    write_parquet_atomic(data.alerts, out_dir / "alerts.parquet")
    write_parquet_atomic(data.reads, out_dir / "reads.parquet")
    write_parquet_atomic(data.truth, out_dir / "ground_truth.parquet")
    noise = data.truth.group_by("noise").len()
    write_json_atomic(
        {
            "command": "synth plates",
            "parameters": {"alerts": n_alerts, "reads": n_reads, "related_share": related_share, "seed": seed},
            "counts": {"alerts": data.alerts.height, "reads": data.reads.height, **dict(noise.iter_rows())},
            "noise_kinds": list(NOISE_KINDS),
            "seconds": round(time.perf_counter() - t0, 3),
        },
        out_dir / "summary.json",
    )
    click.echo(f"{n_alerts:,} alerts and {n_reads:,} reads written to {out_dir}")
