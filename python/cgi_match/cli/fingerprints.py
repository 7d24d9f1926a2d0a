"""``cgi-match fingerprints`` (1:N search of probe templates against a gallery) and ``cgi-match eval
fingerprints`` (FVC-protocol accuracy of the matcher on a template folder or a synthetic set)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal, NamedTuple

import click
import numpy as np
import numpy.typing as npt
import polars as pl

from cgi_match.cli.options import job_options
from cgi_match.fingerprints import FingerprintTemplate
from cgi_match.jobs import Accountability, audited_job
from cgi_match.outputs import empty_rejects

#: Probes searched per call into Rust: large enough to keep both cores busy, small enough for a live bar.
_PROBE_CHUNK = 512


class _Templates(NamedTuple):
    """Templates read from a folder or a table, with their ids, fingers and the rejected records."""

    ids: list[str]
    fingers: npt.NDArray[np.uint8]
    templates: list[FingerprintTemplate]
    records: int
    rejects: pl.DataFrame
    table: bool


def _read_templates(path: Path, id_column: str, xyt_ppi: float, *, unique_ids: bool) -> _Templates:
    """A folder of template files or a table of templates (Parquet / Arrow IPC), read the same way."""
    from cgi_match.fingerprint_tables import TABLE_SUFFIXES, read_template_table
    from cgi_match.fingerprints import read_template_folder

    if path.is_dir():
        read = read_template_folder(path, xyt_resolution_ppi=xyt_ppi)
        ids = [i for i, _ in read.templates]
        templates = [t for _, t in read.templates]
        fingers = np.fromiter((t.finger_position for t in templates), dtype=np.uint8, count=len(templates))
        # A file is one record; a multi-view file gives several templates, ids "stem#k".
        files = len({i.split("#", 1)[0] for i in ids}) + read.rejects.height
        return _Templates(ids, fingers, templates, files, read.rejects, table=False)
    if path.suffix.lower() not in TABLE_SUFFIXES:
        raise click.BadParameter(
            f"{path} is neither a folder of template files nor a table ({', '.join(sorted(TABLE_SUFFIXES))})"
        )
    t = read_template_table(path, id_column, xyt_resolution_ppi=xyt_ppi, unique_ids=unique_ids)
    return _Templates(t.ids, t.fingers, t.templates, t.rows, t.rejects, table=True)


def _subject_of(template_id: str) -> str:
    """A record with several finger views is one subject's: ``person#0``, ``person#1`` → ``person``."""
    return template_id.split("#", 1)[0]


@click.command("fingerprints")
@click.option(
    "--gallery",
    type=click.Path(exists=True, path_type=Path),
    required=True,
    help="Folder of gallery template files (ISO 19794-2, ANSI 378, .xyt; the file name is the subject id), or a "
    "Parquet/Arrow table with subject_id, optional finger and a binary template column.",
)
@click.option(
    "--probes",
    type=click.Path(exists=True, path_type=Path),
    required=True,
    help="Folder of probe template files (the file name is the probe id), or a Parquet/Arrow table with "
    "probe_id and a binary template column.",
)
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True, help="Output folder."
)
@click.option("--top-k", type=click.IntRange(1, 1000), default=10, show_default=True, help="Candidates per probe.")
@click.option("--threshold", type=click.FloatRange(0.0, 1.0), default=None, help="Drop candidates scoring below this.")
@click.option(
    "--penetration",
    type=click.FloatRange(0.0, 1.0, min_open=True),
    default=None,
    help="Use a pre-filter and fully compare only this share of the gallery (default: exhaustive; "
    "the pre-filters' recall is in BENCHMARKS.md).",
)
@click.option(
    "--prefilter",
    type=click.Choice(["hashing", "scan"]),
    default="scan",
    show_default=True,
    help="With --penetration: 'scan' (exact cylinder scan, keeps >= 99% of exhaustive rank-1 hits at 2-5%) or "
    "'hashing' (cylinder LSH votes, cheaper, loses about one hit in five).",
)
@click.option("--xyt-ppi", type=click.FloatRange(100, 2000), default=500.0, show_default=True, help=".xyt resolution.")
@job_options
def fingerprints(
    gallery: Path,
    probes: Path,
    out_dir: Path,
    top_k: int,
    threshold: float | None,
    penetration: float | None,
    prefilter: Literal["hashing", "scan"],
    xyt_ppi: float,
    who: Accountability,
    audit_log: Path | None,
) -> None:
    """Search probe fingerprint templates against a gallery; writes hits.parquet, rejects.parquet, summary.json."""
    from cgi_match.fingerprint_gallery import FingerprintGallery
    from cgi_match.progress import progress

    parameters = {
        "top_k": top_k,
        "threshold": threshold,
        "exhaustive": penetration is None,
        "penetration": penetration,
        "prefilter": prefilter if penetration is not None else None,
        "matcher": "MCC-8b + LSS-R (Cappelli et al. 2010)",
    }
    with audited_job("fingerprints", who, audit_log=audit_log, out_dir=out_dir, parameters=parameters) as ctx:
        with ctx.stage("read"):
            ctx.add_input(gallery, role="gallery")
            ctx.add_input(probes, role="probes")
            g_read = _read_templates(gallery, "subject_id", xyt_ppi, unique_ids=False)
            p_read = _read_templates(probes, "probe_id", xyt_ppi, unique_ids=True)
            ctx.set_rows("gallery", g_read.records)
            ctx.set_rows("probes", p_read.records)
        with ctx.stage("index"):
            index = FingerprintGallery()
            if g_read.ids:
                index.add_many([_subject_of(i) for i in g_read.ids], g_read.templates, g_read.fingers)
        probe_items = list(zip(p_read.ids, p_read.templates, strict=True))
        hits_parts = []
        with ctx.stage("search"), progress(len(probe_items), "fingerprint probes") as advance:
            for start in range(0, len(probe_items), _PROBE_CHUNK):
                chunk = dict(probe_items[start : start + _PROBE_CHUNK])
                hits_parts.append(
                    index.search_many(
                        chunk,
                        top_k=top_k,
                        threshold=threshold,
                        exhaustive=penetration is None,
                        penetration=penetration or 0.05,
                        prefilter=prefilter,
                    )
                )
                advance(len(chunk))
        hits = (
            pl.concat(hits_parts)
            if hits_parts
            else pl.DataFrame(
                schema={
                    "probe_id": pl.String,
                    "subject_id": pl.String,
                    "finger": pl.UInt8,
                    "score": pl.Float32,
                    "rank": pl.UInt32,
                }
            )
        )
        rejects = pl.concat([empty_rejects(), g_read.rejects, p_read.rejects])
        ctx.write_parquet(hits, "hits.parquet")
        ctx.write_parquet(rejects, "rejects.parquet")
        probes_with_hits = hits["probe_id"].n_unique()
        # Folders count files, tables count rows: every record is read into templates or rejected.
        unit = {True: "rows", False: "files"}
        counts = {
            f"gallery_{unit[g_read.table]}": g_read.records,
            "gallery_templates": len(index),
            "gallery_subjects": index.subject_count,
            f"gallery_rejected_{unit[g_read.table]}": g_read.rejects.height,
            f"probe_{unit[p_read.table]}": p_read.records,
            "probes": len(probe_items),
            "probes_with_hits": probes_with_hits,
            "probes_without_hits": len(probe_items) - probes_with_hits,
            f"probe_rejected_{unit[p_read.table]}": p_read.rejects.height,
            "hits": hits.height,
        }
        ctx.write_summary(counts)
    click.echo(
        f"{counts['probes']} probes against {counts['gallery_templates']} templates: {counts['hits']} hits, "
        f"{counts['probes_without_hits']} probes without hits, "
        f"{g_read.rejects.height + p_read.rejects.height} records rejected → {out_dir}"
    )


