"""Generate realistic CDS Hooks 2.0 requests with full prefetch for the benchmarks (FHIR R4 JSON).

Two patients, deterministic for a given date (seeded), dated relative to the day they are generated so that the
service's real clock sees them inside its 5-year and 12-month windows:

- typical: 30 total-ALP results over 5 years (persistently low, so cards are built and audited), 15
  MedicationRequests (one active alendronate, some with a contained Medication), 10 Conditions, the HPP work-up,
  safety labs (eGFR, vitamin D, calcium) and a liver panel;
- heavy: 600 Observations of mixed kinds per hook (ALP of three LOINC codes, bone-specific ALP, PLP, eGFR,
  CrCl, vitamin D, calcium, or INR, bilirubin, AST, ALT, and some codes no rule reads), 120 MedicationRequests,
  20 Conditions.

Each is written for order-sign (draft order Sandbox-shaped as tests/fixtures/fhir/draft-orders-sandbox-alendronate.json:
`category` as an object, which the service repairs), order-select, and patient-view, each with only the prefetch
keys that service declares (cds_service/services.py). Also the no-prefetch order-sign used by the fetch path, the
resources themselves (for the loopback FHIR server) and a feedback body.

    python bench/payloads.py --out bench/out/payloads
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import uuid
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

PATIENT_ID = "pat-bench-1"
FHIR_BASE = "https://ehr.example.org/fhir"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"

# LOINC code -> (display, unit, typical normal value, reference range (low, high) or None)
LABS: dict[str, tuple[str, str, float, tuple[float, float] | None]] = {
    "6768-6": ("Alkaline phosphatase [Enzymatic activity/volume] in Serum or Plasma", "U/L", 70, (40, 129)),
    "1783-0": ("Alkaline phosphatase [Enzymatic activity/volume] in Blood", "U/L", 70, (40, 129)),
    "77141-0": ("Alkaline phosphatase [Enzymatic activity/volume] in Serum, Plasma or Blood", "U/L", 70, (40, 129)),
    "1777-2": ("Alkaline phosphatase.bone [Enzymatic activity/volume] in Serum or Plasma", "U/L", 20, (11, 30)),
    "62236-5": ("Pyridoxal 5'-phosphate [Moles/volume] in Serum or Plasma", "nmol/L", 60, (20, 125)),
    "98979-8": (
        "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum, Plasma or Blood "
        "by Creatinine-based formula (CKD-EPI 2021)",
        "mL/min/{1.73_m2}",
        78,
        None,
    ),
    "2164-2": ("Creatinine renal clearance in 24 hour Urine and Serum or Plasma", "mL/min", 85, (75, 125)),
    "1989-3": ("25-Hydroxycalciferol [Mass/volume] in Serum or Plasma", "ng/mL", 32, (30, 100)),
    "17861-6": ("Calcium [Mass/volume] in Serum or Plasma", "mg/dL", 9.4, (8.6, 10.3)),
    "6301-6": ("INR in Platelet poor plasma by Coagulation assay", "{INR}", 1.0, (0.8, 1.2)),
    "1975-2": ("Bilirubin.total [Mass/volume] in Serum or Plasma", "mg/dL", 0.7, (0.1, 1.2)),
    "1920-8": ("Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma", "U/L", 24, (10, 40)),
    "1742-6": ("Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma", "U/L", 22, (7, 56)),
    # Codes no rule reads: a server that ignores the code filter sends them; the service must skip them cheaply.
    "2345-7": ("Glucose [Mass/volume] in Serum or Plasma", "mg/dL", 95, (70, 99)),
    "718-7": ("Hemoglobin [Mass/volume] in Blood", "g/dL", 13.2, (12, 15.5)),
    "2160-0": ("Creatinine [Mass/volume] in Serum or Plasma", "mg/dL", 0.9, (0.6, 1.1)),
}
UNIT_DISPLAY = {"{INR}": "INR", "mL/min/{1.73_m2}": "mL/min/1.73m2"}

DRUGS = [  # (RxNorm SCD code, display, status)
    ("197361", "amlodipine 5 MG Oral Tablet"),
    ("314076", "lisinopril 10 MG Oral Tablet"),
    ("617312", "atorvastatin 40 MG Oral Tablet"),
    ("860975", "metformin hydrochloride 500 MG Oral Tablet"),
    ("310798", "hydrochlorothiazide 25 MG Oral Tablet"),
    ("198211", "simvastatin 40 MG Oral Tablet"),
    ("313782", "acetaminophen 325 MG Oral Tablet"),
    ("308136", "amlodipine 2.5 MG Oral Tablet"),
    ("866924", "metoprolol tartrate 25 MG Oral Tablet"),
    ("283742", "esomeprazole 40 MG Delayed Release Oral Capsule"),
    ("312961", "simvastatin 20 MG Oral Tablet"),
    ("1049221", "acetaminophen 325 MG / oxycodone hydrochloride 5 MG Oral Tablet"),
    ("849574", "naproxen sodium 220 MG Oral Tablet"),
    ("308971", "calcium carbonate 1250 MG Oral Tablet"),
    ("636676", "cholecalciferol 1000 UNT Oral Tablet"),
]
CONDITIONS = [  # (system, code, display)
    (SNOMED, "64859006", "Osteoporosis"),
    (SNOMED, "38341003", "Hypertensive disorder"),
    (SNOMED, "44054006", "Diabetes mellitus type 2"),
    (SNOMED, "55822004", "Hyperlipidemia"),
    (SNOMED, "235595009", "Gastroesophageal reflux disease"),
    (SNOMED, "396275006", "Osteoarthritis"),
    (SNOMED, "35489007", "Depressive disorder"),
    (SNOMED, "195967001", "Asthma"),
    (SNOMED, "40930008", "Hypothyroidism"),
    (SNOMED, "431855005", "Chronic kidney disease stage 1"),
    (ICD10CM, "M81.0", "Age-related osteoporosis without current pathological fracture"),
    (ICD10CM, "E78.5", "Hyperlipidemia, unspecified"),
]


class Maker:
    """Builds FHIR resources for one patient with stable ids and a seeded random source."""

    def __init__(self, today: date, seed: int) -> None:
        self.today = today
        self.rng = random.Random(seed)
        self.counter = 0

    def next_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-{self.counter}"

    def instant(self, day: date, hour: int = 8) -> str:
        moment = datetime.combine(day, time(hour, self.rng.randrange(60)), tzinfo=timezone(timedelta(hours=-5)))
        return moment.isoformat()

    def observation(self, loinc: str, day: date, value: float, status: str = "final") -> dict[str, Any]:
        display, unit, _, ref = LABS[loinc]
        oid = self.next_id("obs")
        resource: dict[str, Any] = {
            "resourceType": "Observation",
            "id": oid,
            "meta": {"versionId": "1", "lastUpdated": f"{day.isoformat()}T16:05:00Z"},
            "identifier": [{"system": "urn:oid:1.2.840.114350.1.13.0.1.7.2.798268", "value": oid.upper()}],
            "status": status,
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                            "code": "laboratory",
                            "display": "Laboratory",
                        }
                    ],
                    "text": "Laboratory",
                }
            ],
            "code": {"coding": [{"system": LOINC, "code": loinc, "display": display}], "text": display.split(" [")[0]},
            "subject": {"reference": f"Patient/{PATIENT_ID}", "display": "Bench, Patient"},
            "encounter": {"reference": f"Encounter/enc-{self.rng.randrange(1000, 9999)}"},
            "effectiveDateTime": self.instant(day),
            "issued": f"{day.isoformat()}T16:05:00+00:00",
            "performer": [{"reference": "Organization/lab-1", "display": "Central Laboratory"}],
            "valueQuantity": {"value": value, "unit": UNIT_DISPLAY.get(unit, unit), "system": UCUM, "code": unit},
            "interpretation": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
                            "code": "L" if ref and value < ref[0] else "N",
                        }
                    ]
                }
            ],
        }
        if ref:
            resource["referenceRange"] = [
                {
                    "low": {"value": ref[0], "unit": UNIT_DISPLAY.get(unit, unit), "system": UCUM, "code": unit},
                    "high": {"value": ref[1], "unit": UNIT_DISPLAY.get(unit, unit), "system": UCUM, "code": unit},
                    "type": {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/referencerange-meaning",
                                "code": "normal",
                                "display": "Normal Range",
                            }
                        ]
                    },
                }
            ]
        return resource

    def value(self, loinc: str) -> float:
        _, _, normal, _ = LABS[loinc]
        return round(normal * self.rng.uniform(0.85, 1.15), 1 if normal < 20 else 0)

    def alp_series(self, count: int, codes: tuple[str, ...], years: float = 4.9) -> list[dict]:
        """ALP results spread over the window, about three quarters of them low (persistent pattern)."""
        span = int(365 * years)
        results = []
        for i in range(count):
            day = self.today - timedelta(days=7 + span * i // max(count - 1, 1))
            low = self.rng.random() < 0.75
            value = self.rng.randint(22, 34) if low else self.rng.randint(44, 62)
            results.append(self.observation(codes[i % len(codes)], day, value))
        return results

    def labs(self, loincs: tuple[str, ...], count: int, days: int) -> list[dict]:
        """Results of the given codes, newest first, spread over `days`."""
        out = []
        for i in range(count):
            loinc = loincs[i % len(loincs)]
            day = self.today - timedelta(days=1 + days * i // max(count, 1))
            out.append(self.observation(loinc, day, self.value(loinc)))
        return out

    def medication_request(
        self, index: int, status: str, authored: date, antiresorptive: bool = False, contained: bool = False
    ) -> dict[str, Any]:
        mid = self.next_id("mr")
        if antiresorptive:
            code, display = "904431", "alendronic acid 70 MG Oral Tablet"
        else:
            code, display = DRUGS[index % len(DRUGS)]
        concept = {"coding": [{"system": RXNORM, "code": code, "display": display}], "text": display}
        resource: dict[str, Any] = {
            "resourceType": "MedicationRequest",
            "id": mid,
            "meta": {"versionId": "1", "lastUpdated": f"{authored.isoformat()}T10:00:00Z"},
            "identifier": [{"system": "urn:oid:1.2.840.114350.1.13.0.1.7.2.798268", "value": mid.upper()}],
            "status": status,
            "intent": "order",
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category",
                            "code": "community",
                            "display": "Community",
                        }
                    ]
                }
            ],
            "subject": {"reference": f"Patient/{PATIENT_ID}", "display": "Bench, Patient"},
            "authoredOn": authored.isoformat(),
            "requester": {"reference": "Practitioner/prac-1", "display": "Dr. Example"},
            "dosageInstruction": [
                {
                    "text": "Take 1 tablet by mouth daily",
                    "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "wk" if antiresorptive else "d"}},
                    "route": {"coding": [{"system": SNOMED, "code": "26643006", "display": "Oral route"}]},
                    "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "tablet", "system": UCUM, "code": "{tbl}"}}],
                }
            ],
            "dispenseRequest": {
                "validityPeriod": {"start": authored.isoformat(), "end": (authored + timedelta(days=365)).isoformat()},
                "numberOfRepeatsAllowed": 3,
                "quantity": {"value": 90, "unit": "tablet", "system": UCUM, "code": "{tbl}"},
                "expectedSupplyDuration": {"value": 90, "unit": "days", "system": UCUM, "code": "d"},
            },
        }
        if contained:
            resource["contained"] = [{"resourceType": "Medication", "id": "med1", "code": concept}]
            resource["medicationReference"] = {"reference": "#med1", "display": display}
        else:
            resource["medicationCodeableConcept"] = concept
        return resource

    def medications(self, count: int) -> list[dict]:
        out = [self.medication_request(0, "active", self.today - timedelta(days=200), antiresorptive=True)]
        statuses = ["active", "active", "completed", "stopped", "active", "on-hold", "completed"]
        for i in range(1, count):
            authored = self.today - timedelta(days=self.rng.randrange(30, 5 * 365))
            out.append(self.medication_request(i, statuses[i % len(statuses)], authored, contained=i % 5 == 0))
        return out

    def condition(self, index: int) -> dict[str, Any]:
        system, code, display = CONDITIONS[index % len(CONDITIONS)]
        cid = self.next_id("cond")
        return {
            "resourceType": "Condition",
            "id": cid,
            "meta": {"versionId": "1", "lastUpdated": "2024-03-01T10:00:00Z"},
            "clinicalStatus": {
                "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]
            },
            "verificationStatus": {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}
                ]
            },
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                            "code": "problem-list-item",
                            "display": "Problem List Item",
                        }
                    ]
                }
            ],
            "code": {"coding": [{"system": system, "code": code, "display": display}], "text": display},
            "subject": {"reference": f"Patient/{PATIENT_ID}"},
            "onsetDateTime": (self.today - timedelta(days=self.rng.randrange(200, 4000))).isoformat(),
            "recordedDate": (self.today - timedelta(days=self.rng.randrange(10, 190))).isoformat(),
        }


def patient() -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": PATIENT_ID,
        "meta": {"versionId": "3", "lastUpdated": "2025-06-01T10:00:00Z"},
        "identifier": [{"use": "usual", "system": "urn:oid:1.2.36.146.595.217.0.1", "value": "12345"}],
        "active": True,
        "name": [{"use": "official", "family": "Bench", "given": ["Patient"]}],
        "telecom": [{"system": "phone", "value": "555-0100", "use": "home"}],
        "gender": "female",
        "birthDate": "1958-04-12",
        "address": [
            {"use": "home", "line": ["1 Example St"], "city": "Springfield", "postalCode": "01101", "country": "US"}
        ],
    }


def searchset(resources: list[dict], self_url: str = f"{FHIR_BASE}/search") -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "id": str(uuid.UUID(int=len(resources) + 1)),
        "type": "searchset",
        "total": len(resources),
        "link": [{"relation": "self", "url": self_url}],
        "entry": [
            {"fullUrl": f"{FHIR_BASE}/{r['resourceType']}/{r['id']}", "resource": r, "search": {"mode": "match"}}
            for r in resources
        ],
    }


def records(kind: str, today: date) -> dict[str, list[dict] | dict]:
    """Return the resources of each prefetch key (all keys of all services) for the `kind` patient."""
    m = Maker(today, seed=20261124 if kind == "typical" else 4242)
    if kind == "typical":
        return {
            "patient": patient(),
            "alp": m.alp_series(30, ("6768-6",)),
            "conditions": [m.condition(i) for i in range(10)],
            "medications": m.medications(15),
            "hppWorkup": m.labs(("62236-5",), 1, 300),
            "safetyLabs": m.labs(("98979-8", "1989-3", "17861-6"), 6, 330),
            "liverPanel": m.labs(("6301-6", "1975-2", "1920-8", "1742-6"), 8, 300),
        }
    # Heavy: 600 Observations of mixed kinds in the keys each hook declares (300 + 60 + 240).
    alp = m.alp_series(240, ("6768-6", "1783-0", "77141-0")) + m.labs(("1777-2", "2345-7"), 60, 1700)
    return {
        "patient": patient(),
        "alp": alp,
        "conditions": [m.condition(i) for i in range(20)],
        "medications": m.medications(120),
        "hppWorkup": m.labs(("62236-5", "718-7"), 60, 1700),
        "safetyLabs": m.labs(("98979-8", "2164-2", "1989-3", "17861-6", "2160-0"), 240, 360),
        "liverPanel": m.labs(("6301-6", "1975-2", "1920-8", "1742-6", "2160-0"), 240, 360),
    }


ORDER_KEYS = ("patient", "alp", "conditions", "medications", "hppWorkup", "safetyLabs")
PATIENT_VIEW_KEYS = ("patient", "alp", "conditions", "medications", "hppWorkup", "liverPanel")


def prefetch(data: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: data[k] if k == "patient" else searchset(data[k]) for k in keys}


def sandbox_draft_orders(today: date) -> dict[str, Any]:
    """The CDS Hooks Sandbox's alendronate draft: `category` as an object (R4 says a list), no fullUrl."""
    return {
        "resourceType": "Bundle",
        "entry": [
            {
                "resource": {
                    "resourceType": "MedicationRequest",
                    "id": "request-123",
                    "status": "draft",
                    "intent": "order",
                    "subject": {"reference": f"Patient/{PATIENT_ID}"},
                    "authoredOn": today.isoformat(),
                    "dosageInstruction": [
                        {
                            "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "wk"}},
                            "doseAndRate": [{"doseQuantity": {"value": 1, "system": UCUM, "code": "{pill}"}}],
                        }
                    ],
                    "dispenseRequest": {
                        "expectedSupplyDuration": {"value": 30, "unit": "days", "system": UCUM, "code": "d"}
                    },
                    "category": {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category",
                                "code": "community",
                            }
                        ]
                    },
                    "medicationCodeableConcept": {
                        "text": "Alendronic acid 70 MG Oral Tablet",
                        "coding": [
                            {"display": "Alendronic acid 70 MG Oral Tablet", "system": RXNORM, "code": "904431"}
                        ],
                    },
                }
            }
        ],
    }


