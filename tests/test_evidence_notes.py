"""Every citation of an evidence note names a note in docs/evidence/ and, when it names a section, one that exists."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTES = ROOT / "docs" / "evidence"
CITED_FROM = ("hooks", "cards", "cds_service", "tests", "bench", "examples")
CITATION = re.compile(r"docs/evidence/([\w.-]+\.md)(?:#([\w-]+))?")
LOCAL_LINK = re.compile(r"\]\(#([\w-]+)\)")
DOCS_LINK = re.compile(r"\]\(evidence/([\w.-]+\.md)(?:#([\w-]+))?\)")
# Research notes that live outside the repository: a reader of the code cannot open them.
OUTSIDE_NOTES = re.compile(r"\b(clinical|anchors|ecosystem|cds-hooks-spec)\.md\b|\bresearch-\d+ §")


def slug(heading: str) -> str:
    """Return the anchor GitHub gives a Markdown heading."""
    kept = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return kept.replace(" ", "-")


def anchors(note: Path) -> set[str]:
    """Return the anchors of the headings in a note."""
    return {slug(line.lstrip("#")) for line in note.read_text(encoding="utf-8").splitlines() if line.startswith("#")}


def citing_files() -> list[Path]:
    """Return the source files and notes that may cite an evidence note."""
    sources = [
        path for folder in CITED_FROM for path in (ROOT / folder).rglob("*.py") if "node_modules" not in path.parts
    ]
    return sources + sorted(NOTES.glob("*.md")) + sorted((ROOT / "docs").glob("*.md"))


def citations() -> list[tuple[str, str, str | None]]:
    """Return (citing file, note, anchor) for every citation of a note."""
    found = []
    for path in citing_files():
        text = path.read_text(encoding="utf-8")
        found += [(path.relative_to(ROOT).as_posix(), m[1], m[2]) for m in CITATION.finditer(text)]
        if path.parent == NOTES:
            found += [(path.relative_to(ROOT).as_posix(), path.name, m[1]) for m in LOCAL_LINK.finditer(text)]
        if path.parent == NOTES.parent:
            found += [(path.relative_to(ROOT).as_posix(), m[1], m[2]) for m in DOCS_LINK.finditer(text)]
    return found


def test_slug_follows_github():
    assert slug("The acute liver failure picture (the gate)") == "the-acute-liver-failure-picture-the-gate"
    assert slug("Persistent, recurrent, transient") == "persistent-recurrent-transient"


def test_the_code_cites_notes_with_sections():
    cited = citations()
    assert len({(note, anchor) for _, note, anchor in cited if anchor}) >= 20


@pytest.mark.parametrize("citing, note, anchor", citations(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_cited_note_and_section_exists(citing, note, anchor):
    path = NOTES / note
    assert path.is_file(), f"{citing} cites docs/evidence/{note}, which does not exist"
    if anchor:
        assert anchor in anchors(path), f"{citing} cites docs/evidence/{note}#{anchor}: no such section"


def test_no_citation_points_outside_the_repository():
    outside = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in citing_files()
        if path != Path(__file__).resolve()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE_NOTES.search(line)
    ]
    assert outside == []
