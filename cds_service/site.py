"""The site configuration (CDS_SITE_FILE) and how cards are presented to EHRs.

A site file adapts the service to an EHR without code: prefetch templates per service (whole templates, or search
parameters set or removed per resource type), card types switched on or off (advertised in discovery as
configuration options, in the style of Da Vinci CRD, and switchable off per call by a request extension), and the
card source's label, url and icon. Every card about an order names that order (CRD's `associated-resource`), and
each override reason carries the HL7 non-adherence reason code that fits it.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from cards.spec import is_relative_reference
from cards.vocabulary import OVERRIDE_REASON_SYSTEM, TOPIC_DISPLAYS
from cds_service.prefetch import is_read
from cds_service.services import SERVICES, CdsService
from hooks.findings import Finding, Topic

# Discovery: the options a client may set per call; request: the values it sets (our names, CRD's structure).
CONFIGURATION_OPTIONS = "org.alp-guard.configuration-options"
CONFIGURATION = "org.alp-guard.configuration"
# Da Vinci CRD STU 2.1+: the request resources a card is about, as FHIR References.
ASSOCIATED_RESOURCE = "davinci-crd.associated-resource"
# On each override reason Coding: the same reason in HL7's code system, for EHRs that report by it.
STANDARD_REASON = "org.alp-guard.standard-reason"
NON_ADHERENCE_SYSTEM = "http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes"

# ALP Guard's override reasons → the HL7 non-adherence reason (CDS Hooks 3.0 ballot) that fits each.
_HL7_REASONS: Mapping[str, tuple[str, str]] = {
    # HPP or Wilson disease already worked up and excluded: the recommended work-up was done.
    "hpp-excluded": ("action-completed", "Recommended action was already completed"),
    "wilson-excluded": ("action-completed", "Recommended action was already completed"),
    # The finding does not apply to this patient after all.
    "secondary-cause": ("patient-ineligible", "Patient does not meet eligibility for recommended action"),
    "repeat-normal": ("patient-ineligible", "Patient does not meet eligibility for recommended action"),
    "other-cause": ("patient-ineligible", "Patient does not meet eligibility for recommended action"),
    "crcl-adequate": ("patient-ineligible", "Patient does not meet eligibility for recommended action"),
    "specialist-advised": ("expert-contradicts", "Advice from expert contradicts the recommended action"),
    "being-corrected": ("indication-order-exists", "Patient has indication/order for intended action"),
    "incorrect-data": ("cds-not-applicable", "PC CDS does not apply to patient"),
}

_TOKEN = re.compile(r"\{\{(.*?)\}\}")
_ALLOWED_TOKENS = frozenset({"context.patientId", "context.userId", "context.encounterId"})
_PARAMETER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_\-.:]*\Z")
_RESOURCE_TYPE = re.compile(r"[A-Z][A-Za-z]+\Z")
# A search must stay on the patient: these parameters are never removed or changed by the site.
_PATIENT_PARAMETERS = frozenset({"patient", "subject"})
_SOURCE_MEMBERS = ("label", "url", "icon")


class SiteError(ValueError):
    """A site file value is wrong; `where` names its key path, e.g. `services.low-alp-order-sign.prefetch.alp`."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}" if where else message)
        self.where = where