def statin_draft_orders(today: date) -> dict[str, Any]:
    draft = copy.deepcopy(sandbox_draft_orders(today))
    concept = draft["entry"][0]["resource"]["medicationCodeableConcept"]
    concept["text"] = concept["coding"][0]["display"] = "atorvastatin 40 MG Oral Tablet"
    concept["coding"][0]["code"] = "617312"
    return draft


def hook_request(
    hook: str,
    *,
    prefetch_data: dict | None,
    draft_orders: dict | None = None,
    fhir_server: str | None = None,
    selections: list[str] | None = None,
) -> dict[str, Any]:
    context: dict[str, Any] = {"userId": "Practitioner/prac-1", "patientId": PATIENT_ID}
    if hook == "patient-view":
        context["encounterId"] = "enc-1"
    if draft_orders is not None:
        context["draftOrders"] = draft_orders
    if selections is not None:
        context["selections"] = selections
    body: dict[str, Any] = {"hookInstance": str(uuid.uuid4()), "hook": hook, "context": context}
    if fhir_server:
        body["fhirServer"] = fhir_server
    if prefetch_data is not None:
        body["prefetch"] = prefetch_data
    return body


def feedback_body(card_uuid: str, overridden: bool = True) -> dict[str, Any]:
    item: dict[str, Any] = {"card": card_uuid, "outcomeTimestamp": "2026-11-24T12:00:00Z"}
    if overridden:
        item.update(
            outcome="overridden",
            overrideReason={
                "reason": {"code": "patient-aware", "system": "http://example.org/override-reasons"},
                "userComment": "bench",
            },
        )
    else:
        item.update(outcome="accepted", acceptedSuggestions=[{"id": str(uuid.uuid4())}])
    return {"feedback": [item]}