@click.group("eval")
def evaluate() -> None:
    """Measure a matcher's accuracy with a standard protocol."""


@evaluate.command("fingerprints")
@click.argument("folder", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--synthetic", type=click.IntRange(2, 100_000), default=None, help="Evaluate N synthetic fingers instead."
)
@click.option("--impressions", type=click.IntRange(2, 100), default=8, show_default=True, help="Synthetic impressions.")
@click.option("--seed", type=click.IntRange(0, 2**64 - 1), default=0, show_default=True, help="Synthetic seed.")
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True, help="Output folder."
)
@click.option("--xyt-ppi", type=click.FloatRange(100, 2000), default=500.0, show_default=True, help=".xyt resolution.")
@job_options
def eval_fingerprints(
    folder: Path | None,
    synthetic: int | None,
    impressions: int,
    seed: int,
    out_dir: Path,
    xyt_ppi: float,
    who: Accountability,
    audit_log: Path | None,
) -> None:
    """FVC protocol on FOLDER (templates named FINGER_IMPRESSION.ext) or on --synthetic N fingers: writes
    summary.json (EER, FNMR at FMR 1 % / 0.1 %, threshold table), scores.parquet, det.svg, histogram.svg."""
    from cgi_match.fingerprint_eval import det_svg, evaluate_synthetic, evaluate_templates, histogram_svg
    from cgi_match.fingerprints import read_template_folder

    if (folder is None) == (synthetic is None):
        raise click.UsageError("give either FOLDER or --synthetic N")
    parameters = {"folder": str(folder) if folder else None, "synthetic": synthetic, "impressions": impressions}
    parameters["seed"] = seed
    with audited_job("eval fingerprints", who, audit_log=audit_log, out_dir=out_dir, parameters=parameters) as ctx:
        rejects = empty_rejects()
        with ctx.stage("compare"):
            if folder is not None:
                ctx.add_input(folder, role="templates")
                read = read_template_folder(folder, xyt_resolution_ppi=xyt_ppi)
                rejects = pl.concat([rejects, read.rejects])
                ids = [i for i, _ in read.templates]
                ev = evaluate_templates(ids, [t for _, t in read.templates])
            else:
                assert synthetic is not None
                ev = evaluate_synthetic(synthetic, impressions, seed=seed)
        scores = pl.DataFrame(
            {
                "kind": ["genuine"] * ev.genuine.size + ["impostor"] * ev.impostor.size,
                "score": pl.concat([pl.Series(ev.genuine), pl.Series(ev.impostor)]),
            }
        )
        ctx.write_parquet(scores, "scores.parquet")
        ctx.write_parquet(rejects, "rejects.parquet")
        ctx.write_text(det_svg(ev), "det.svg")
        ctx.write_text(histogram_svg(ev), "histogram.svg")
        figures = ev.summary()
        ctx.write_summary({"templates_rejected": rejects.height, **figures}, accuracy=figures)
    click.echo(json.dumps(figures, indent=2))
