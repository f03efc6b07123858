"""The hypophosphatasia work-up as data: LOINC-coded tests and their draft ServiceRequests."""

from __future__ import annotations

from dataclasses import dataclass

from cards.spec import Json
from hooks.findings import Pattern

LOINC_SYSTEM = "http://loinc.org"


@dataclass(frozen=True)
class LabTest:
    """A test ALP Guard may propose: its LOINC code, LOINC display and a short readable name."""

    loinc: str
    display: str
    name: str
    patient_instruction: str | None = None


REPEAT_ALP = LabTest(
    "6768-6",
    "Alkaline phosphatase [Enzymatic activity/volume] in Serum or Plasma",
    "Alkaline phosphatase (ALP)",
)
PYRIDOXAL_PHOSPHATE = LabTest(
    "62236-5",
    "Pyridoxal phosphate [Moles/volume] in Serum or Plasma",
    "Pyridoxal 5'-phosphate (PLP, vitamin B6)",
    # Supplements raise PLP and would mimic the HPP pattern.
    patient_instruction="Stop vitamin B6 supplements (including multivitamins) one week before this test.",
)
URINE_PHOSPHOETHANOLAMINE = LabTest(
    "13789-3",
    "Phosphoethanolamine/creatinine ratio in urine",
    "Urine phosphoethanolamine/creatinine (PEA)",
)
CALCIUM = LabTest("17861-6", "Calcium [Mass/volume] in Serum or Plasma", "Calcium")
PHOSPHATE = LabTest("2777-1", "Phosphate [Mass/volume] in Serum or Plasma", "Phosphate")
PTH_INTACT = LabTest(
    "2731-8", "Parathyrin.intact [Mass/volume] in Serum or Plasma", "Parathyroid hormone (PTH), intact"
)
VITAMIN_D = LabTest(
    "62292-8",
    "25-Hydroxyvitamin D2+25-Hydroxyvitamin D3 [Mass/volume] in Serum or Plasma",
    "25-hydroxyvitamin D (D2+D3)",
)
ALPL_SEQUENCING = LabTest(
    "77084-2",
    "ALPL gene full mutation analysis in Blood or Tissue by Molecular genetics method",
    "ALPL gene sequencing",
)

MAGNESIUM = LabTest("19123-9", "Magnesium [Mass/volume] in Serum or Plasma", "Magnesium")
ZINC = LabTest("5763-8", "Zinc [Mass/volume] in Serum or Plasma", "Zinc")

SUBSTRATES = {"plp": PYRIDOXAL_PHOSPHATE, "pea": URINE_PHOSPHOETHANOLAMINE}
# Magnesium and zinc: ALP is a zinc- and magnesium-dependent enzyme, and their deficiency lowers it (Saraff 2016).
MINERALS = (CALCIUM, PHOSPHATE, PTH_INTACT, VITAMIN_D, MAGNESIUM, ZINC)
SUBSTRATES_AND_MINERALS = (PYRIDOXAL_PHOSPHATE, URINE_PHOSPHOETHANOLAMINE, *MINERALS)


def needs_genetics(pattern: Pattern) -> bool:
    """Tell whether the low ALP keeps coming back, so that ALPL sequencing may follow the biochemical work-up."""
    return pattern in (Pattern.PERSISTENT, Pattern.RECURRENT)


def hpp_workup(done: frozenset[str] = frozenset()) -> tuple[LabTest, ...]:
    """List the biochemical HPP work-up not yet on file: repeat ALP, the substrates not done, minerals."""
    substrates = tuple(test for key, test in SUBSTRATES.items() if key not in done)
    return (REPEAT_ALP, *substrates, *MINERALS)


def service_request(test: LabTest, patient_id: str) -> Json:
    """Draft an order for the test for this patient."""
    if not patient_id:
        raise ValueError("an order needs a patient")
    request: Json = {
        "resourceType": "ServiceRequest",
        "status": "draft",
        "intent": "order",
        "code": {
            "coding": [{"system": LOINC_SYSTEM, "code": test.loinc, "display": test.display}],
            "text": test.name,
        },
        "subject": {"reference": f"Patient/{patient_id}"},
    }
    if test.patient_instruction:
        request["patientInstruction"] = test.patient_instruction
    return request
