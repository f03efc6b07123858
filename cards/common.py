"""Pieces every ALP Guard card shares: drug names, sections, notes, evidence tables, removing the order."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from cards.spec import Json, action_create, action_delete, is_relative_reference, suggestion
from cards.text import bullets, escape_markdown, join_names, measurement_table, shorten
from cards.wording import criteria_lines, note_lines
from cards.workup import LabTest, service_request
from hooks.findings import Finding

NewUuid = Callable[[], str]

ANY_ANTIRESORPTIVE = "an antiresorptive"
# A button label has to stay readable even when the EHR sends a very long drug name.
LABEL_NAME_MAX_CHARS = 60


def drug_names(finding: Finding) -> str:
    """Name the antiresorptives involved, as plain text."""
    return join_names(finding.drugs) or ANY_ANTIRESORPTIVE


def drug_markdown(finding: Finding) -> str:
    """Name the antiresorptives involved, escaped for Markdown."""
    return escape_markdown(drug_names(finding))


def sections(*parts: str) -> str:
    """Join the non-empty Markdown sections with blank lines."""
    return "\n\n".join(p for p in parts if p)


def present(*suggestions: Json | None) -> list[Json]:
    """Keep the suggestions that apply."""
    return [s for s in suggestions if s is not None]


def notes_section(finding: Finding) -> str:
    """Show the caveats a prescriber must read with the values."""
    notes = [escape_markdown(n) for n in note_lines(finding) if n.strip()]
    return "**Note**\n" + bullets(notes) if notes else ""


def results_section(heading: str, finding: Finding) -> str:
    """Show the values behind the card and the criteria they meet."""
    if not finding.measurements:
        return ""
    criteria = [escape_markdown(c) for c in criteria_lines(finding) if c.strip()]
    return sections(
        f"**{heading}**\n\n" + measurement_table(finding.measurements),
        bullets(criteria) if criteria else "",
    )


def order_suggestion(
    label: str, tests: Iterable[LabTest], finding: Finding, new_uuid: NewUuid, *, recommended: bool = False
) -> Json:
    """Offer to order these tests together for the finding's patient."""
    return suggestion(
        label,
        [action_create(f"Order {test.name}", service_request(test, finding.patient_id)) for test in tests],
        uuid=new_uuid(),
        recommended=recommended,
    )


def remove_order_suggestion(finding: Finding, new_uuid: NewUuid, *, recommended: bool) -> Json | None:
    """Offer to remove the draft antiresorptive order, when the order can be referenced."""
    reference = finding.order.reference if finding.order else None
    if reference is None or not is_relative_reference(reference):
        return None
    name = shorten(join_names(finding.drugs) or "antiresorptive", LABEL_NAME_MAX_CHARS)
    return suggestion(
        f"Remove the {name} order",
        [
            action_delete(
                f"Remove the {'draft ' if finding.order and finding.order.status == 'draft' else ''}{name} order",
                reference,
            )
        ],
        uuid=new_uuid(),
        recommended=recommended,
    )