@dataclass(frozen=True)
class Site:
    """A deployment's adaptations: per service its prefetch templates and card types, and the card source."""

    templates: Mapping[str, Mapping[str, str]]  # service id → key → template read or searched (fetch path)
    advertised: Mapping[str, Mapping[str, str]]  # service id → the templates listed in discovery
    # service id → topic codes switched off; any other topic is served, so a new card type is never lost silently
    disabled: Mapping[str, frozenset[str]]
    source: Mapping[str, str] = field(default_factory=dict)  # label, url, icon replacing ALP Guard's

    def discovery_document(self, services: Sequence[CdsService] = SERVICES) -> dict[str, Any]:
        """Return the discovery response: the services with this site's prefetch and their configuration options."""
        entries = []
        for service in services:
            entry = service.discovery()
            prefetch = dict(self.advertised.get(service.id, service.prefetch))
            entry.pop("prefetch", None)
            if prefetch:
                entry["prefetch"] = prefetch
            options = [_option(topic) for topic in service.topics if topic.value not in self.disabled_for(service)]
            if options:
                entry["extension"] = {CONFIGURATION_OPTIONS: options}
            entries.append(entry)
        return {"services": entries}

    def templates_for(self, service: CdsService) -> Mapping[str, str]:
        """Return the templates the service reads or searches with at this site."""
        return self.templates.get(service.id, service.prefetch)

    def disabled_for(self, service: CdsService) -> frozenset[str]:
        """Return the topic codes switched off for the service at this site."""
        return self.disabled.get(service.id, frozenset())

    def wanted(self, service: CdsService, findings: Iterable[Finding], request_extension: Any) -> list[Finding]:
        """Keep the findings whose card type is on at this site and not switched off by the call's extension."""
        off = switched_off(request_extension)
        off |= self.disabled_for(service)
        return [f for f in findings if f.topic.value not in off]

    def present(self, cards: Sequence[dict], findings: Sequence[Finding]) -> list[dict]:
        """Return the cards with this site's source, the order each is about, and HL7 codes on override reasons."""
        return [self._present(card, finding) for card, finding in zip(cards, findings, strict=False)]

    def _present(self, card: dict, finding: Finding) -> dict:
        """Return one card as presented; the rendered card is left as it was."""
        card = copy.deepcopy(card)
        card["source"] = {**card["source"], **self.source}
        reference = finding.order.reference if finding.order else None
        if reference is not None and is_relative_reference(reference):
            card["extension"] = {**card.get("extension", {}), ASSOCIATED_RESOURCE: [{"reference": reference}]}
        for reason in card.get("overrideReasons", []):
            standard = (
                _HL7_REASONS.get(reason.get("code", "")) if reason.get("system") == OVERRIDE_REASON_SYSTEM else None
            )
            if standard is not None:
                reason["extension"] = {
                    STANDARD_REASON: {"system": NON_ADHERENCE_SYSTEM, "code": standard[0], "display": standard[1]}
                }
        return card


def switched_off(request_extension: Any) -> frozenset[str]:
    """Return the card types a request's extension switches off for the call (`false` values); the schema checked it."""
    if not isinstance(request_extension, Mapping):
        return frozenset()
    values = request_extension.get(CONFIGURATION)
    if not isinstance(values, Mapping):
        return frozenset()
    return frozenset(code for code, value in values.items() if value is False)


def _option(topic: Topic) -> dict[str, Any]:
    """Return the discovery configuration option that switches one card type."""
    return {
        "code": topic.value,
        "type": "boolean",
        "name": TOPIC_DISPLAYS.get(topic, topic.value),
        "description": f"Return the {topic.value} card when it applies; false leaves it out of this call's answer.",
        "default": True,
    }


