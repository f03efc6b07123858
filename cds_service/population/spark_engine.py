"""The scale-out engine: Apache Spark reads the NDJSON, applies the same prefilter, and runs the rule per patient.

Local mode (`local[*]`) by default, a cluster with `--spark-master`. The rule runs on the executors, one patient
group at a time; the results come back sorted by patient, so the outputs are those of the DuckDB engine.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from cds_service.population import prefilter as pf
from cds_service.population.ndjson import ndjson_files
from cds_service.population.progress import Progress
from cds_service.population.results import AuditRun, PatientResult, ScanStats, name_malformed, review_lines

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("hooks", "cards", "cds_service")


class SparkUnavailable(Exception):
    """Spark could not be started (most often: no Java runtime)."""


def start_spark(master: str, work_dir: Path) -> Any:
    """Return a SparkSession on `master`, bound to loopback in local mode, with the rule's code shipped."""
    if master.startswith("local") and not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        raise SparkUnavailable(
            "Spark cannot start: no Java runtime found (install one, e.g. Debian's "
            "default-jre-headless, or set JAVA_HOME)"
        )
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    if master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # the driver and its workers talk on loopback only
    try:
        from pyspark.sql import SparkSession

        builder = (
            SparkSession.builder.master(master)
            .appName("alp-guard-audit")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "4" if master.startswith("local") else "200")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.local.dir", str(work_dir))
        )
        if master.startswith("local"):
            builder = builder.config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
        spark = builder.getOrCreate()
    except Exception as exc:  # the gateway's errors vary by cause; all mean the same to the user
        raise SparkUnavailable(f"Spark cannot start: {type(exc).__name__}") from None
    spark.sparkContext.setLogLevel("ERROR")
    spark.sparkContext.addPyFile(str(code_archive(work_dir)))
    return spark


def code_archive(work_dir: Path) -> Path:
    """Zip the rule and the audit's per-patient step for the executors."""
    archive = work_dir / "alp_guard_code.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for package in PACKAGES:
            for path in sorted((ROOT / package).rglob("*.py")):
                bundle.write(path, path.relative_to(ROOT).as_posix())
    return archive


def lines_frame(spark: Any, files: list[Path], since: date | None) -> Any:
    """Return the files' non-blank lines with their type, patient and whether `since` keeps them."""
    from pyspark.sql import functions as F

    frame = spark.read.text([str(f) for f in files]).select(
        F.col("value").alias("line"), F.input_file_name().alias("file")
    )
    frame = frame.where(F.trim("line") != "")
    field = lambda path: F.get_json_object("line", path)  # noqa: E731
    rt = field("$.resourceType")
    well_formed = rt.isNotNull() & rt.rlike("^[A-Za-z]+$") & F.col("line").rlike(r"^\s*\{.*\}\s*$")
    frame = frame.withColumn("rt", F.when(well_formed, rt))
    reference = F.coalesce(field("$.subject.reference"), field("$.patient.reference"))
    frame = frame.withColumn(
        "patient",
        F.when(F.col("rt") == "Patient", field("$.id")).otherwise(
            F.nullif(F.regexp_extract(reference, "Patient/([^/]+)", 1), F.lit(""))
        ),
    )
    if since is None:
        return frame.withColumn("considered", F.lit(True))
    updated = field("$.meta.lastUpdated")
    return frame.withColumn(
        "considered",
        F.col("rt").isin("Patient", "Medication") | updated.isNull() | (updated >= F.lit(since.isoformat())),
    )


