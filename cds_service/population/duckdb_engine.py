"""The embedded engine: DuckDB reads the NDJSON, picks the candidate patients in SQL, and streams their records.

Two passes over the files: the first parses each line once for the members the prefilter reads and keeps one narrow
row per resource (type, patient, candidate signs) and the Medication resources; the second reads only the members
that place a line (type, patient, date) and keeps the candidates' resources, which stream in patient order, a batch
at a time, to the rule in worker processes. DuckDB sorts out of core (its memory limit and a spill directory), so
Python holds a few chunks of patients at a time.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb

from cds_service.population import prefilter as pf
from cds_service.population.ndjson import ndjson_files
from cds_service.population.progress import Progress
from cds_service.population.results import AuditRun, PatientResult, ScanStats, name_malformed
from cds_service.population.workers import RulePool
from hooks.policy import Policy

log = logging.getLogger("alp_guard.audit")
FETCH_ROWS = 5000
MEMORY_LIMIT = "1GB"


def literal(text: str) -> str:
    """Return a SQL string literal (DuckDB reads backslashes literally)."""
    return "'" + text.replace("'", "''") + "'"


def _in(values: tuple[str, ...]) -> str:
    """Return a SQL IN list of string literals."""
    return "(" + ", ".join(literal(v) for v in values) + ")"


# One parse of each line gives every member the filter reads (x[1] … x[13]).
PATHS = (
    "$.resourceType",
    "$.id",
    "$.subject.reference",
    "$.patient.reference",
    "$.meta.lastUpdated",
    "$.valueQuantity.value",
    "$.valueQuantity.code",
    "$.valueQuantity.unit",
    "$.birthDate",
    "$.medicationReference.reference",
    "$.effectiveDateTime",
    "$.effectivePeriod.start",
    "$.issued",
)


# The members that place a line (type, id, patient, date): all the second pass reads.
PLACING_PATHS = PATHS[:5]


def patient_of(reference: str) -> str:
    """Return SQL for the patient id in a reference: the first `Patient/<id>`; plain `Patient/<id>` without a regex."""
    rest = f"substr({reference}, 9)"
    fast = f"starts_with({reference}, 'Patient/') AND length({reference}) > 8 AND NOT contains({rest}, '/')"
    slow = f"nullif(regexp_extract({reference}, 'Patient/([^/]+)', 1), '')"
    return f"CASE WHEN {fast} THEN {rest} ELSE {slow} END"


def parsed_lines(files: list[Path], since: date | None, paths_read: tuple[str, ...] = PATHS) -> str:
    """Return a query of the files' non-blank lines with their members, type, patient and whether `since` keeps them."""
    names = "[" + ", ".join(literal(str(f)) for f in files) + "]"
    paths = "[" + ", ".join(literal(p) for p in paths_read) + "]"
    kept = (
        "TRUE"
        if since is None
        else (f"(rt IN ('Patient', 'Medication') OR x[5] IS NULL OR x[5] >= {literal(since.isoformat())})")
    )
    return f"""
    SELECT file, line, x, rt, patient, {kept} AS considered FROM (
      SELECT file, line, x, rt,
        CASE WHEN rt = 'Patient' THEN x[2] ELSE {patient_of("coalesce(x[3], x[4])")} END AS patient
      FROM (
        SELECT file, line, x, CASE WHEN regexp_matches(x[1], '^[A-Za-z]+$') AND regexp_matches(line, '^\\s*\\{{')
                                   THEN x[1] END AS rt
        FROM (
          SELECT filename AS file, line, TRY(json_extract_string(line, {paths})) AS x
          FROM read_csv({names}, columns={{'line': 'VARCHAR'}}, delim={literal(chr(1))}, quote='', escape='',
                        header=false, auto_detect=false, filename=true, max_line_size=8388608, strict_mode=false)
          -- blank: only RE2's white space (a subset of Python's), so that no line Python calls malformed is blank here
          WHERE line IS NOT NULL AND regexp_matches(line, '\\S')
        )
      )
    )"""


