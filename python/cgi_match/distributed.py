"""Past one machine: the same matching on a Dask cluster, with the same hits as on one machine.

Install with ``pip install cgi-match[dask]``. Two entry points:

* :func:`match_partitions` — one modality over probe data given as many Parquet/CSV files (or a dask
  DataFrame, written out to Parquet partitions first), with an index you built or saved; hits and rejects are
  written as one Parquet file per probe partition plus one ``summary.json`` whose counts add up exactly as on
  one machine.
* :class:`DaskChunkRunner` — used by ``cgi-match run JOB.toml --scheduler ADDRESS`` (or ``--local-cluster N``)
  to run a batch job's chunks on the cluster; the job's outputs, resume behaviour, progress and audit
  record are those of a local run.

How the work is shipped: the index is sent **once per worker** — by path to a saved index file on a shared
filesystem (each worker loads it once and keeps it), or pickled through the index's own binary format and
broadcast with ``Client.scatter(..., broadcast=True)`` — never per task. Each task is a pure function of
(index, probe partition, options, validity moment) and writes its outputs atomically under a name derived
from its partition number, so a task retried after a worker died rewrites the same bytes: hits are neither
lost nor duplicated. Outputs must be on a filesystem every worker can write (NFS, Lustre, a shared volume).
"""

from __future__ import annotations

import glob
import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from cgi_match import __version__
from cgi_match.batch import MODALITY_SEARCH
from cgi_match.batch.checkpoint import Checkpoint
from cgi_match.batch.job_file import MODALITY_OPTIONS
from cgi_match.batch.modality import ChunkResult, Modality, no_hits
from cgi_match.errors import InvalidInputError
from cgi_match.hits import RAW_HIT_SCHEMA
from cgi_match.outputs import REJECTS_SCHEMA, sha256_file, write_json_atomic, write_parquet_atomic

try:
    from distributed import Client, LocalCluster, as_completed
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("cgi_match.distributed needs the dask extra: pip install 'cgi-match[dask]'") from exc

log = logging.getLogger("cgi_match.distributed")

#: Retries of a task whose worker died; every task is idempotent, so a retry cannot duplicate hits.
TASK_RETRIES = 3