def facts_frame(lines: Any) -> Any:
    """Return one narrow row per line with the candidate signs, as DuckDB's first pass computes them."""
    from pyspark.sql import functions as F

    field = lambda path: F.get_json_object("line", path)  # noqa: E731
    rt, considered, line = F.col("rt"), F.col("considered"), F.col("line")
    value = field("$.valueQuantity.value").cast("double")
    unit = F.lower(
        F.trim(F.coalesce(F.nullif(field("$.valueQuantity.code"), F.lit("")), field("$.valueQuantity.unit")))
    )
    (first_units, first_factor), *other_factors = pf.UNIT_FACTORS
    factor = F.when(unit.isin(*first_units), F.lit(first_factor))
    for units, number in other_factors:
        factor = factor.when(unit.isin(*units), F.lit(number))
    lows = F.regexp_extract_all(
        F.coalesce(field("$.referenceRange[*].low.value"), F.lit("")), F.lit(r"(-?[0-9][0-9.eE+-]*)"), F.lit(1)
    )
    low = F.array_max(F.transform(lows, lambda x: x.cast("double")))
    katal = F.when(F.coalesce(field("$.referenceRange"), F.lit("")).rlike(pf.KATAL_IN_RANGE), F.lit(60.0)).otherwise(
        1.0
    )
    med_use = rt.isin(*pf.MEDICATION_USE_TYPES)
    is_inr = considered & (rt == "Observation") & line.rlike(pf.INR_CODE)
    is_alp = considered & (rt == "Observation") & line.rlike(pf.ALP_CODE)
    sign = considered & F.coalesce(
        ((rt == "Condition") & line.rlike(pf.HPP_CODE))
        | (med_use & line.rlike(pf.ASFOTASE))
        | (is_inr & value.isNotNull()),
        F.lit(False),
    )
    effective = F.coalesce(field("$.effectiveDateTime"), field("$.effectivePeriod.start"), field("$.issued"))
    return lines.select(
        "file",
        "rt",
        "patient",
        "considered",
        sign.alias("sign"),
        F.when(is_inr, value).alias("inr"),
        F.when(is_alp, value * factor).alias("alp_u"),
        F.when(is_alp, F.coalesce(low, F.lit(0.0)) * katal).alias("alp_range_low_u"),
        F.when(is_alp, F.substring(effective, 1, 4).cast("int")).alias("alp_year"),
        F.when(rt == "Patient", field("$.birthDate")).alias("birth"),
        F.when(
            considered & med_use,
            F.nullif(F.regexp_extract(field("$.medicationReference.reference"), "Medication/([^/]+)", 1), F.lit("")),
        ).alias("med_ref"),
        (considered & F.coalesce(med_use & line.rlike(pf.ANTIRESORPTIVE), F.lit(False))).alias("antiresorptive"),
        F.when(rt == "Medication", field("$.id")).alias("med_id"),
        F.when(rt == "Medication", line.rlike(pf.ASFOTASE)).alias("med_sign"),
        F.when(rt == "Medication", line.rlike(pf.ANTIRESORPTIVE)).alias("med_antiresorptive"),
        F.when(rt == "Medication", line).alias("med_line"),
    )


def candidates_frame(facts: Any, limits: pf.Thresholds) -> Any:
    """Return the candidate patients, as DuckDB's candidates_sql selects them."""
    from pyspark.sql import functions as F

    year = F.substring("birth", 1, 4).cast("int")
    births = (
        facts.where((F.col("rt") == "Patient") & F.col("birth").isNotNull())
        .groupBy("patient")
        .agg(
            F.when(F.max(year.isNull()), F.lit(None)).otherwise(F.max(year)).alias("birth_year"),
            F.lit(True).alias("born"),
        )
    )
    medications = (
        facts.where(F.col("med_sign") & F.col("med_id").isNotNull())
        .select(F.col("med_id").alias("asfotase_med"))
        .distinct()
    )
    antiresorptives = (
        facts.where(F.col("med_antiresorptive") & F.col("med_id").isNotNull())
        .select(F.col("med_id").alias("antiresorptive_med"))
        .distinct()
    )
    marked = (
        facts.where(F.col("patient").isNotNull())
        .join(medications, F.col("med_ref") == F.col("asfotase_med"), "left")
        .join(antiresorptives, F.col("med_ref") == F.col("antiresorptive_med"), "left")
        .join(births, "patient", "left")
    )
    child = (
        F.col("born")
        & (F.col("alp_u") <= F.greatest(F.lit(limits.child_alp_u_per_l), F.col("alp_range_low_u")))
        & (
            F.col("birth_year").isNull()
            | F.col("alp_year").isNull()
            | ((F.col("alp_year") - F.col("birth_year")) <= limits.adult_age_years)
        )
    )
    chosen = marked.where(
        (F.col("sign") & (F.col("inr").isNull() | (F.col("inr") >= limits.inr)))
        | F.col("asfotase_med").isNotNull()
        | F.coalesce(F.col("antiresorptive"), F.lit(False))
        | F.col("antiresorptive_med").isNotNull()
        | (F.col("alp_u") <= limits.adult_alp_u_per_l)
        | F.coalesce(child, F.lit(False))
    )
    return chosen.select("patient").distinct()