def _facts_select(files: list[Path], since: date | None) -> str:
    """Return the first pass's select: one narrow row per line, with the candidate signs of the prefilter."""
    value = "TRY_CAST(x[6] AS DOUBLE)"
    unit = "coalesce(nullif(x[7], ''), x[8])"
    low = (
        "list_max(list_transform(json_extract_string(line, '$.referenceRange[*].low.value'), "
        "lambda v: TRY_CAST(v AS DOUBLE)))"
    )
    katal = (
        f"CASE WHEN regexp_matches(coalesce(json_extract(line, '$.referenceRange')::VARCHAR, ''), "
        f"{literal(pf.KATAL_IN_RANGE)}) THEN 60 ELSE 1 END"
    )
    # Each regular expression runs once, and only on the lines of its type (CASE evaluates a branch on its rows only).
    observation = "considered AND rt = 'Observation'"
    med_use = f"considered AND rt IN {_in(pf.MEDICATION_USE_TYPES)}"
    return f"""
    SELECT file, rt, patient, considered,
      coalesce(hpp OR asfotase OR (is_inr AND {value} IS NOT NULL), FALSE) AS sign,
      CASE WHEN is_inr THEN {value} END AS inr,
      CASE WHEN is_alp THEN {value} * {pf.unit_factor_sql(unit)} END AS alp_u,
      CASE WHEN is_alp THEN coalesce({low}, 0) * {katal} END AS alp_range_low_u,
      CASE WHEN is_alp THEN TRY_CAST(substr(coalesce(x[11], x[12], x[13]), 1, 4) AS INTEGER) END AS alp_year,
      CASE WHEN rt = 'Patient' THEN x[9] END AS birth,
      CASE WHEN is_use THEN nullif(regexp_extract(x[10], 'Medication/([^/]+)', 1), '') END AS med_ref,
      antiresorptive,
      CASE WHEN rt = 'Medication' THEN x[2] END AS med_id,
      CASE WHEN rt = 'Medication' THEN med_sign END AS med_sign,
      CASE WHEN rt = 'Medication' THEN med_antiresorptive END AS med_antiresorptive,
      CASE WHEN rt = 'Medication' THEN line END AS med_line
    FROM (
      SELECT file, line, x, rt, patient, considered, is_use,
        CASE WHEN {observation} THEN regexp_matches(line, {literal(pf.ALP_CODE)}) ELSE FALSE END AS is_alp,
        CASE WHEN {observation} THEN regexp_matches(line, {literal(pf.INR_CODE)}) ELSE FALSE END AS is_inr,
        CASE WHEN considered AND rt = 'Condition' THEN regexp_matches(line, {literal(pf.HPP_CODE)})
             ELSE FALSE END AS hpp,
        CASE WHEN is_use THEN regexp_matches(line, {literal(pf.ASFOTASE)}) ELSE FALSE END AS asfotase,
        CASE WHEN is_use THEN regexp_matches(line, {literal(pf.ANTIRESORPTIVE)}) ELSE FALSE END AS antiresorptive,
        CASE WHEN rt = 'Medication' THEN regexp_matches(line, {literal(pf.ASFOTASE)}) END AS med_sign,
        CASE WHEN rt = 'Medication' THEN regexp_matches(line, {literal(pf.ANTIRESORPTIVE)}) END AS med_antiresorptive
      FROM (SELECT *, coalesce({med_use}, FALSE) AS is_use FROM ({parsed_lines(files, since)}))
    )"""