@contextmanager
def cluster_client(
    scheduler: str | None = None, *, local_workers: int | None = None, threads_per_worker: int = 1
) -> Iterator[Client]:
    """A client of the cluster at ``scheduler`` (e.g. ``tcp://10.0.0.5:8786``), or of a ``LocalCluster``
    with ``local_workers`` worker processes started (and stopped) for the caller."""
    if scheduler is not None:
        client = Client(scheduler)
        try:
            yield client
        finally:
            client.close()
        return
    n = local_workers or 2
    # Each worker's matcher parallelises with rayon: give each its share of the cores, not all of them, so
    # that n workers on one machine do not oversubscribe it.
    share = max(1, (os.cpu_count() or 1) // n)
    cluster = LocalCluster(
        n_workers=n,
        threads_per_worker=threads_per_worker,
        processes=True,
        dashboard_address=":0",
        env={"RAYON_NUM_THREADS": str(share)},
    )
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


# ---------------------------------------------------------------------------------------------------------
# Index shipping: once per worker.

_WORKER_INDEXES: dict[tuple[str, str, str], Any] = {}
_WORKER_LOCK = threading.Lock()


@dataclass(frozen=True)
class IndexFile:
    """A saved index on a filesystem every worker reads; workers load it once and keep it in memory."""

    modality: str
    path: str
    sha256: str


def _index_class(modality: str) -> Any:
    import cgi_match

    name = {"plates": "PlateIndex", "dna": "DnaIndex", "fingerprints": "FingerprintGallery"}[modality]
    if not hasattr(cgi_match, name):
        raise InvalidInputError(f"this build of cgi-match has no {name}")
    return getattr(cgi_match, name)


def _resolve_index(index: Any) -> Any:
    """On a worker: the index itself, or the one loaded (once per worker process) from its file."""
    if not isinstance(index, IndexFile):
        return index
    key = (index.modality, index.path, index.sha256)
    with _WORKER_LOCK:
        if key not in _WORKER_INDEXES:
            _WORKER_INDEXES[key] = _index_class(index.modality).load(index.path)
        return _WORKER_INDEXES[key]


def _ship_index(client: Client, modality: str, index: Any) -> Any:
    """What the tasks take as their index argument: an :class:`IndexFile` for a path, else a broadcast future."""
    if isinstance(index, str | os.PathLike):
        path = Path(index).resolve()
        return IndexFile(modality, str(path), sha256_file(path))
    return client.scatter(index, broadcast=True, hash=False)


# ---------------------------------------------------------------------------------------------------------
# Batch-job chunks on a cluster.


def _chunk_task(
    modality: str, index: Any, chunk: pl.DataFrame, options: dict[str, Any], at: datetime, folder: str, i: int
) -> int:
    search: Modality = MODALITY_SEARCH[modality]()
    result = search.match_chunk(_resolve_index(index), chunk, options, at)
    Checkpoint.save_to(Path(folder), modality, i, result)
    return chunk.height


class DaskChunkRunner:
    """Runs a batch job's missing chunks on a cluster; each task writes its own checkpoint files, so the job
    then assembles exactly the outputs of a local run (and a killed job resumes the same way)."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def run(
        self,
        search: Modality,
        index: Any,
        chunks: Iterable[tuple[int, pl.DataFrame]],
        options: dict[str, Any],
        at: datetime,
        checkpoint: Checkpoint,
        advance: Callable[[int], None],
    ) -> None:
        """Submits one task per chunk (chunk ``i`` → checkpoint file ``i``) and advances as they finish."""
        shipped: Any = None
        futures: dict[Any, int] = {}
        for i, chunk in chunks:
            if shipped is None:
                shipped = _ship_index(self.client, search.name, index)
            fut = self.client.submit(
                _chunk_task,
                search.name,
                shipped,
                chunk,
                options,
                at,
                str(checkpoint.folder),
                i,
                key=f"cgi-match-{checkpoint.job_id}-{search.name}-{i}",
                retries=TASK_RETRIES,
                pure=False,
            )
            futures[fut] = chunk.height
        for fut in as_completed(list(futures)):
            fut.result()
            advance(futures[fut])


# ---------------------------------------------------------------------------------------------------------
# One modality over many probe files.


@dataclass
class PartitionCounts:
    """What one probe partition gave; the summary adds these up."""

    partition: int
    source: str
    probes_in: int
    matched: int
    unmatched: int
    rejected: int
    hits: int


def _part_name(i: int) -> str:
    return f"part-{i:06d}.parquet"


def _partition_task(
    modality: str, index: Any, source: str, i: int, out: str, options: dict[str, Any], at: datetime
) -> PartitionCounts:
    search: Modality = MODALITY_SEARCH[modality]()
    probes = search.load_probes(Path(source))
    result: ChunkResult = (
        search.match_chunk(_resolve_index(index), probes.table, options, at) if probes.n_valid else no_hits()
    )
    name = Path(source).name
    hits = result.hits.cast(RAW_HIT_SCHEMA).with_columns(pl.lit(i).cast(pl.Int32).alias("partition"))  # type: ignore[arg-type]
    refused = result.rejects.with_columns(pl.lit(name).alias("input"))
    rejects = pl.concat([probes.rejects, refused]).cast(REJECTS_SCHEMA)  # type: ignore[arg-type]
    # Rejects first, hits last: a partition counts as done only when its hit file exists.
    write_parquet_atomic(rejects, Path(out) / "rejects" / _part_name(i))
    write_parquet_atomic(hits, Path(out) / "hits" / _part_name(i))
    matched = int(hits["probe_id"].n_unique()) if hits.height else 0
    n_refused = int(refused["record_id"].n_unique()) if refused.height else 0
    return PartitionCounts(
        partition=i,
        source=source,
        probes_in=probes.n_in,
        matched=matched,
        unmatched=probes.n_valid - matched - n_refused,
        rejected=probes.n_rejected + n_refused,
        hits=hits.height,
    )


def _probe_files(probes: Any, out: Path, client: Client) -> list[str]:
    if isinstance(probes, str | os.PathLike):
        p = Path(probes)
        if p.is_dir():
            files = sorted(str(q) for q in p.iterdir() if q.suffix in {".parquet", ".csv", ".ndjson", ".jsonl"})
        else:
            files = sorted(glob.glob(str(p))) or [str(p)]
        return files
    if isinstance(probes, Sequence):
        return [str(x) for x in probes]
    # A dask DataFrame: write its partitions once, in parallel, next to the outputs.
    to_parquet = getattr(probes, "to_parquet", None)
    if to_parquet is None:
        raise InvalidInputError("probes must be a path, a glob, a list of files or a dask DataFrame")
    staged = out / "probes"
    to_parquet(str(staged), write_index=False, compute_kwargs={"scheduler": client})
    return sorted(str(q) for q in staged.glob("*.parquet"))


@dataclass
class DistributedResult:
    """Where the hits went and the summed counts (``probes_in = matched + unmatched + rejected``)."""

    out: Path
    counts: dict[str, int]
    partitions: list[PartitionCounts] = field(default_factory=list)

    def hits(self) -> pl.DataFrame:
        """All hits in the documented order: partition, then probe order, score descending, alert id."""
        return pl.read_parquet(self.out / "hits" / "*.parquet").sort(
            ["partition", "probe_row", "score", "alert_id"], descending=[False, False, True, False]
        )

    def rejects(self) -> pl.DataFrame:
        """All rejected probes with their reasons."""
        return pl.read_parquet(self.out / "rejects" / "*.parquet")


def _check_options(modality: str, options: dict[str, Any] | None) -> dict[str, Any]:
    if modality not in MODALITY_SEARCH:
        raise InvalidInputError(f"unknown modality {modality!r}; one of {', '.join(MODALITY_SEARCH)}")
    unknown = sorted(set(options or {}) - set(MODALITY_OPTIONS[modality]))
    if unknown:
        raise InvalidInputError(
            f"{modality}: unknown option(s) {', '.join(unknown)}; known: {', '.join(MODALITY_OPTIONS[modality])}"
        )
    return {**MODALITY_OPTIONS[modality], **(options or {})}


def _finish(
    modality: str, parts: list[PartitionCounts], out_dir: Path, opts: dict[str, Any], when: datetime, workers: int
) -> DistributedResult:
    parts = sorted(parts, key=lambda p: p.partition)
    counts = {
        k: sum(int(getattr(p, k)) for p in parts) for k in ("probes_in", "matched", "unmatched", "rejected", "hits")
    }
    if counts["matched"] + counts["unmatched"] + counts["rejected"] != counts["probes_in"]:
        raise RuntimeError(f"counts do not add up ({counts}); this is a bug, please report it")
    write_json_atomic(
        {
            "modality": modality,
            "cgi_match_version": __version__,
            "at": when.isoformat(),
            "options": opts,
            "workers": workers,
            "counts": counts,
            "partitions": [p.__dict__ for p in parts],
        },
        out_dir / "summary.json",
    )
    log.info("%s: %d partitions, %d probes, %d hits", modality, len(parts), counts["probes_in"], counts["hits"])
    return DistributedResult(out_dir, counts, parts)


def match_partitions(
    modality: str,
    index: Any,
    probes: Any,
    out: str | os.PathLike[str],
    *,
    client: Client | None = None,
    local_workers: int = 2,
    options: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> DistributedResult:
    """Matches probe partitions on a cluster: one task per partition, index shipped once per worker.

    ``index`` is the built index (``PlateIndex``, ``DnaIndex``, ``FingerprintGallery``) or the path of its
    saved file on a shared filesystem. ``probes`` is a folder, a glob, a list of files or a dask DataFrame.
    ``client`` is your ``distributed.Client``; without one a ``LocalCluster`` of ``local_workers`` is used.
    ``options`` are the modality's options of a job file (e.g. ``max_edits`` for plates).
    """
    opts = _check_options(modality, options)
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    when = at or datetime.now(UTC)
    if client is None:
        with cluster_client(local_workers=local_workers) as own:
            return match_partitions(modality, index, probes, out_dir, client=own, options=opts, at=when)
    files = _probe_files(probes, out_dir, client)
    if not files:
        raise InvalidInputError(f"no probe files found in {probes!r}")
    shipped = _ship_index(client, modality, index)
    futures = [
        client.submit(
            _partition_task,
            modality,
            shipped,
            src,
            i,
            str(out_dir),
            opts,
            when,
            key=f"cgi-match-{modality}-{out_dir.name}-{i}",
            retries=TASK_RETRIES,
            pure=False,
        )
        for i, src in enumerate(files)
    ]
    parts = [f.result() for f in as_completed(futures)]
    return _finish(modality, parts, out_dir, opts, when, len(client.scheduler_info().get("workers", {})))


def match_partitions_in_process(
    modality: str,
    index: Any,
    probes: Sequence[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    *,
    options: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> DistributedResult:
    """The same work and outputs as :func:`match_partitions`, in this process without Dask: the
    single-machine baseline the distributed run is compared with (benchmarks, tests)."""
    opts = _check_options(modality, options)
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    when = at or datetime.now(UTC)
    resolved = _index_class(modality).load(index) if isinstance(index, str | os.PathLike) else index
    parts = [_partition_task(modality, resolved, str(src), i, str(out_dir), opts, when) for i, src in enumerate(probes)]
    return _finish(modality, parts, out_dir, opts, when, workers=0)