def antiresorptive_patients(facts: Any) -> int:
    """Return how many patients have any antiresorptive record, as DuckDB counts them."""
    from pyspark.sql import functions as F

    medications = (
        facts.where(F.col("med_antiresorptive") & F.col("med_id").isNotNull())
        .select(F.col("med_id").alias("ar_med"))
        .distinct()
    )
    marked = facts.where(F.col("patient").isNotNull()).join(medications, F.col("med_ref") == F.col("ar_med"), "left")
    return marked.where(F.col("antiresorptive") | F.col("ar_med").isNotNull()).select("patient").distinct().count()


def review_groups(
    groups: Iterable[tuple[str, Iterable[str]]], medications: Any, today: date, policy: Any
) -> Iterable[PatientResult]:
    """Apply the rule to each patient group of a partition (runs on the executors)."""
    for patient, lines in groups:
        yield review_lines(patient, sorted(lines), medications.value, today, policy)


def audit(
    input_dir: Path,
    *,
    today: date,
    policy: Any,
    since: date | None = None,
    progress: Progress | None = None,
    master: str = "local[*]",
    temp_dir: Path | None = None,
) -> AuditRun:
    """Run the audit over the NDJSON files under `input_dir` with Spark."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    progress = progress or Progress(enabled=False)
    files = ndjson_files(input_dir)
    stats = ScanStats(files=len(files))
    if not files:
        return AuditRun(stats, [])
    with tempfile.TemporaryDirectory(dir=temp_dir, prefix="alp-guard-spark-") as work:
        spark = start_spark(master, Path(work))
        bar = progress.bar(total=3, unit="step", desc="spark")
        try:
            lines = lines_frame(spark, files, since)
            facts = facts_frame(lines).persist(StorageLevel.MEMORY_AND_DISK)
            stats.resources = {
                row["rt"]: row["count"]
                for row in facts.where(F.col("rt").isNotNull()).groupBy("rt").count().orderBy("rt").collect()
            }
            stats.patients = facts.where(F.col("rt") == "Patient").select("patient").distinct().count()
            broken = {row["file"] for row in facts.where(F.col("rt").isNull()).select("file").distinct().collect()}
            bar.update(1)
            candidates = candidates_frame(facts, pf.thresholds(policy)).persist(StorageLevel.MEMORY_AND_DISK)
            stats.candidates = candidates.count()
            stats.antiresorptive_patients = antiresorptive_patients(facts)
            wanted = (
                facts.join(candidates, "patient")
                .where(F.col("med_ref").isNotNull())
                .select(F.col("med_ref").alias("med_id"))
                .distinct()
            )
            medications = {
                row["med_id"]: row["med_line"]
                for row in facts.where(F.col("rt") == "Medication")
                .join(wanted, "med_id")
                .groupBy("med_id")
                .agg(F.min("med_line").alias("med_line"))
                .collect()
            }
            bar.update(1)
            shared = spark.sparkContext.broadcast({k: json.loads(v) for k, v in medications.items()})
            chosen = (
                lines.where(
                    F.col("considered")
                    & F.col("rt").isin(*pf.PATIENT_TYPES)
                    & ((F.col("rt") != "Observation") | F.col("line").rlike(pf.OBSERVATION_CODE))
                )
                .join(candidates, "patient")
                .select("patient", "line")
            )
            results = (
                chosen.rdd.map(lambda row: (row[0], row[1]))
                .groupByKey()
                .mapPartitions(lambda groups: review_groups(groups, shared, today, policy))
                .collect()
            )
            bar.update(1)
        finally:
            bar.close()
            spark.stop()
    name_malformed(stats, input_dir, [f for f in files if f.resolve().as_uri() in broken or str(f) in broken])
    return AuditRun(stats, sorted(results, key=lambda r: r.patient_id))