def generate(out: Path, today: date | None = None) -> dict[str, Path]:
    """Write every payload to `out` and return their paths by name."""
    today = today or datetime.now(UTC).date()
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}

    def write(name: str, body: Any) -> None:
        path = out / f"{name}.json"
        path.write_text(json.dumps(body, separators=(",", ":")))
        paths[name] = path

    for kind in ("typical", "heavy"):
        data = records(kind, today)
        write(f"resources-{kind}", data)
        draft = sandbox_draft_orders(today)
        write(
            f"order-sign-{kind}",
            hook_request("order-sign", prefetch_data=prefetch(data, ORDER_KEYS), draft_orders=draft),
        )
        write(
            f"order-select-{kind}",
            hook_request(
                "order-select",
                prefetch_data=prefetch(data, ORDER_KEYS),
                draft_orders=draft,
                selections=["MedicationRequest/request-123"],
            ),
        )
        write(f"patient-view-{kind}", hook_request("patient-view", prefetch_data=prefetch(data, PATIENT_VIEW_KEYS)))
    typical = records("typical", today)
    write(
        "order-sign-no-antiresorptive",
        hook_request(
            "order-sign", prefetch_data=prefetch(typical, ORDER_KEYS), draft_orders=statin_draft_orders(today)
        ),
    )
    write("feedback", feedback_body(str(uuid.uuid4())))
    return paths


def fetch_path_request(fhir_server: str, today: date | None = None, alp_page: dict | None = None) -> dict:
    """An order-sign without prefetch (or with only `alp_page` prefetched) naming `fhir_server`."""
    today = today or datetime.now(UTC).date()
    pre = {"alp": alp_page} if alp_page is not None else None
    return hook_request(
        "order-sign", prefetch_data=pre, draft_orders=sandbox_draft_orders(today), fhir_server=fhir_server
    )


def render_alp_query(patient_id: str) -> str:
    """The ALP search ALP Guard itself runs (its prefetch template, rendered), relative to the FHIR base."""
    import os  # noqa: PLC0415
    import sys  # noqa: PLC0415

    sys.path.insert(0, os.environ.get("BENCH_SOURCE", str(Path(__file__).resolve().parent.parent)))
    from cds_service.prefetch import render_template  # noqa: PLC0415
    from cds_service.services import ALP  # noqa: PLC0415

    return render_template(ALP, {"patientId": patient_id})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out" / "payloads")
    args = parser.parse_args()
    for name, path in generate(args.out).items():
        print(f"{path.stat().st_size:>10,} bytes  {name}")


if __name__ == "__main__":
    main()