def candidates_sql(limits: pf.Thresholds) -> str:
    """Return the candidate patients: a sign, an asfotase or antiresorptive record, or an ALP that may be low.

    A child's limits are higher: they apply to a result drawn in a year at most `adult_age_years` after the birth
    year, or when either year cannot be read. Without a birth date the rule judges as for an adult.
    """
    year = "TRY_CAST(substr(birth, 1, 4) AS INTEGER)"
    return f"""
      CREATE TEMP TABLE candidates AS
      WITH births AS (
        SELECT patient, CASE WHEN bool_or({year} IS NULL) THEN NULL ELSE max({year}) END AS birth_year
        FROM facts WHERE rt = 'Patient' AND birth IS NOT NULL GROUP BY patient),
      asfotase_medications AS (SELECT med_id FROM facts WHERE med_sign AND med_id IS NOT NULL),
      antiresorptive_medications AS (SELECT med_id FROM facts WHERE med_antiresorptive AND med_id IS NOT NULL)
      SELECT DISTINCT f.patient FROM facts f LEFT JOIN births b ON b.patient = f.patient
      WHERE f.patient IS NOT NULL AND (
        (sign AND (inr IS NULL OR inr >= {limits.inr}))
        OR med_ref IN (SELECT med_id FROM asfotase_medications)
        OR antiresorptive OR med_ref IN (SELECT med_id FROM antiresorptive_medications)
        OR alp_u <= {limits.adult_alp_u_per_l}
        OR (b.patient IS NOT NULL AND alp_u <= greatest({limits.child_alp_u_per_l}, alp_range_low_u)
            AND (b.birth_year IS NULL OR alp_year IS NULL OR alp_year - b.birth_year <= {limits.adult_age_years})))"""


ANTIRESORPTIVE_PATIENTS = """
  SELECT count(DISTINCT patient) FROM facts
  WHERE patient IS NOT NULL AND (antiresorptive OR med_ref IN (
    SELECT med_id FROM facts WHERE med_antiresorptive AND med_id IS NOT NULL))"""


def audit(
    input_dir: Path,
    *,
    today: date,
    policy: Policy,
    since: date | None = None,
    progress: Progress | None = None,
    temp_dir: Path | None = None,
    workers: int = 1,
) -> AuditRun:
    """Run the audit over the NDJSON files under `input_dir` with DuckDB, the rule in `workers` processes."""
    progress = progress or Progress(enabled=False)
    files = ndjson_files(input_dir)
    stats = ScanStats(files=len(files))
    # The workers fork before DuckDB starts its threads.
    with (
        RulePool(workers, today, policy) as rule,
        tempfile.TemporaryDirectory(dir=temp_dir, prefix="alp-guard-duckdb-") as spill,
    ):
        con = duckdb.connect(
            config={"memory_limit": MEMORY_LIMIT, "temp_directory": spill, "preserve_insertion_order": False}
        )
        try:
            con.execute("SET enable_progress_bar = false")  # ours shows on a terminal; DuckDB's would print anywhere
            started = time.perf_counter()
            first_pass(con, files, since, progress)
            con.execute(candidates_sql(pf.thresholds(policy)))
            collect_stats(con, stats, input_dir, files)
            medications = needed_medications(con)
            scanned = time.perf_counter()
            stage_candidate_lines(con, files, since)
            staged = time.perf_counter()
            results = list(review_candidates(con, rule, medications, progress, stats))
            log.info(
                "duckdb engine: first pass %.1f s, second pass %.1f s, rule %.1f s (processes: %d)",
                scanned - started,
                staged - scanned,
                time.perf_counter() - staged,
                rule.workers,
            )
        finally:
            con.close()
    return AuditRun(stats, results)


def first_pass(con: duckdb.DuckDBPyConnection, files: list[Path], since: date | None, progress: Progress) -> None:
    """Read every file once into the narrow `facts` table, a file at a time for the progress bar."""
    bar = progress.bar(total=len(files), unit="file", desc="files")
    created = False
    for path in files:
        select = _facts_select([path], since)
        con.execute(f"INSERT INTO facts {select}" if created else f"CREATE TEMP TABLE facts AS {select}")
        created = True
        bar.update(1)
        bar.set_postfix(resources=scalar(con, "SELECT count(*) FROM facts"))
    bar.close()
    if not created:
        con.execute(
            "CREATE TEMP TABLE facts (file VARCHAR, rt VARCHAR, patient VARCHAR, considered BOOLEAN, "
            "sign BOOLEAN, inr DOUBLE, alp_u DOUBLE, alp_range_low_u DOUBLE, alp_year INTEGER, birth VARCHAR, "
            "med_ref VARCHAR, antiresorptive BOOLEAN, med_id VARCHAR, med_sign BOOLEAN, med_antiresorptive BOOLEAN, "
            "med_line VARCHAR)"
        )


