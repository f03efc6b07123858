"""A seeded synthetic population as FHIR Bulk Data NDJSON, with a known set of patients the audit must find.

Most patients are background adults (25 or older, so that every result in the window is an adult's: normal ALP
or none, other drugs, encounters); children have a growing child's high ALP. Planted patients carry a pattern the
patient-view rule flags; decoys look close (an antiresorptive with normal ALP, a single low ALP, low ALP already
worked up, a stopped course) and must not be flagged. `planted.json` beside the files names the planted patients
and the finding each must get.
"""

from __future__ import annotations

import gzip
import io
import json
import random
from collections.abc import Callable
from contextlib import ExitStack
from datetime import date, timedelta
from pathlib import Path
from typing import IO, Any

LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED = "http://snomed.info/sct"
TYPES = (
    "Patient",
    "Observation",
    "Condition",
    "MedicationRequest",
    "MedicationStatement",
    "MedicationDispense",
    "Medication",
    "Encounter",
)
# Medication resources (a formulary), referenced by some requests instead of an inline code.
FORMULARY = {
    "med-alendronate-70": ("904431", "alendronic acid 70 MG Oral Tablet"),
    "med-risedronate-35": ("905024", "risedronate sodium 35 MG Oral Tablet"),
    "med-prolia": ("993449", "denosumab 60 MG/ML Prefilled Syringe [Prolia]"),
    "med-zoledronic-5": ("705824", "zoledronic acid 5 MG/100 ML Injection [Reclast]"),
    "med-atorvastatin-20": ("617310", "atorvastatin 20 MG Oral Tablet"),
    "med-cholecalciferol": ("316965", "cholecalciferol 1000 UNT Oral Tablet"),
}
ANTIRESORPTIVE_MEDS = ("med-alendronate-70", "med-risedronate-35", "med-prolia", "med-zoledronic-5")
OTHER_MEDS = ("med-atorvastatin-20", "med-cholecalciferol")
# Planted (found) and decoy (not found) profiles, with their share of the population.
PLANTED = {
    "low-alp-antiresorptive": 0.004,
    "hpp-antiresorptive": 0.001,
    "low-alp-unevaluated": 0.003,
    "hpp-likely": 0.001,
}
DECOYS = {
    "antiresorptive-normal-alp": 0.05,
    "antiresorptive-single-low": 0.004,
    "low-alp-worked-up": 0.002,
    "stopped-antiresorptive-normal-alp": 0.01,
    "child-high-alp": 0.01,
}


class Writer:
    """One NDJSON (gzip) file per resource type, written a line at a time."""

    def __init__(self, stack: ExitStack, directory: Path, compress: bool) -> None:
        suffix = ".ndjson.gz" if compress else ".ndjson"
        opener: Callable[[Path], IO[str]] = (
            (lambda p: io.TextIOWrapper(gzip.GzipFile(p, "wb", compresslevel=1, mtime=0), encoding="utf-8"))
            if compress
            else (lambda p: p.open("w", encoding="utf-8"))
        )
        self.files = {t: stack.enter_context(opener(directory / f"{t}{suffix}")) for t in TYPES}

    def write(self, resource: dict[str, Any]) -> None:
        """Append a resource to its type's file."""
        self.files[resource["resourceType"]].write(json.dumps(resource, separators=(",", ":")) + "\n")


