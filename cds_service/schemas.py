"""The JSON Schemas of what the service accepts and answers: request validation and /openapi.json share them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Schema = dict[str, Any]
REF = "#/components/schemas/"


def ref(name: str) -> Schema:
    """Return a reference to a component schema."""
    return {"$ref": REF + name}


def _nullable(schema: Schema) -> Schema:
    """Return `schema` or JSON null: clients may send null for an absent optional member."""
    return {"anyOf": [schema, {"type": "null"}]}


NON_BLANK = {"type": "string", "pattern": r"\S"}  # the service needs a value, not just whitespace
# The audit stores hookInstance and card uuids in columns of this width; a UUID needs 36.
MAX_ID_LENGTH = 100
# Items per feedback request: an EHR reports on the cards of one hook call, a handful at most (413 above).
MAX_FEEDBACK_ITEMS = 100
# A prescriber's comment on an override; with the item cap it bounds the work one feedback request can cause.
MAX_COMMENT_LENGTH = 2000
# The largest feedback body (413 beyond): 100 items with full comments fit; the 5 MB a hook request may need do not.
MAX_FEEDBACK_BYTES = 512_000
# An absolute http(s) URL with a host; ECMA-262 has no inline flags, hence the spelled-out cases.
HTTP_URL = r"^[Hh][Tt][Tt][Pp][Ss]?://[^/?#\s]"
URI = {"type": "string", "format": "uri"}

_JSON_TYPES: dict[type, str] = {dict: "object", list: "array", str: "string"}
# What the service reads of the context members a hook requires (CDS Hooks 2.0 hook definitions).
_CONTEXT_MEMBERS: Mapping[str, Schema] = {
    "draftOrders": {
        "description": "A FHIR Bundle of the orders being drafted.",
        "properties": {"entry": {"type": "array"}},
    },
    "medications": {
        "description": "A FHIR Bundle of the MedicationRequests being refilled (medication-refill).",
        "properties": {"entry": {"type": "array"}},
    },
    "selections": {
        "description": "References (`MedicationRequest/id`) of the orders just selected.",
        "items": {"type": "string"},
    },
}

REQUEST_COMPONENTS: dict[str, Schema] = {
    "FhirAuthorization": {
        "type": "object",
        "description": "The bearer token for fhirServer; the service reads only access_token.",
        "required": ["access_token"],
        "properties": {"access_token": {"type": "string", "minLength": 1}},
    },
    "Coding": {
        "type": "object",
        "required": ["code"],
        "properties": {"code": {"type": "string"}, "system": {"type": "string"}, "display": {"type": "string"}},
    },
    "ReasonCoding": {
        "type": "object",
        "description": "A Coding whose code and system fit the audit's columns.",
        "required": ["code"],
        "properties": {
            "code": {"type": "string", "maxLength": 100},
            "system": {"type": "string", "maxLength": 300},
            "display": {"type": "string"},
        },
    },
    "FeedbackRequest": {
        "type": "object",
        "required": ["feedback"],
        "properties": {"feedback": {"type": "array", "minItems": 1, "items": ref("Feedback")}},
    },
    "Feedback": {
        "type": "object",
        "required": ["card", "outcome", "outcomeTimestamp"],
        "properties": {
            "card": {"type": "string", "minLength": 1, "maxLength": MAX_ID_LENGTH, "description": "The card's uuid."},
            "outcome": {"type": "string", "enum": ["accepted", "overridden"]},
            "outcomeTimestamp": {"type": "string", "maxLength": 40, "format": "date-time"},
            "acceptedSuggestions": _nullable({"type": "array", "items": ref("AcceptedSuggestion")}),
            "overrideReason": _nullable(ref("OverrideReason")),
        },
        "if": {"required": ["outcome"], "properties": {"outcome": {"const": "accepted"}}},
        "then": {
            "required": ["acceptedSuggestions"],
            "properties": {"acceptedSuggestions": {"type": "array", "minItems": 1}},
        },
    },
    "AcceptedSuggestion": {
        "type": "object",
        "required": ["id"],
        "properties": {"id": {"type": "string", "description": "The uuid of the suggestion."}},
    },
    "OverrideReason": {
        "type": "object",
        "properties": {
            "reason": _nullable(ref("ReasonCoding")),
            "userComment": {"type": ["string", "null"], "maxLength": MAX_COMMENT_LENGTH},
        },
        "anyOf": [
            {"required": ["reason"], "properties": {"reason": {"type": "object"}}},
            {"required": ["userComment"], "properties": {"userComment": {"type": "string", "minLength": 1}}},
        ],
    },
}

RESPONSE_COMPONENTS: dict[str, Schema] = {
    "CdsResponse": {
        "type": "object",
        "required": ["cards"],
        "properties": {
            "cards": {"type": "array", "items": ref("Card")},
            "systemActions": {"type": "array", "items": ref("Action")},
        },
    },
    "Card": {
        "type": "object",
        "required": ["summary", "indicator", "source"],
        "properties": {
            "uuid": {"type": "string"},
            "summary": {"type": "string", "maxLength": 139},
            "detail": {"type": "string", "description": "GitHub Flavored Markdown."},
            "indicator": {"type": "string", "enum": ["info", "warning", "critical"]},
            "source": ref("Source"),
            "suggestions": {"type": "array", "items": ref("Suggestion")},
            "selectionBehavior": {"type": "string", "enum": ["at-most-one", "any"]},
            "overrideReasons": {"type": "array", "items": ref("Coding")},
            "links": {"type": "array", "items": ref("Link")},
            "extension": {
                "type": "object",
                "description": "`davinci-crd.associated-resource`: the orders it is about.",
            },
        },
    },
    "Source": {
        "type": "object",
        "required": ["label"],
        "properties": {"label": {"type": "string"}, "url": URI, "icon": URI, "topic": ref("Coding")},
    },
    "Suggestion": {
        "type": "object",
        "required": ["label"],
        "properties": {
            "label": {"type": "string"},
            "uuid": {"type": "string"},
            "isRecommended": {"type": "boolean"},
            "actions": {"type": "array", "items": ref("Action")},
        },
    },
    "Action": {
        "type": "object",
        "required": ["type", "description"],
        "properties": {
            "type": {"type": "string", "enum": ["create", "update", "delete"]},
            "description": {"type": "string"},
            "resource": {"type": "object", "description": "A FHIR resource."},
            "resourceId": {"type": "string", "description": "A relative reference, e.g. MedicationRequest/123."},
        },
    },
    "Link": {
        "type": "object",
        "required": ["label", "url", "type"],
        "properties": {
            "label": {"type": "string"},
            "url": URI,
            "type": {"type": "string", "enum": ["absolute", "smart"]},
            "appContext": {"type": "string"},
            "autolaunchable": {"type": "boolean"},
        },
    },
    "Discovery": {
        "type": "object",
        "required": ["services"],
        "properties": {"services": {"type": "array", "items": ref("ServiceDescription")}},
    },
    "ServiceDescription": {
        "type": "object",
        "required": ["hook", "id", "description"],
        "properties": {
            "hook": {"type": "string"},
            "id": {"type": "string"},
            "title": {"type": "string"},
            "description": {"type": "string"},
            "usageRequirements": {"type": "string"},
            "prefetch": {"type": "object", "additionalProperties": {"type": "string"}},
            "extension": {
                "type": "object",
                "description": "`org.alp-guard.configuration-options`: the card types a call may switch off.",
            },
        },
    },
    "FeedbackReceipt": {
        "type": "object",
        "required": ["received", "stored"],
        "properties": {
            "received": {"type": "integer", "minimum": 1},
            "stored": {"type": "integer", "minimum": 0, "description": "New items, not exact repeats."},
            "ignored": {
                "type": "integer",
                "minimum": 1,
                "description": "Items on cards this service did not issue to this caller: not stored.",
            },
        },
    },
    "Health": {"type": "object", "required": ["status"], "properties": {"status": {"type": "string"}}},
    "OperationOutcome": {
        "type": "object",
        "description": "A FHIR R4 OperationOutcome: one issue whose diagnostics is the short reason (no patient data).",
        "required": ["resourceType", "issue"],
        "properties": {
            "resourceType": {"const": "OperationOutcome"},
            "issue": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["severity", "code"],
                    "properties": {
                        "severity": {"enum": ["fatal", "error", "warning", "information"]},
                        "code": {"type": "string"},
                        "diagnostics": {"type": "string"},
                    },
                },
            },
        },
    },
}

COMPONENTS: dict[str, Schema] = {**REQUEST_COMPONENTS, **RESPONSE_COMPONENTS}


def hook_request_schema(hook: str, required_context: Mapping[str, type]) -> Schema:
    """Return the schema of a CDS Hooks request to a service of `hook` that needs `required_context`."""
    context_members = {
        name: {"type": _JSON_TYPES[kind], **_CONTEXT_MEMBERS.get(name, {})} for name, kind in required_context.items()
    }
    return {
        "type": "object",
        "description": f"A CDS Hooks 2.0 {hook} request; unknown members and extensions are accepted.",
        "required": ["hook", "hookInstance", "context"],
        "properties": {
            "hook": {"const": hook},
            "hookInstance": {**NON_BLANK, "maxLength": MAX_ID_LENGTH},
            "context": {
                "type": "object",
                "required": ["patientId", *required_context],
                "properties": {"patientId": NON_BLANK, **context_members},
            },
            "prefetch": {"type": ["object", "null"], "description": "Prefetch keys as discovery lists them."},
            "fhirServer": {"type": ["string", "null"], "pattern": HTTP_URL},
            "fhirAuthorization": _nullable(ref("FhirAuthorization")),
            "extension": {
                "type": ["object", "null"],
                "description": "Extensions; `org.alp-guard.configuration` switches card types off for this call.",
                "properties": {
                    "org.alp-guard.configuration": {
                        "type": "object",
                        "additionalProperties": {"type": "boolean"},
                        "description": "Card type (topic code) → false to leave it out; unknown codes are ignored.",
                    }
                },
            },
        },
        # CDS Hooks 2.0: a token makes sense only with the server it is for.
        "if": {"required": ["fhirAuthorization"], "properties": {"fhirAuthorization": {"type": "object"}}},
        "then": {"required": ["fhirServer"], "properties": {"fhirServer": {"type": "string"}}},
    }
