"""What-if: measure the optimisations the profile suggests, without touching the source (patched in this process).

Variants, each applied on top of the previous one, timed (CPU time of the process) in-process with the Flask test client on the bench
payloads, and checked to give the same cards (indicator, summary, detail, suggestions; uuids aside):

- as-is: the service as it is in the tree;
- trim: validate with fhir.resources only the elements the rules read (plus the elements R4 requires and every
  value[x]/effective[x] choice, so required-element and one-of-many checks still run), instead of the whole
  resource. Observation, MedicationRequest, Condition;
- prefilter: in addition, skip model validation of Conditions whose raw codes are not HPP/Wilson codes, and of
  MedicationRequests that the service's own raw reader (`extract._legible_order`) sees as neither an antiresorptive
  nor asfotase alfa (none of the rules reads any other order or condition);
- depth: in addition, the JSON nesting-depth check done by an iterative walk over the containers of the decoded
  document (json.loads has already refused what would overflow its C stack), instead of two regex passes over the
  body text (cds_service/limits.py nesting_depth).

    .venv/bin/python bench/whatif.py             # about 1 minute
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness as h  # noqa: E402

sys.path.insert(0, str(h.SOURCE))
for _name in list(os.environ):
    if _name.startswith("CDS_"):
        del os.environ[_name]

import cds_service.api as api  # noqa: E402
import cds_service.limits as limits  # noqa: E402
import hooks.evidence as evidence  # noqa: E402
import hooks.extract as extract  # noqa: E402
import hooks.fhir_models as fhir_models  # noqa: E402
from cds_service import create_app  # noqa: E402
from hooks import medications as meds  # noqa: E402
from hooks import valuesets as vs  # noqa: E402

CASES = {"order-sign-typical": ("low-alp-order-sign", 25), "patient-view-typical": ("low-alp-patient-view", 25),
         "order-sign-heavy": ("low-alp-order-sign", 4), "patient-view-heavy": ("low-alp-patient-view", 4)}

# Elements the rules read (hooks/extract.py), the elements R4 requires, and whole choice groups.
KEEP = {
    "Observation": {"resourceType", "id", "status", "code", "issued", "dataAbsentReason", "referenceRange"},
    "MedicationRequest": {"resourceType", "id", "status", "intent", "subject", "medicationCodeableConcept",
                          "medicationReference", "contained", "authoredOn", "dispenseRequest"},
    "Condition": {"resourceType", "id", "code", "verificationStatus", "clinicalStatus", "subject"},
}
CHOICE_PREFIXES = {"Observation": ("value", "effective")}

ORIGINAL_VALIDATE = extract.validate
ORIGINAL_READ_CONDITIONS = evidence.read_conditions
ORIGINAL_READ_MEDICATION_REQUESTS = evidence.read_medication_requests
ORIGINAL_LOAD_JSON = api.load_json


def trimmed_validate(resource: dict):  # type: ignore[no-untyped-def]
    keep = KEEP.get(resource.get("resourceType")) if isinstance(resource, dict) else None
    if keep is None:
        return ORIGINAL_VALIDATE(resource)
    prefixes = CHOICE_PREFIXES.get(resource["resourceType"], ())
    return ORIGINAL_VALIDATE({k: v for k, v in resource.items() if k in keep or k.startswith(prefixes)})


CONDITION_CODES = (vs.HPP_CONDITION_SNOMED.codes | vs.HPP_CONDITION_ICD10CM_UNSPECIFIC.codes
                   | vs.WILSON_DISEASE_SNOMED.codes | vs.WILSON_DISEASE_ICD10CM.codes)


_raw_codes = getattr(extract, "raw_codes", None) or getattr(extract, "_raw_codes", None)
_legible_order = getattr(extract, "legible_order", None) or getattr(extract, "_legible_order", None)
# Proposals 1 and 2 landed in commit 180e584 (hooks/fhir_models.py `_read_elements`, hooks/evidence.py
# `may_matter_*`): on such a source the trim and prefilter variants have nothing left to do and are not run.
ALREADY_APPLIED = hasattr(fhir_models, "_read_elements") or hasattr(evidence, "may_matter_order")


def relevant_condition(resource: object) -> bool:
    if not isinstance(resource, dict) or resource.get("resourceType") != "Condition":
        return True  # let the original reader decide
    codes = _raw_codes(resource.get("code"))
    return not codes or any(c.code in CONDITION_CODES for c in codes)


def prefiltered_conditions(resources):  # type: ignore[no-untyped-def]
    return ORIGINAL_READ_CONDITIONS([r for r in resources or () if relevant_condition(r)])


def prefiltered_medication_requests(resources, medications):  # type: ignore[no-untyped-def]
    kept = []
    for resource in resources:
        if isinstance(resource, dict) and resource.get("resourceType") == "MedicationRequest":
            order = _legible_order(resource, medications)
            if (order.codes or order.names) and not (meds.antiresorptive_ingredients(order)
                                                     or meds.is_asfotase_alfa(order)):
                continue  # legible, and neither an antiresorptive nor asfotase alfa: no rule reads it
        kept.append(resource)
    return ORIGINAL_READ_MEDICATION_REQUESTS(kept, medications)


def walked_depth(document: object) -> int:
    """The nesting depth of a decoded JSON document: objects and arrays count one level each, as in limits."""
    best, stack = 0, [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > best:
            best = depth
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return best if isinstance(document, (dict, list)) else 0


def load_json_walked(raw: bytes, max_depth: int):  # type: ignore[no-untyped-def]
    """The service's own load_json (same decoding and number checks), its text depth scan replaced by a walk."""
    saved = limits.nesting_depth
    limits.nesting_depth = lambda _text: 0
    try:
        document = ORIGINAL_LOAD_JSON(raw, max_depth)
    finally:
        limits.nesting_depth = saved
    if walked_depth(document) > max_depth:
        raise limits.LimitExceeded(400, "the request body is nested too deeply")
    return document


