"""``cgi-match dna``: search DNA profiles (stains, references, foreign requests) against a database under the
Prüm or CODIS rules, optionally with a familial search; and ``cgi-match synth dna``."""

from __future__ import annotations

from pathlib import Path

import click
import polars as pl

from cgi_match.cli.options import job_options
from cgi_match.dna import (
    BUILTIN_FREQUENCIES,
    MATCH_CLASSES,
    RULE_PRESETS,
    AlleleFrequencies,
    DnaIndex,
    DnaProfiles,
)
from cgi_match.jobs import Accountability, audited_job
from cgi_match.outputs import REJECTS_SCHEMA, make_rejects


def _frequencies(spec: str | None) -> AlleleFrequencies | None:
    if spec is None:
        return None
    if spec.lower() in BUILTIN_FREQUENCIES:
        return AlleleFrequencies.builtin(spec)
    return AlleleFrequencies.from_csv(Path(spec))


def _rejects(parsed: DnaProfiles, input_name: str) -> pl.DataFrame:
    r = parsed.rejects
    return make_rejects(input_name, r["row"], r["reason"], record_ids=r["profile_id"], field="allele")


@click.command("dna")
@click.option(
    "--database",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Database profiles: Parquet/CSV long table (profile_id, locus, allele[, kind]), GeneMapper table, "
    "CODIS CMF XML, or an index saved with --save-index (.dnaidx).",
)
@click.option(
    "--probes",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Probe profiles, same formats as --database.",
)
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Output folder.")
@click.option("--rules", type=click.Choice(RULE_PRESETS), default="prum", show_default=True, help="Match rules.")
@click.option("--min-loci", type=click.IntRange(1, 64), default=None, help="Override the preset's minimum loci.")
@click.option("--max-mismatches", type=click.IntRange(0, 64), default=None, help="Override mismatching alleles.")
@click.option(
    "--frequencies",
    default=None,
    help=f"Allele frequencies for RMP/LR and kinship: {', '.join(BUILTIN_FREQUENCIES)} or a CSV path.",
)
@click.option("--theta", type=click.FloatRange(0.0, 0.5, max_open=True), default=0.01, show_default=True)
@click.option("--familial", type=click.Choice(["parent-child", "full-sibling"]), default=None)
@click.option("--top-k", type=click.IntRange(1, 100_000), default=20, show_default=True)
@click.option("--min-ki", type=click.FloatRange(0.0), default=1000.0, show_default=True)
@click.option("--save-index", type=click.Path(dir_okay=False, path_type=Path), default=None)
@job_options
def dna(
    database: Path,
    probes: Path,
    out: Path,
    rules: str,
    min_loci: int | None,
    max_mismatches: int | None,
    frequencies: str | None,
    theta: float,
    familial: str | None,
    top_k: int,
    min_ki: float,
    save_index: Path | None,
    who: Accountability,
    audit_log: Path | None,
) -> None:
    """Search probe profiles against a database: hits.parquet, rejects.parquet, summary.json (and
    familial.parquet with --familial)."""
    if familial and frequencies is None:
        raise click.UsageError("--familial needs --frequencies")
    parameters = {
        "rules": rules,
        "min_loci": min_loci,
        "max_mismatches": max_mismatches,
        "frequencies": frequencies,
        "theta": theta,
        "familial": familial,
        "top_k": top_k,
        "min_ki": min_ki,
    }
    with audited_job("dna", who, audit_log=audit_log, out_dir=out, parameters=parameters) as ctx:
        ctx.add_input(database, role="database")
        ctx.add_input(probes, role="probes")
        freqs = _frequencies(frequencies)
        db_parsed: DnaProfiles | None = None
        with ctx.stage("read"):
            if database.suffix == ".dnaidx":
                index = DnaIndex.load(database)
            else:
                db_parsed = DnaProfiles(database, input_name="database")
            probe_parsed = DnaProfiles(probes, input_name="probes")
        with ctx.stage("index"):
            if db_parsed is not None:
                index = DnaIndex(db_parsed)
                ctx.set_rows("database", db_parsed.rows)
        ctx.set_rows("probes", probe_parsed.rows)
        with ctx.stage("search"):
            hits = index.search(
                probe_parsed,
                rules=rules,
                min_loci=min_loci,
                max_mismatches=max_mismatches,
                frequencies=freqs,
                theta=theta,
            )
        kin: pl.DataFrame | None = None
        if familial and freqs is not None:
            with ctx.stage("familial"):
                kin = index.familial_search(
                    probe_parsed, relationship=familial, frequencies=freqs, top_k=top_k, min_ki=min_ki
                )
        parts = [_rejects(probe_parsed, "probes")]
        if db_parsed is not None:
            parts.append(_rejects(db_parsed, "database"))
        rejects = pl.concat(parts).cast(REJECTS_SCHEMA)  # type: ignore[arg-type]
        with ctx.stage("write"):
            ctx.write_parquet(hits, "hits.parquet")
            ctx.write_parquet(rejects, "rejects.parquet")
            if kin is not None:
                ctx.write_parquet(kin, "familial.parquet")
            if save_index is not None:
                index.save(save_index)
        n_probes = len(probe_parsed)
        matched = hits["probe_id"].n_unique() if hits.height else 0
        counts: dict[str, object] = {
            "database_profiles": len(index),
            "probe_rows": probe_parsed.rows,
            "probe_rows_used": probe_parsed.rows - probe_parsed.rejects.height,
            "probe_rows_rejected": probe_parsed.rejects.height,
            "probes": n_probes,
            "probes_matched": matched,
            "probes_unmatched": n_probes - matched,
            "hits": hits.height,
            "hits_by_class": {c: int((hits["match_class"] == c).sum()) for c in MATCH_CLASSES},
        }
        if db_parsed is not None:
            counts.update(
                database_rows=db_parsed.rows,
                database_rows_used=db_parsed.rows - db_parsed.rejects.height,
                database_rows_rejected=db_parsed.rejects.height,
            )
        if kin is not None:
            counts["familial_candidates"] = kin.height
        ctx.write_summary(counts)
    click.echo(
        f"{n_probes} probes against {len(index)} profiles ({rules}): {hits.height} hits, "
        f"{matched} probes matched, {rejects.height} rows rejected -> {out}"
    )


@click.command("dna")
@click.option("--profiles", "n_profiles", type=click.IntRange(2), default=10_000, show_default=True)
@click.option("--probes", "n_probes", type=click.IntRange(6), default=None, help="Default: profiles / 10.")
@click.option("--seed", default=0, show_default=True)
@click.option(
    "--population",
    type=click.Choice(["AA", "Cauc", "Hisp", "Asian", "all"]),
    default="Cauc",
    show_default=True,
    help="NIST 1036 population whose allele frequencies are sampled.",
)
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path))
def synth_dna(n_profiles: int, n_probes: int | None, seed: int, population: str, out: Path) -> None:
    """Synthetic DNA database and probes (same person, partial stains, mixtures, relatives, unrelated)
    sampled from real allele frequencies, with truth.parquet."""
    from cgi_match.synth.dna import generate, write

    synth = generate(n_profiles, n_probes=n_probes, seed=seed, population=None if population == "all" else population)
    counts = write(synth, out)
    click.echo(", ".join(f"{k}={v}" for k, v in counts.items()) + f" -> {out}")