def scalar(con: duckdb.DuckDBPyConnection, query: str) -> int:
    """Return the one number a counting query gives."""
    row = con.execute(query).fetchone()
    return int(row[0]) if row is not None else 0


def collect_stats(con: duckdb.DuckDBPyConnection, stats: ScanStats, root: Path, files: list[Path]) -> None:
    """Fill in the counts, and name the malformed lines of the files DuckDB found any in."""
    stats.resources = dict(
        con.execute("SELECT rt, count(*) FROM facts WHERE rt IS NOT NULL GROUP BY rt ORDER BY rt").fetchall()
    )
    stats.patients = scalar(con, "SELECT count(DISTINCT patient) FROM facts WHERE rt = 'Patient'")
    stats.candidates = scalar(con, "SELECT count(*) FROM candidates")
    stats.antiresorptive_patients = scalar(con, ANTIRESORPTIVE_PATIENTS)
    broken = {row[0] for row in con.execute("SELECT DISTINCT file FROM facts WHERE rt IS NULL").fetchall()}
    name_malformed(stats, root, [f for f in files if str(f) in broken])


def needed_medications(con: duckdb.DuckDBPyConnection) -> dict[str, dict]:
    """Return the Medication resources the candidates' therapy records reference, by id."""
    rows = con.execute("""
      SELECT med_id, min(med_line) FROM facts
      WHERE rt = 'Medication' AND med_id IN (
        SELECT DISTINCT med_ref FROM facts WHERE med_ref IS NOT NULL AND patient IN (SELECT patient FROM candidates))
      GROUP BY med_id""").fetchall()
    return {med_id: json.loads(line) for med_id, line in rows}


def candidate_lines_select(path: Path, since: date | None) -> str:
    """Return the second pass over one file: the candidates' resources the rule reads."""
    return f"""
    SELECT patient, line FROM ({parsed_lines([path], since, PLACING_PATHS)})
    WHERE considered AND rt IN {_in(pf.PATIENT_TYPES)} AND patient IN (SELECT patient FROM candidates)
      AND (rt <> 'Observation' OR regexp_matches(line, {literal(pf.OBSERVATION_CODE)}))"""


def grouped(cursor: duckdb.DuckDBPyConnection) -> Iterator[tuple[str, list[str]]]:
    """Yield (patient, lines) from a cursor ordered by patient, fetching a batch at a time."""
    current: str = ""
    lines: list[str] = []
    while rows := cursor.fetchmany(FETCH_ROWS):
        for patient, line in rows:
            if patient != current and lines:
                yield current, lines
                lines = []
            current = patient
            lines.append(line)
    if lines:
        yield current, lines


def stage_candidate_lines(con: duckdb.DuckDBPyConnection, files: list[Path], since: date | None) -> None:
    """Keep the candidates' resources in a table, a file at a time: DuckDB's read buffers stay those of one file."""
    con.execute("CREATE TEMP TABLE candidate_lines (patient VARCHAR, line VARCHAR)")
    for path in files:
        con.execute(f"INSERT INTO candidate_lines {candidate_lines_select(path, since)}")


def review_candidates(
    con: duckdb.DuckDBPyConnection,
    rule: RulePool,
    medications: dict[str, dict],
    progress: Progress,
    stats: ScanStats,
) -> Iterator[PatientResult]:
    """Apply the rule to each candidate patient's resources, streamed in patient order."""
    bar = progress.bar(total=stats.candidates, unit="patient", desc="patients")
    cursor = con.execute("SELECT patient, line FROM candidate_lines ORDER BY patient, line")
    for result in rule.review(grouped(cursor), medications):
        yield result
        bar.update(1)
    bar.close()