class PatientMaker:
    """Builds one patient's resources from a random source and the audit date."""

    def __init__(self, rng: random.Random, today: date, writer: Writer) -> None:
        self.rng, self.today, self.writer = rng, today, writer

    def make(self, index: int, profile: str) -> str:
        """Write one patient of `profile` and return the patient's id."""
        rng = self.rng
        pid = f"{rng.getrandbits(64):016x}-{index}"
        self.pid, self.serial = pid, 0
        child = profile == "child-high-alp"
        age = rng.randint(6, 15) if child else rng.randint(52, 88) if profile != "background" else rng.randint(25, 90)
        female = rng.random() < (0.5 if child or profile == "background" else 0.8)
        birth = self.today - timedelta(days=age * 365 + rng.randint(0, 364))
        self.writer.write(
            {
                "resourceType": "Patient",
                "id": pid,
                "meta": {"lastUpdated": self.instant(-900)},
                "gender": "female" if female else "male",
                "birthDate": birth.isoformat(),
                "name": [{"family": "Synthetic", "given": [f"Patient{index}"]}],
            }
        )
        for _ in range(rng.randint(1, 5)):
            self.encounter(-rng.randint(1, 1500))
        if rng.random() < 0.3:
            self.condition("38341003", "Hypertensive disorder")
        if rng.random() < 0.4:
            self.medication(rng.choice(OTHER_MEDS), "active", -rng.randint(30, 900))
        for _ in range(rng.randint(0, 3)):
            self.lab(
                "2345-7",
                "Glucose [Mass/volume] in Serum or Plasma",
                rng.randint(70, 140),
                "mg/dL",
                -rng.randint(1, 1500),
            )
        if rng.random() < 0.3:
            self.lab("62238-1", "eGFR CKD-EPI", rng.randint(45, 110), "mL/min/{1.73_m2}", -rng.randint(1, 300))
        getattr(self, "profile_" + profile.replace("-", "_"))()
        return pid

    def profile_background(self) -> None:
        """Normal ALP results now and then."""
        for _ in range(self.rng.choice((0, 0, 1, 2, 3))):
            self.alp(self.rng.randint(45, 120), -self.rng.randint(1, 1500))

    def profile_low_alp_antiresorptive(self) -> None:
        """Years on an antiresorptive with persistently low ALP."""
        self.antiresorptive("active")
        self.low_alps()

    def profile_hpp_antiresorptive(self) -> None:
        """Hypophosphatasia on record and an active antiresorptive."""
        self.condition("360792001", "Hypophosphatasia")
        self.antiresorptive("active")
        self.alp(self.rng.randint(20, 34), -self.rng.randint(30, 400))

    def profile_low_alp_unevaluated(self) -> None:
        """Persistently low ALP, no antiresorptive, never worked up."""
        self.low_alps()

    def profile_hpp_likely(self) -> None:
        """Persistently low ALP with an elevated pyridoxal 5'-phosphate."""
        self.low_alps()
        self.lab("62236-5", "Pyridoxal 5'-phosphate", self.rng.randint(200, 600), "nmol/L", -self.rng.randint(10, 200))

    def profile_antiresorptive_normal_alp(self) -> None:
        """An antiresorptive with normal ALP: the common case, not flagged."""
        self.antiresorptive("active")
        for _ in range(self.rng.randint(1, 4)):
            self.alp(self.rng.randint(45, 110), -self.rng.randint(1, 1500))

    def profile_antiresorptive_single_low(self) -> None:
        """An antiresorptive with one low ALP and a normal repeat: no patient-view card."""
        self.antiresorptive("active")
        self.alp(self.rng.randint(25, 35), -400)
        self.alp(self.rng.randint(55, 90), -200)

    def profile_low_alp_worked_up(self) -> None:
        """Persistently low ALP with a normal PLP on file, no antiresorptive: worked up, not flagged."""
        self.low_alps()
        self.lab("62236-5", "Pyridoxal 5'-phosphate", self.rng.randint(30, 100), "nmol/L", -self.rng.randint(10, 200))

    def profile_stopped_antiresorptive_normal_alp(self) -> None:
        """A finished bisphosphonate course and normal ALP."""
        self.antiresorptive("completed")
        self.alp(self.rng.randint(50, 100), -self.rng.randint(1, 800))

    def profile_child_high_alp(self) -> None:
        """A growing child's high, normal ALP."""
        for _ in range(self.rng.randint(1, 2)):
            self.alp(self.rng.randint(180, 350), -self.rng.randint(1, 700))

    def low_alps(self) -> None:
        """Three to five low ALP results over the last two years, some in µkat/L."""
        for n in range(self.rng.randint(3, 5)):
            value = self.rng.randint(18, 34)
            days = -(60 + 150 * n + self.rng.randint(0, 40))
            if self.rng.random() < 0.1:
                self.lab("6768-6", "Alkaline phosphatase", round(value / 60, 2), "ukat/L", days, low=0.6)
            else:
                self.alp(value, days)

    def antiresorptive(self, status: str) -> None:
        """An antiresorptive request (inline code or a Medication reference), a dispense and a statement."""
        med = self.rng.choice(ANTIRESORPTIVE_MEDS)
        self.medication(med, status, -self.rng.randint(400, 2000), by_reference=self.rng.random() < 0.5)
        self.writer.write(
            {
                "resourceType": "MedicationDispense",
                "id": self.next_id("md"),
                "status": "completed",
                "meta": {"lastUpdated": self.instant(-30)},
                "medicationCodeableConcept": self.concept(med),
                "subject": {"reference": f"Patient/{self.pid}"},
                "whenHandedOver": self.instant(-self.rng.randint(10, 300)),
            }
        )
        self.writer.write(
            {
                "resourceType": "MedicationStatement",
                "id": self.next_id("ms"),
                "status": status,
                "meta": {"lastUpdated": self.instant(-20)},
                "medicationCodeableConcept": self.concept(med),
                "subject": {"reference": f"Patient/{self.pid}"},
            }
        )

    def concept(self, med: str) -> dict[str, Any]:
        """Return the RxNorm concept of a formulary drug."""
        code, display = FORMULARY[med]
        return {"coding": [{"system": RXNORM, "code": code, "display": display}], "text": display}

    def medication(self, med: str, status: str, days: int, by_reference: bool = False) -> None:
        """Write a MedicationRequest for a formulary drug."""
        drug = (
            {"medicationReference": {"reference": f"Medication/{med}"}}
            if by_reference
            else {"medicationCodeableConcept": self.concept(med)}
        )
        self.writer.write(
            {
                "resourceType": "MedicationRequest",
                "id": self.next_id("mr"),
                "status": status,
                "intent": "order",
                "meta": {"lastUpdated": self.instant(days)},
                **drug,
                "subject": {"reference": f"Patient/{self.pid}"},
                "authoredOn": self.day(days),
            }
        )

    def alp(self, value: int, days: int) -> None:
        """Write a total ALP result in U/L with the lab's range."""
        self.lab("6768-6", "Alkaline phosphatase", value, "U/L", days, low=40, high=129)

    def lab(
        self,
        loinc: str,
        text: str,
        value: float,
        unit: str,
        days: int,
        low: float | None = None,
        high: float | None = None,
    ) -> None:
        """Write a final laboratory Observation."""
        resource: dict[str, Any] = {
            "resourceType": "Observation",
            "id": self.next_id("obs"),
            "status": "final",
            "meta": {"lastUpdated": self.instant(days)},
            "category": [
                {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}
                    ]
                }
            ],
            "code": {"coding": [{"system": LOINC, "code": loinc, "display": text}], "text": text},
            "subject": {"reference": f"Patient/{self.pid}"},
            "effectiveDateTime": self.instant(days),
            "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit},
        }
        if low is not None:
            limits = {"low": {"value": low, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}}
            if high is not None:
                limits["high"] = {"value": high, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}
            resource["referenceRange"] = [limits]
        self.writer.write(resource)

    def condition(self, code: str, text: str) -> None:
        """Write a confirmed Condition coded in SNOMED CT."""
        self.writer.write(
            {
                "resourceType": "Condition",
                "id": self.next_id("cond"),
                "meta": {"lastUpdated": self.instant(-500)},
                "clinicalStatus": {
                    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]
                },
                "verificationStatus": {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}
                    ]
                },
                "code": {"coding": [{"system": SNOMED, "code": code, "display": text}], "text": text},
                "subject": {"reference": f"Patient/{self.pid}"},
            }
        )

    def encounter(self, days: int) -> None:
        """Write a finished ambulatory Encounter."""
        self.writer.write(
            {
                "resourceType": "Encounter",
                "id": self.next_id("enc"),
                "status": "finished",
                "meta": {"lastUpdated": self.instant(days)},
                "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
                "subject": {"reference": f"Patient/{self.pid}"},
                "period": {"start": self.instant(days), "end": self.instant(days)},
            }
        )

    def next_id(self, prefix: str) -> str:
        """Return the next resource id of this patient."""
        self.serial += 1
        return f"{prefix}-{self.pid}-{self.serial}"

    def day(self, days: int) -> str:
        """Return the date `days` from the audit date."""
        return (self.today + timedelta(days=days)).isoformat()

    def instant(self, days: int) -> str:
        """Return a morning instant `days` from the audit date."""
        return f"{self.day(days)}T08:30:00Z"


