"""Pure clinical core: FHIR data in, findings out. No I/O, no clock, no randomness."""
