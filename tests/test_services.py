"""Service registry: discovery is derived from the descriptors, and prefetch templates are valid 2.0."""

import re
from urllib.parse import parse_qsl

import pytest

from cds_service.services import SERVICES, SERVICES_BY_ID, discovery_document
from hooks.valuesets import ALP_BONE_SPECIFIC, ALP_TOTAL

TOKEN = re.compile(r"\{\{(.*?)\}\}")
# CDS Hooks 2.0 §"Prefetch tokens": context fields (root-level primitives) and the four user tokens.
ALLOWED_TOKENS = {
    "context.patientId",
    "context.userId",
    "context.encounterId",
    "userPractitionerId",
    "userPractitionerRoleId",
    "userPatientId",
    "userRelatedPersonId",
}
# CDS Hooks 2.0 restricted query subset: references, token equality, date prefixes, _count, _sort.
ALLOWED_PARAMETERS = {"patient", "code", "status", "date", "_count", "_sort"}
# Beyond it, one parameter the 2.0 text itself shows in a prefetch template
# (`PractitionerRole?_id={{userPractitionerRoleId}}&_include=PractitionerRole:practitioner`): a medication search
# includes the Medications it references, so that one round trip gives the drugs too.
MEDICATION_TYPES = {"MedicationRequest", "MedicationStatement", "MedicationDispense", "MedicationAdministration"}


def test_the_service_ids_and_hooks_are_fixed():
    assert [(s.id, s.hook) for s in SERVICES] == [
        ("low-alp-order-sign", "order-sign"),
        ("low-alp-order-select", "order-select"),
        ("low-alp-medication-refill", "medication-refill"),
        ("low-alp-patient-view", "patient-view"),
    ]
    assert set(SERVICES_BY_ID) == {
        "low-alp-order-sign",
        "low-alp-order-select",
        "low-alp-medication-refill",
        "low-alp-patient-view",
    }


def test_discovery_is_derived_from_the_descriptors():
    assert discovery_document() == {"services": [s.discovery() for s in SERVICES]}
    entry = SERVICES_BY_ID["low-alp-order-sign"].discovery()
    assert set(entry) == {"hook", "id", "title", "description", "prefetch", "usageRequirements"}


def test_discovery_has_no_empty_members():
    for entry in discovery_document()["services"]:
        assert all(value not in (None, "", [], {}) for value in entry.values())


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.id)
def test_prefetch_templates_use_only_2_0_tokens_and_the_restricted_query_subset(service):
    for template in service.prefetch.values():
        assert set(TOKEN.findall(template)) <= ALLOWED_TOKENS
        resource, _, query = template.partition("?")
        assert re.fullmatch(r"[A-Z][A-Za-z]+(/\{\{context\.patientId\}\})?", resource)
        parameters = dict(parse_qsl(query))
        if resource in MEDICATION_TYPES:
            assert parameters.pop("_include") == f"{resource}:medication"
        assert set(parameters) <= ALLOWED_PARAMETERS
        assert parameters.get("_sort", "-date") == "-date"  # R4 syntax, not the 1.0 `sort:desc=date`


def test_the_alp_query_asks_for_total_alp_and_bone_specific_alp_as_supporting_data():
    query = dict(parse_qsl(SERVICES_BY_ID["low-alp-order-sign"].prefetch["alp"].partition("?")[2]))
    assert {token.split("|")[1] for token in query["code"].split(",")} == ALP_TOTAL.codes | ALP_BONE_SPECIFIC.codes
    assert query["patient"] == "{{context.patientId}}"


def test_order_hooks_prefetch_safety_labs_and_patient_view_the_liver_panel():
    order_sign, order_select, refill, view = (
        set(SERVICES_BY_ID[i].prefetch)
        for i in ("low-alp-order-sign", "low-alp-order-select", "low-alp-medication-refill", "low-alp-patient-view")
    )
    common = {
        "patient",
        "alp",
        "conditions",
        "medications",
        "medicationStatements",
        "medicationDispenses",
        "medicationAdministrations",
        "encounters",
        "hppWorkup",
    }
    assert order_sign == order_select == refill == common | {"safetyLabs"}
    assert view == common | {"liverPanel"}


def test_the_condition_query_reads_every_condition_so_locally_coded_ones_are_seen():
    query = SERVICES_BY_ID["low-alp-patient-view"].prefetch["conditions"]
    assert query == "Condition?patient={{context.patientId}}&_count=100"


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.id)
def test_every_medication_search_includes_the_medications_it_references(service):
    searches = {t.partition("?")[0]: dict(parse_qsl(t.partition("?")[2])) for t in service.prefetch.values()}
    assert set(searches) >= MEDICATION_TYPES
    for resource in MEDICATION_TYPES:
        assert searches[resource]["_include"] == f"{resource}:medication"
        assert searches[resource]["patient"] == "{{context.patientId}}"


def test_the_order_hooks_check_the_orders_of_their_context_and_patient_view_none():
    orders = {s.hook: s.orders for s in SERVICES}
    assert orders == {
        "order-sign": "draftOrders",
        "order-select": "draftOrders",
        "medication-refill": "medications",
        "patient-view": None,
    }
