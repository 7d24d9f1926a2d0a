"""Small alert sets, probes and a stand-in plate matcher for the workflow tests.

``ExactPlateSearch`` matches reads whose normalised plate equals an alert's, by a polars join: it exists
so that the generic job machinery (chunks, checkpoints, counts, hit schema, report, audit) is tested for
real before and independently of the plate matcher of issue 3. Tests with the real matchers use them
directly and are skipped only where that matcher is missing from the build.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from cgi_match.alerts import ACTIONS, CATEGORIES, AlertSet
from cgi_match.batch.modality import BuiltIndex, ChunkResult, no_hits
from cgi_match.batch.plate_search import PlateSearch
from cgi_match.hits import RAW_HIT_SCHEMA, details_json
from cgi_match.outputs import empty_rejects
from cgi_match.plates import normalize_plates

LETTERS = list("ABCDEFGHJKLMNPRSTVWXYZ")
COUNTRIES = ["BE", "NL", "FR", "DE", "LU", "GB", "BG", "GR"]
SOURCES = ["SIS", "INTERPOL", "EUROPOL", "PRUM", "NATIONAL"]


def random_plates(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` distinct-looking plates such as ``KLM-482``."""
    letters = rng.choice(LETTERS, size=(n, 3))
    digits = rng.integers(0, 10, size=(n, 4))
    return ["".join(a) + "-" + "".join(map(str, d)) for a, d in zip(letters, digits, strict=True)]


def write_alert_set(folder: Path, *, n_alerts: int = 300, seed: int = 1) -> dict[str, Any]:
    """Writes alerts.csv and plates.parquet with a few bad rows of each kind; returns what was planted."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    ids = [f"AL-{i:05d}" for i in range(n_alerts)]
    alerts = pl.DataFrame(
        {
            "alert_id": ids,
            "source": rng.choice(SOURCES, n_alerts).tolist(),
            "category": rng.choice(list(CATEGORIES), n_alerts).tolist(),
            "issuing_country": rng.choice(COUNTRIES, n_alerts).tolist(),
            "valid_from": ["2024-01-01"] * n_alerts,
            "valid_to": [None if i % 3 else "2099-12-31" for i in range(n_alerts)],
            "action": rng.choice(list(ACTIONS), n_alerts).tolist(),
            "case_ref": [f"CASE/{i}" for i in range(n_alerts)],
        }
    )
    bad_alerts = pl.DataFrame(
        {
            "alert_id": ["BAD-CAT", "BAD-DATE", "AL-00001", None, "BAD-ORDER", "BAD-SRC"],
            "source": ["SIS", "SIS", "SIS", "SIS", "SIS", "FBI"],
            "category": ["wizardry", "arrest", "arrest", "arrest", "arrest", "arrest"],
            "issuing_country": ["BE", "BE", "BE", "BE", "BE", "BE"],
            "valid_from": ["2024-01-01", "2024-02-30", None, None, "2025-01-01", None],
            "valid_to": [None, None, None, None, "2024-01-01", None],
            "action": ["arrest"] * 6,
            "case_ref": ["x"] * 6,
        }
    )
    alerts_all = pl.concat([alerts, bad_alerts])
    alerts_all.write_csv(folder / "alerts.csv")
    plates = random_plates(rng, n_alerts)
    plate_tab = pl.DataFrame(
        {"alert_id": ids, "plate": plates, "country": [None] * n_alerts}, schema_overrides={"country": pl.String}
    )
    bad_plates = pl.DataFrame(
        {
            "alert_id": ["NOPE-1", "BAD-CAT", "AL-00002", None],
            "plate": ["ZZZ-0001", "ZZZ-0002", "  ", "ZZZ-0003"],
            "country": [None] * 4,
        },
        schema_overrides={"country": pl.String},
    )
    pl.concat([plate_tab, bad_plates]).write_parquet(folder / "plates.parquet")
    return {
        "ids": ids,
        "plates": plates,
        "bad_alert_rows": bad_alerts.height + 1,  # AL-00001 is duplicated: both rows go
        "bad_plate_rows": bad_plates.height + 1,  # and AL-00001's plate points to a rejected alert
    }


def write_reads(
    path: Path, alert_plates: list[str], alert_ids: list[str], *, n_random: int = 400, seed: int = 2
) -> pl.DataFrame:
    """Reads: every other alert plate re-typed with other separators and case, random plates, garbage and a
    repeated read id; returns the ground truth (probe_id, alert_id)."""
    rng = np.random.default_rng(seed)
    true_reads = [(p.replace("-", " ").lower(), a) for p, a in zip(alert_plates[::2], alert_ids[::2], strict=True)]
    randoms = random_plates(rng, n_random)
    plates = [p for p, _ in true_reads] + randoms + ["", "--", "AB\tC12"]
    read_ids = [f"R{i:06d}" for i in range(len(plates))]
    order = rng.permutation(len(plates))
    plates = [plates[i] for i in order]
    read_ids = [read_ids[i] for i in order]
    plates.append("QQQ-9999")
    read_ids.append(read_ids[0])  # a repeated read id: both rows are rejects
    pl.DataFrame({"read_id": read_ids, "plate": plates}).write_parquet(path)
    truth = pl.DataFrame(
        {"probe_id": [f"R{i:06d}" for i in range(len(true_reads))], "alert_id": [a for _, a in true_reads]}
    )
    return truth


class ExactPlateSearch(PlateSearch):
    """Stand-in plate matcher: equal normalised plates only (see the module docstring)."""

    calls = 0
    fail_after: int | None = None

    @staticmethod
    def available() -> bool:
        return True

    def build_index(self, alerts: AlertSet, options: dict[str, Any], at: datetime) -> BuiltIndex:
        keys = alerts.plates.with_columns(normalize_plates(alerts.plates["plate"])["plate_key"])
        return BuiltIndex(keys.select("alert_id", "plate", "plate_key"), keys.height, empty_rejects())

    def match_chunk(self, index: Any, chunk: pl.DataFrame, options: dict[str, Any], at: datetime) -> ChunkResult:
        cls = type(self)
        if cls.fail_after is not None and cls.calls >= cls.fail_after:
            raise KeyboardInterrupt("simulated kill")
        cls.calls += 1
        if chunk.is_empty():
            return no_hits()
        keyed = chunk.with_columns(normalize_plates(chunk["plate"])["plate_key"])
        found = keyed.join(index, on="plate_key", how="inner", suffix="_alert")
        hits = found.select(
            pl.col("probe_id"),
            pl.col("probe_row"),
            pl.col("alert_id"),
            pl.lit("exact").alias("match_kind"),
            pl.lit(1.0).alias("score"),
            details_json({"read_plate": pl.col("plate"), "alert_plate": pl.col("plate_alert")}).alias("details"),
        ).cast(RAW_HIT_SCHEMA)  # type: ignore[arg-type]
        return ChunkResult(hits, empty_rejects())
