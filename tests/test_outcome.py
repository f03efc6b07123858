"""Error bodies: valid FHIR R4 OperationOutcomes whose issue type follows the HTTP status."""

import pytest
from fhir.resources.R4B.operationoutcome import OperationOutcome

from cds_service.outcome import issue_type, operation_outcome


@pytest.mark.parametrize(
    "status, code",
    [
        (400, "invalid"),
        (401, "login"),
        (404, "not-found"),
        (405, "not-supported"),
        (412, "incomplete"),
        (413, "too-costly"),
        (415, "not-supported"),
        (500, "exception"),
        (418, "processing"),
    ],
)
def test_each_status_has_its_issue_type(status, code):
    assert issue_type(status) == code
    outcome = operation_outcome(status, "the request body is not valid JSON")
    OperationOutcome.model_validate(outcome)
    assert outcome["issue"] == [
        {"severity": "error", "code": code, "diagnostics": "the request body is not valid JSON"}
    ]