def apply(variant: str) -> None:
    extract.validate = ORIGINAL_VALIDATE
    evidence.read_conditions = ORIGINAL_READ_CONDITIONS
    evidence.read_medication_requests = ORIGINAL_READ_MEDICATION_REQUESTS
    api.load_json = ORIGINAL_LOAD_JSON
    if variant in ("trim", "prefilter", "depth"):
        extract.validate = trimmed_validate
    if variant in ("prefilter", "depth"):
        evidence.read_conditions = prefiltered_conditions
        evidence.read_medication_requests = prefiltered_medication_requests
    if variant == "depth":
        api.load_json = load_json_walked


def comparable(cards: list[dict]) -> str:
    def strip(node):  # type: ignore[no-untyped-def]
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k != "uuid"}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node
    return json.dumps(strip(cards), sort_keys=True)


def main() -> None:
    payloads = h.ensure_payloads()
    tmp = tempfile.mkdtemp(prefix="alpbench-whatif-")
    app = create_app({"auth_mode": "none", "log_level": "WARNING", "database_url": f"sqlite:///{tmp}/db.sqlite3"})
    client = app.test_client()
    variants = ["as-is", "depth"] if ALREADY_APPLIED else ["as-is", "trim", "prefilter", "depth"]
    report: dict = {"machine": h.machine(), "command": "bench/whatif.py", "cases": {},
                    "proposals_1_2_already_in_source": ALREADY_APPLIED}
    print(f"machine: {report['machine']}")
    for name, (service, n) in CASES.items():
        body = payloads[name].read_bytes()
        url = f"/cds-services/{service}"
        timings: dict[str, list[float]] = {v: [] for v in variants}
        answers = {}
        for v in variants:
            apply(v)
            answer = client.post(url, data=body, content_type="application/json")
            if answer.status_code != 200:
                raise SystemExit(f"{name}, variant {v}: the service answered {answer.status_code}")
            answers[v] = comparable(answer.get_json()["cards"])
        for _ in range(5):  # interleave the variants so drift hits them alike
            for v in variants:
                apply(v)
                # CPU time of this process: what other processes on a shared machine do shows less in it than
                # in wall time (the SQLite commit's fsync wait is left out, which is the same for every variant).
                started = time.process_time()
                for _ in range(n):
                    client.post(url, data=body, content_type="application/json")
                timings[v].append((time.process_time() - started) / n)
        apply("as-is")
        base = h.median(timings["as-is"])
        case = {}
        for v in variants:
            ms = h.median(timings[v])
            case[v] = {"cpu_ms_per_request": 1000 * ms, "cpu_ms_per_round": [1000 * t for t in timings[v]], "ratio_to_as_is": ms / base, "same_cards": answers[v] == answers["as-is"]}
        report["cases"][name] = case
        print(f"{name:22s} " + "  ".join(f"{v} {c['cpu_ms_per_request']:6.1f} ms ({c['ratio_to_as_is']:.2f}x"
                                         f"{'' if c['same_cards'] else ', CARDS DIFFER'})" for v, c in case.items()))
    # One resource of each kind, full and trimmed: CPU time of one validation.
    typical = json.loads(payloads["order-sign-typical"].read_text())
    samples = {
        "Observation (ALP)": typical["prefetch"]["alp"]["entry"][0]["resource"],
        "MedicationRequest": typical["prefetch"]["medications"]["entry"][1]["resource"],
        "Condition": typical["prefetch"]["conditions"]["entry"][0]["resource"],
        "MedicationRequest (Sandbox draft, repaired)": typical["context"]["draftOrders"]["entry"][0]["resource"],
    }
    per_resource = {}
    for label, resource in samples.items():
        row = {}
        for variant, fn in (("full", ORIGINAL_VALIDATE), ("trimmed", trimmed_validate)):
            fn(dict(resource))
            started = time.process_time()
            for _ in range(300):
                fn(dict(resource))
            row[variant] = 1e6 * (time.process_time() - started) / 300
        per_resource[label] = row
        print(f"validate {label:45s} full {row['full']:6.0f} us   trimmed {row['trimmed']:6.0f} us")
    report["validate_us_per_resource"] = per_resource
    raw = payloads["order-sign-heavy"].read_text()
    document = json.loads(raw)
    assert walked_depth(document) == limits.nesting_depth(raw)
    depth_times = {}
    for label, fn in (("regex over the text (as-is)", lambda: limits.nesting_depth(raw)),
                      ("walk of the decoded document", lambda: walked_depth(document))):
        started = time.perf_counter()
        for _ in range(5):
            fn()
        depth_times[label] = 1000 * (time.perf_counter() - started) / 5
    report["nesting_depth_ms_heavy_body"] = depth_times
    print("nesting depth of the heavy body: " + ", ".join(f"{k} {v:.1f} ms" for k, v in depth_times.items()))
    app.extensions["alp_guard"].executor.shutdown(wait=True)
    shutil.rmtree(tmp, ignore_errors=True)
    path = h.save_result("whatif", report)
    print(f"results: {path}")


if __name__ == "__main__":
    main()
