"""The one-pass reader agrees with the fhir.resources-based read on every element the rules use.

Every resource of the FHIR fixtures and examples, and resources generated valid and odd (missing elements, wrong
types, zone-less dates, unknown units, dataAbsentReason, objects for lists), go through both reads
(hooks/extract.py, and tests/fhir_reference.py: fhir.resources validation with repair, then a mapper over its
models). The records must be equal; for a resource that cannot be read, the legible codes, date and status too (the
reason is worded differently). Deliberate differences: a JSON number where a date is due (fhir.resources reads it
as seconds since 1970, the reader refuses it) and a string holding a JSON object where an object is due
(fhir.resources parses it) are not generated; objects for lists nested deeper than the reference's four rounds of
repair are read by the reader and not compared.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hooks import extract
from hooks.evidence import may_matter
from tests import fhir_reference as reference
from tests.conftest import FIXTURES

ROOT = Path(__file__).resolve().parent.parent
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED = "http://snomed.info/sct"
MEDICATION_KINDS = extract.MEDICATION_SOURCES


def fixture_resources() -> list[dict]:
    """Every resource in the FHIR fixtures and examples, Bundles unpacked."""
    found: list[dict] = []
    paths = sorted((FIXTURES / "fhir").glob("*.json")) + sorted((ROOT / "examples" / "fhir").glob("*.json"))
    for path in paths:
        document = json.loads(path.read_text())
        entries = document.get("entry") if document.get("resourceType") == "Bundle" else None
        found += [e["resource"] for e in entries or () if isinstance(e.get("resource"), dict)] or [document]
    return found


FIXTURE_RESOURCES = fixture_resources()
FIXTURE_MEDICATIONS = extract.index_medications(FIXTURE_RESOURCES)


def without_reasons(unreadable: list) -> list:
    """The Unreadable entries with their reason blanked: only the wording may differ."""
    return [dataclasses.replace(u, reason="") for u in unreadable]


def gave_up(unreadable: list) -> bool:
    """Return whether fhir.resources gave up after four rounds of repair (the reader repairs at any depth)."""
    return any("after repair" in u.reason for u in unreadable)


def shown(resource: Any) -> str:
    """Return the resource as JSON, to name a disagreement."""
    return json.dumps(resource, default=str)


def both(read_new: Any, read_reference: Any, resource: dict) -> tuple[Any, Any]:
    """Return both reads of a deep copy of `resource` each, so that neither can change what the other sees."""
    return read_new(copy.deepcopy(resource)), read_reference(copy.deepcopy(resource))


def assert_same_read(resource: dict, medications: dict | None = None) -> None:
    """Assert that the two reads give the same records (and the same unreadable entries) for one resource."""
    medications = FIXTURE_MEDICATIONS if medications is None else medications
    kind = resource.get("resourceType") if isinstance(resource, dict) else None
    if kind == "Observation":
        loincs = frozenset(c.code for c in extract.raw_codes(resource.get("code")))
        new, old = both(
            lambda r: extract.read_lab_results([r], loincs), lambda r: reference.read_lab_results([r], loincs), resource
        )
        if gave_up(old[1]):
            return
        assert (new[0], without_reasons(new[1])) == (old[0], without_reasons(old[1])), shown(resource)
    elif kind in MEDICATION_KINDS:
        new, old = both(
            lambda r: extract.read_medication_uses([r], medications),
            lambda r: reference.read_medication_uses([r], medications),
            resource,
        )
        if gave_up(old[1]):
            return
        assert (new[0], without_reasons(new[1])) == (old[0], without_reasons(old[1])), shown(resource)
    elif kind == "Condition":
        new, old = both(extract.read_conditions, reference.read_conditions, [resource])  # type: ignore[arg-type]
        if gave_up(old[1]):
            return
        assert (new[0], without_reasons(new[1])) == (old[0], without_reasons(old[1])), shown(resource)
    elif kind == "Encounter":
        new, old = both(extract.read_encounters, reference.read_encounters, [resource])  # type: ignore[arg-type]
        assert new == old, shown(resource)
    elif kind == "Patient":
        new, old = both(lambda r: extract.read_patient(r, "p"), lambda r: reference.read_patient(r, "p"), resource)
        assert new == old, shown(resource)
    elif kind == "Medication":
        request = {
            "resourceType": "MedicationRequest",
            "status": "active",
            "intent": "order",
            "subject": {"reference": "Patient/p"},
            "medicationReference": {"reference": "Medication/target", "display": "as ordered"},
        }
        assert_same_read(request, {"Medication/target": resource})


def test_every_fixture_resource_reads_the_same():
    kinds = {r.get("resourceType") for r in FIXTURE_RESOURCES}
    assert len(FIXTURE_RESOURCES) > 100 and {"Observation", "MedicationRequest", "Condition", "Patient"} <= kinds
    for resource in FIXTURE_RESOURCES:
        assert_same_read(resource)


def test_every_fixture_resource_reads_the_same_with_objects_for_lists_and_zone_less_dates():
    for resource in FIXTURE_RESOURCES:
        variant = copy.deepcopy(resource)
        for key in ("referenceRange", "interpretation", "dosageInstruction"):
            if isinstance(variant.get(key), list) and variant[key]:
                variant[key] = variant[key][0]
        for key in ("effectiveDateTime", "authoredOn", "recordedDate", "onsetDateTime"):
            if isinstance(variant.get(key), str) and len(variant[key]) > 19:
                variant[key] = variant[key][:19]
        assert_same_read(variant)


# Generated resources: valid ones, in the many shapes R4 allows and sloppy clients send, then up to two elements
# anywhere in them replaced by an odd value or removed.

TEXT = st.sampled_from(["x", "Alkaline phosphatase", "\u200bALP", " spaced "])
DATES = st.sampled_from(
    [
        "2025-09-30",
        "2025-09",
        "2025",
        "2025-09-30T10:00:00Z",
        "2025-09-30T23:30:00-05:00",
        "2025-09-30T10:00:00.123456789+14:00",
        "2025-09-30T10:00:00",  # no zone: the Sandbox
        "2016-12-31T23:59:60Z",  # a leap second
    ]
)
DECIMALS = st.sampled_from([28, 28.5, "28", 1e-7, -3, 0, 1.0, 1e300])
UNITS = st.sampled_from(["U/L", "mg/dL", "a", "mo", "years", "wk", "d", "days", "h", "foo"])
ODD_VALUES = [
    None,
    "",
    " x",
    "a  b",
    3,
    2.5,
    True,
    "thirty",
    "yesterday",
    "2025-09-30T10:00",
    "2025-02-30",
    "2025-13",
    "2025-09-30t10:00:00z",
    " 28",
    "perhaps",
    "x",
    [None],
    [],
    {},
    [{"x": 1}],
]
REMOVE = object()
# Where fhir.resources reads a JSON number as seconds since 1970, and the reader refuses it (nothing invented).
DATE_ELEMENTS = frozenset(
    {"issued", "authoredOn", "start", "end", "whenPrepared", "whenHandedOver", "dateAsserted", "recordedDate"}
    | {"birthDate", "effectiveDateTime", "effectiveInstant", "onsetDateTime"}
)


def optional(**elements: st.SearchStrategy) -> st.SearchStrategy[dict]:
    """Dicts in which each element may be present or absent."""
    return st.fixed_dictionaries({}, optional=elements)


def listed(item: st.SearchStrategy) -> st.SearchStrategy:
    """A 0..* element as R4 wants it (a list), or as sloppy clients send it (a lone object)."""
    return st.lists(item, min_size=1, max_size=2) | item


CODING = optional(
    system=st.sampled_from([LOINC, RXNORM, SNOMED, "http://example.org"]),
    code=st.sampled_from(["6768-6", "L", "final", "confirmed", "active", "904431", "360792001", "IMP", "a b"]),
    display=TEXT,
    version=TEXT,
    userSelected=st.sampled_from([True, False, "yes", 0]),
)
CONCEPT = optional(coding=listed(CODING), text=TEXT)
QUANTITY = optional(
    value=DECIMALS,
    unit=UNITS,
    code=UNITS,
    system=st.just("http://unitsofmeasure.org"),
    comparator=st.sampled_from(["<", ">=", "~"]),
)
PERIOD = optional(start=DATES, end=DATES)
REFERENCE = optional(
    reference=st.sampled_from(["Encounter/e1", "Patient/p", "#med", "Medication/target", "Medication/elsewhere"]),
    display=TEXT,
)
LOINC_CONCEPT = st.builds(
    lambda code, extra, text: {"coding": [{"system": LOINC, "code": code}, *extra], "text": text},
    st.sampled_from(["6768-6", "1783-0"]),
    st.lists(CODING, max_size=1),
    TEXT,
)
REFERENCE_RANGE = optional(
    low=QUANTITY, high=QUANTITY, age=optional(low=QUANTITY, high=QUANTITY), appliesTo=listed(CONCEPT), text=TEXT
)
OBSERVATION = st.builds(
    lambda base, status, code, value, effective: {
        "resourceType": "Observation",
        "status": status,
        "code": code,
        **value,
        **effective,
        **base,
    },
    optional(
        id=st.sampled_from(["alp-1", "a.b-2"]),
        issued=st.sampled_from(["2025-10-01T08:00:00Z", "2025-10-01T08:00:00"]),
        dataAbsentReason=CONCEPT,
        referenceRange=listed(REFERENCE_RANGE),
        interpretation=listed(CONCEPT),
        encounter=REFERENCE,
        performer=st.just([{"reference": 12}]),  # invalid, and read by no rule
        triggeredBy=st.just([{"type": "reflex"}]),  # not R4
    ),
    st.sampled_from(["final", "amended", "preliminary", "entered-in-error", "weird"]),
    LOINC_CONCEPT,
    st.one_of(
        st.builds(lambda v: {"valueQuantity": v}, QUANTITY),
        st.builds(lambda v: {"valueString": v}, TEXT),
        st.builds(lambda v: {"valueCodeableConcept": v}, CONCEPT),
        st.builds(lambda v: {"valueInteger": v}, st.sampled_from([3, "3"])),
        st.builds(lambda v: {"valueBoolean": v}, st.sampled_from([True, "yes"])),
        st.builds(lambda v: {"valueRange": v}, optional(low=QUANTITY, high=QUANTITY)),
        st.just({}),
    ),
    st.one_of(
        st.builds(lambda v: {"effectiveDateTime": v}, DATES),
        st.builds(lambda v: {"effectivePeriod": v}, PERIOD),
        st.builds(lambda v: {"effectiveInstant": v}, st.just("2025-09-30T10:00:00Z")),
        st.just({}),
    ),
)
MEDICATION_CONCEPT = st.builds(
    lambda code, text: {"coding": [{"system": RXNORM, "code": code, "display": "alendronic acid 70 MG"}], "text": text},
    st.sampled_from(["904431", "993452"]),
    TEXT,
)
DOSAGE = optional(
    text=TEXT,
    sequence=st.just(1),
    route=CONCEPT,
    doseAndRate=listed(optional(doseQuantity=QUANTITY, type=CONCEPT)),
)
MEDICATION_USE = st.builds(
    lambda kind, status, subject, medication, base: {
        "resourceType": kind,
        "status": status,
        "subject": subject,
        **medication,
        **base,
    },
    st.sampled_from(MEDICATION_KINDS),
    st.sampled_from(["active", "completed", "stopped"]),
    REFERENCE,
    st.one_of(
        st.builds(lambda v: {"medicationCodeableConcept": v}, MEDICATION_CONCEPT | CONCEPT),
        st.builds(lambda v: {"medicationReference": v}, REFERENCE),
    ),
    optional(
        id=st.sampled_from(["mr-1", "a.b"]),
        intent=st.just("order"),
        contained=listed(st.just({"resourceType": "Medication", "id": "med", "code": {"text": "Fosamax 70 mg"}})),
        authoredOn=DATES,
        dispenseRequest=optional(
            validityPeriod=PERIOD, expectedSupplyDuration=QUANTITY, numberOfRepeatsAllowed=st.just(1)
        ),
        dosageInstruction=listed(DOSAGE),
        dosage=listed(DOSAGE) | optional(dose=QUANTITY, route=CONCEPT),
        effectiveDateTime=DATES,
        effectivePeriod=PERIOD,
        dateAsserted=DATES,
        daysSupply=QUANTITY,
        whenHandedOver=DATES,
        whenPrepared=DATES,
    ),
)
MEDICATION = st.builds(
    lambda base: {"resourceType": "Medication", **base},
    optional(
        id=st.just("target"),
        code=MEDICATION_CONCEPT | CONCEPT,
        ingredient=listed(optional(itemCodeableConcept=CONCEPT, strength=optional(numerator=QUANTITY))),
    ),
)
CONDITION = st.builds(
    lambda subject, onset, base: {"resourceType": "Condition", "subject": subject, **onset, **base},
    REFERENCE,
    st.one_of(
        st.builds(lambda v: {"onsetDateTime": v}, DATES),
        st.builds(lambda v: {"onsetPeriod": v}, PERIOD),
        st.builds(lambda v: {"onsetString": v}, TEXT),
        st.builds(lambda v: {"onsetAge": v}, QUANTITY),
        st.just({}),
    ),
    optional(
        id=st.sampled_from(["c-1", "a.b"]),
        code=CONCEPT,
        verificationStatus=CONCEPT,
        clinicalStatus=CONCEPT,
        recordedDate=DATES,
        abatementDateTime=st.just("spring 2019"),  # invalid, and read by no rule
    ),
)
PATIENT = st.builds(
    lambda base: {"resourceType": "Patient", **base},
    optional(
        id=st.sampled_from(["p", "a.b"]),
        birthDate=st.sampled_from(["1961-04-12", "1961-04", "1961", "2020-02-29"]),
        gender=st.sampled_from(["male", "female", "other", "unknown", "M"]),
        telecom=st.just([{"value": ""}]),  # invalid, and read by no rule
    ),
)
ENCOUNTER = st.builds(
    lambda status, coding, base: {"resourceType": "Encounter", "status": status, "class": coding, **base},
    st.sampled_from(["finished", "in-progress"]),
    CODING,
    optional(id=st.sampled_from(["e1", "a.b"]), period=PERIOD, subject=REFERENCE),
)


def element_paths(node: Any, path: tuple = ()) -> list[tuple]:
    """Return the path of every element below `node` (keys and list indexes), except resourceType."""
    found = []
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        if key != "resourceType":
            found.append((*path, key))
            found += element_paths(child, (*path, key))
    return found


@st.composite
def odd(draw: st.DrawFn, valid: st.SearchStrategy[dict]) -> dict:
    """A valid resource with up to two of its elements, at any depth, made odd or removed."""
    resource = copy.deepcopy(draw(valid))  # st.just gives the same object every time
    for _ in range(draw(st.integers(0, 2))):
        paths = element_paths(resource)
        if not paths:
            break
        *parents, last = draw(st.sampled_from(paths))
        parent = resource
        for step in parents:
            parent = parent[step]
        replacement = draw(st.sampled_from([REMOVE, *ODD_VALUES]))
        if last in DATE_ELEMENTS and type(replacement) in (int, float):
            continue
        if replacement is REMOVE:
            del parent[last]
        else:
            parent[last] = copy.deepcopy(replacement)
    return resource


SETTINGS = settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(odd(OBSERVATION))
def test_generated_observations_read_the_same(observation):
    assert_same_read(observation)


@SETTINGS
@given(odd(MEDICATION_USE))
def test_generated_medication_uses_read_the_same(resource):
    assert_same_read(resource)


@SETTINGS
@given(odd(MEDICATION))
def test_generated_medications_read_the_same(medication):
    assert_same_read(medication)


@SETTINGS
@given(odd(CONDITION))
def test_generated_conditions_read_the_same(condition):
    assert_same_read(condition)


@SETTINGS
@given(odd(PATIENT | ENCOUNTER))
def test_generated_patients_and_encounters_read_the_same(resource):
    assert_same_read(resource)


def assert_look_keeps_what_matters(resource: dict, medications: dict) -> None:
    """Assert that the cheap look at a medication resource passes over it only when its read would not matter."""
    named = extract.named_drug(copy.deepcopy(resource), medications)
    if named is None or may_matter(named):
        return
    orders, _ = extract.read_medication_uses([copy.deepcopy(resource)], medications)
    assert not any(may_matter(order) for order in orders), shown(resource)


def test_the_look_at_fixture_medications_keeps_what_matters():
    for resource in FIXTURE_RESOURCES:
        if isinstance(resource, dict) and resource.get("resourceType") in MEDICATION_KINDS:
            assert_look_keeps_what_matters(resource, FIXTURE_MEDICATIONS)


@SETTINGS
@given(odd(MEDICATION_USE), odd(MEDICATION))
def test_the_look_at_generated_medications_keeps_what_matters(resource, medication):
    assert_look_keeps_what_matters(resource, {**FIXTURE_MEDICATIONS, "Medication/target": medication})
