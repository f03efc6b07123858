"""Population audit: the patient-view rule over FHIR Bulk Data NDJSON, with DuckDB or Spark."""