def pick_profile(rng: random.Random) -> str:
    """Draw a profile by its share of the population."""
    draw = rng.random()
    for profile, share in (*PLANTED.items(), *DECOYS.items()):
        if draw < share:
            return profile
        draw -= share
    return "background"


def generate(directory: Path, patients: int, seed: int, today: date, *, compress: bool = True) -> dict[str, str]:
    """Write `patients` synthetic patients as NDJSON under `directory`; return the planted {patient id: topic}."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    planted: dict[str, str] = {}
    with ExitStack() as stack:
        writer = Writer(stack, directory, compress)
        for med, _ in FORMULARY.items():
            writer.write({"resourceType": "Medication", "id": med, "code": FORMULARY_CONCEPT(med)})
        maker = PatientMaker(rng, today, writer)
        for index in range(patients):
            profile = pick_profile(rng)
            if index < len(PLANTED) + len(DECOYS) and patients >= 2 * (len(PLANTED) + len(DECOYS)):
                profile = (*PLANTED, *DECOYS)[index]  # every profile at least once, even in a small sample
            patient_id = maker.make(index, profile)
            if profile in PLANTED:
                planted[patient_id] = profile
    manifest = {
        "seed": seed,
        "patients": patients,
        "today": today.isoformat(),
        "planted": dict(sorted(planted.items())),
    }
    (directory / "planted.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return planted


def FORMULARY_CONCEPT(med: str) -> dict[str, Any]:  # noqa: N802 - a constant-like lookup
    """Return the RxNorm concept of a formulary drug."""
    code, display = FORMULARY[med]
    return {"coding": [{"system": RXNORM, "code": code, "display": display}], "text": display}