def site_from_document(document: Any, services: Sequence[CdsService] = SERVICES) -> Site:
    """Return the Site a site file describes, or raise SiteError naming the key that is wrong."""
    if not isinstance(document, Mapping):
        raise SiteError("", "the site file must hold a JSON object")
    _only(document, ("source", "cards", "prefetch_parameters", "services"), "")
    by_id = {service.id: service for service in services}
    site_cards = _switches(
        document.get("cards", {}), "cards", {t.value for service in services for t in service.topics}
    )
    site_parameters = _parameters(document.get("prefetch_parameters", {}), "prefetch_parameters")
    sections = document.get("services", {})
    if not isinstance(sections, Mapping):
        raise SiteError("services", "must be an object of service ids")
    for service_id in sections:
        if service_id not in by_id:
            raise SiteError(f"services.{service_id}", f"no such service (services: {', '.join(by_id)})")
    templates: dict[str, dict[str, str]] = {}
    advertised: dict[str, dict[str, str]] = {}
    disabled: dict[str, frozenset[str]] = {}
    for service in services:
        where = f"services.{service.id}"
        section = sections.get(service.id, {})
        if not isinstance(section, Mapping):
            raise SiteError(where, "must be an object")
        _only(section, ("cards", "prefetch", "prefetch_parameters"), where)
        switches = {
            **site_cards,
            **_switches(section.get("cards", {}), f"{where}.cards", {t.value for t in service.topics}),
        }
        disabled[service.id] = frozenset(code for code, on in switches.items() if not on)
        parameters = _merge(
            site_parameters, _parameters(section.get("prefetch_parameters", {}), f"{where}.prefetch_parameters")
        )
        templates[service.id], advertised[service.id] = _templates(
            service, section.get("prefetch", {}), parameters, f"{where}.prefetch"
        )
    return Site(templates, advertised, disabled, _source(document.get("source", {})))


