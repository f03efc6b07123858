"""Pure clinical core: FHIR data in, findings out. No I/O, no clock, no randomness.

Reading the record:
- `extract.py`, `fhir_read.py`: each FHIR resource read once, in one pass, into the small records of `records.py`
  (LabResult, MedicationOrder ...); `fhir_read.py` checks the FHIR datatypes as fhir.resources would.
- `evidence.py`: everything the rules know about one patient in one hook call (Evidence).

Facts the rules share:
- `labs.py`: which lab result counts (status, dataAbsentReason, date), which is newest, its value in a rule's unit.
- `units.py`, `valuesets.py`, `policy.py`: unit conversions, code sets, the rule parameters with their sources.
- `medications.py`, `regimens.py`, `therapy.py`: which drug an order is, its regimen, and when it was taken.
- `clearance.py`: the renal measure (Cockcroft-Gault, CrCl or eGFR).

The rules (each returns findings, `findings.py`, that carry data; `cards/` words them):
- `low_alp.py`: the low-ALP and HPP rule for every hook, with `alp.py` (each ALP result judged, the pattern),
  `hpp.py` (HPP on record, work-up on file), `substrates.py` (PLP, phosphoethanolamine, ALPL) and
  `secondary_causes.py` (other causes of low ALP).
- `renal.py`, `minerals.py`, `cardiovascular.py`, `duplicates.py`: order-time safety checks.
- `wilson.py`: the Wilson disease pattern in acute liver failure.
- `orders.py` (order-sign, order-select, medication-refill) and `patient_view.py`: the rules each hook runs.
- `suppression.py`: whether an overridden card may be shown again; `population.py`: the population audit's entry.
"""