def _only(section: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> None:
    """Refuse a key the site file does not know (a typo would otherwise be ignored silently)."""
    for key in section:
        if key not in allowed:
            raise SiteError(_join(where, str(key)), f"unknown setting (known: {', '.join(allowed)})")


def _switches(value: Any, where: str, topics: set[str]) -> dict[str, bool]:
    """Return card type switches: topic code → true or false."""
    if not isinstance(value, Mapping):
        raise SiteError(where, "must be an object of card type (topic code) → true or false")
    for code, on in value.items():
        if code not in topics:
            raise SiteError(f"{where}.{code}", f"no such card type here (card types: {', '.join(sorted(topics))})")
        if not isinstance(on, bool):
            raise SiteError(f"{where}.{code}", "must be true or false")
    return dict(value)


def _parameters(value: Any, where: str) -> dict[str, dict[str, str | None]]:
    """Return search parameter edits: resource type → parameter → value to set, or null to remove."""
    if not isinstance(value, Mapping):
        raise SiteError(where, "must be an object of resource type → {parameter: value or null}")
    for resource_type, edits in value.items():
        here = f"{where}.{resource_type}"
        if not _RESOURCE_TYPE.match(str(resource_type)):
            raise SiteError(here, "must be a FHIR resource type, e.g. Observation")
        if not isinstance(edits, Mapping):
            raise SiteError(here, "must be an object of parameter → value or null")
        for name, setting in edits.items():
            if not _PARAMETER_NAME.match(str(name)):
                raise SiteError(f"{here}.{name}", "is not a search parameter name")
            if name in _PATIENT_PARAMETERS:
                raise SiteError(f"{here}.{name}", "the patient parameter keeps every search on the patient")
            if setting is not None and not (isinstance(setting, str) and setting and _query_safe(setting)):
                raise SiteError(f"{here}.{name}", "must be a non-empty value without spaces, & or # (or null)")
            if isinstance(setting, str):
                _check_tokens(setting, f"{here}.{name}")
    return {str(k): dict(v) for k, v in value.items()}


def _merge(
    base: Mapping[str, Mapping[str, str | None]], more: Mapping[str, Mapping[str, str | None]]
) -> dict[str, dict[str, str | None]]:
    """Return the site's parameter edits with a service's on top."""
    merged = {kind: dict(edits) for kind, edits in base.items()}
    for kind, edits in more.items():
        merged.setdefault(kind, {}).update(edits)
    return merged


def _templates(
    service: CdsService, value: Any, parameters: Mapping[str, Mapping[str, str | None]], where: str
) -> tuple[dict[str, str], dict[str, str]]:
    """Return the service's templates (fetch path) and those advertised in discovery, with the site's changes."""
    if not isinstance(value, Mapping):
        raise SiteError(where, "must be an object of prefetch key → template, or null to leave the key out")
    templates = {key: _edited(template, parameters) for key, template in service.prefetch.items()}
    hidden: set[str] = set()
    for key, template in value.items():
        here = f"{where}.{key}"
        if key not in service.prefetch:
            raise SiteError(here, f"no such prefetch key (keys: {', '.join(service.prefetch)})")
        if template is None:
            hidden.add(key)  # not asked of the client; the service reads it from the FHIR server when needed
            continue
        if not isinstance(template, str):
            raise SiteError(here, "must be a FHIR read or search template, or null")
        _check_template(template, service.prefetch[key], here)
        templates[key] = template
    return templates, {key: t for key, t in templates.items() if key not in hidden}


def _edited(template: str, parameters: Mapping[str, Mapping[str, str | None]]) -> str:
    """Return a search template with the parameter edits for its resource type applied; reads are left alone."""
    resource_type, _, query = template.partition("?")
    edits = parameters.get(resource_type)
    if not query or not edits:
        return template
    pairs = [pair for pair in query.split("&") if pair.partition("=")[0] not in edits]
    pairs += [f"{name}={value}" for name, value in edits.items() if value is not None]
    return f"{resource_type}?{'&'.join(pairs)}"


def _check_template(template: str, default: str, where: str) -> None:
    """Refuse a template the service could not use in place of its default: same type and kind, on the patient."""
    if template != template.strip() or not template or any(c in template for c in " #"):
        raise SiteError(where, "must be a relative FHIR URL without spaces or #")
    _check_tokens(template, where)
    resource_type = template.partition("?")[0].partition("/")[0]
    if resource_type != default.partition("?")[0].partition("/")[0] or is_read(template) != is_read(default):
        kind = "read" if is_read(default) else "search"
        raise SiteError(where, f"must be a {kind} of {default.partition('?')[0].partition('/')[0]}, as the default is")
    if is_read(template):
        if template != default:
            raise SiteError(where, f"a read must stay {default}")
        return
    names = {pair.partition("=")[0]: pair.partition("=")[2] for pair in template.partition("?")[2].split("&")}
    if not any(names.get(p) in ("{{context.patientId}}", "Patient/{{context.patientId}}") for p in _PATIENT_PARAMETERS):
        raise SiteError(where, "a search must keep patient={{context.patientId}}")


def _check_tokens(text: str, where: str) -> None:
    """Refuse a prefetch token other than the context fields every hook has or may send."""
    for token in _TOKEN.findall(text):
        if token.strip() not in _ALLOWED_TOKENS:
            raise SiteError(
                where,
                f"unsupported prefetch token {{{{{token}}}}} (use {{{{context.patientId}}}}, "
                "{{context.userId}} or {{context.encounterId}})",
            )


def _query_safe(value: str) -> bool:
    """Tell whether a parameter value can go into a query string as it is."""
    return not any(c.isspace() or c in "&#" for c in value)


def _source(value: Any) -> dict[str, str]:
    """Return the card source members the site replaces: label, url and icon."""
    if not isinstance(value, Mapping):
        raise SiteError("source", "must be an object with label, url and/or icon")
    _only(value, _SOURCE_MEMBERS, "source")
    source: dict[str, str] = {}
    for name, text in value.items():
        where = f"source.{name}"
        if not isinstance(text, str) or not text.strip():
            raise SiteError(where, "must be a non-empty string")
        if name == "label" and len(text) > 100:
            raise SiteError(where, "must be at most 100 characters")
        parts = urlsplit(text)
        if name in ("url", "icon") and (
            parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in text)
        ):
            raise SiteError(where, "must be an absolute http(s) URL")
        source[name] = text
    return source


def _join(where: str, key: str) -> str:
    """Return a key path."""
    return f"{where}.{key}" if where else key


DEFAULT_SITE = site_from_document({})  # no site file: every card type on, the services' own templates
