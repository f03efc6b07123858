"""The README stays true: its two commands, its example, its settings and rule parameters."""

import re
from pathlib import Path

from cds_service.services import SERVICES_BY_ID
from cds_service.settings import Settings
from hooks.policy import Policy

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
DOCS = {path.name: path.read_text() for path in (ROOT / "docs").glob("*.md")}
FIRST_SCREEN = "\n".join(README.splitlines()[:30])
COMMANDS = re.findall(r"```sh\n(.+?)\n```", FIRST_SCREEN)


def test_the_first_screen_gives_the_start_command_and_the_test_command():
    start, tests = COMMANDS[0], COMMANDS[1]
    assert start.startswith("python3 -m venv .venv") and start.endswith("-m cds_service")
    assert tests.startswith("python3 -m venv .venv") and tests.endswith("-m pytest")


def test_ci_runs_exactly_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1] == COMMANDS[1]


def test_the_curl_example_names_a_real_example_and_service():
    match = re.search(r"--data @(\S+) http://127\.0\.0\.1:8080/cds-services/(\S+)", COMMANDS[2])
    assert (ROOT / match[1]).is_file() and match[2] in SERVICES_BY_ID


def test_every_setting_is_documented():
    for field in Settings.model_fields:
        if field not in ("policy", "site"):  # the site comes from CDS_SITE_FILE
            assert f"`CDS_{field.upper()}`" in README, field


def test_every_rule_parameter_is_documented():
    for name in Policy.__dataclass_fields__:
        assert f"`{name}`" in DOCS["policy.md"], name


def headings() -> list[str]:
    return re.findall(r"^#{2,3} (.+)$", README, re.M)


def anchor(heading: str) -> str:
    """Return GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^a-z0-9 -]", "", heading.lower()).replace(" ", "-")


def test_the_contents_link_every_top_section_and_every_link_resolves():
    contents = re.search(r"\*\*Contents:\*\*(.+?)\n\n", README, re.S).group(1)
    top = [h for h in re.findall(r"^## (.+)$", README, re.M)]
    assert [f"#{anchor(h)}" for h in top] == [
        a for a in re.findall(r"\]\((#[a-z0-9-]+)\)", contents) if a in {f"#{anchor(h)}" for h in top}
    ]
    anchors = {f"#{anchor(h)}" for h in headings()}
    for target in re.findall(r"\]\((#[a-z0-9-]+)\)", README):
        assert target in anchors, target
    for target in re.findall(r"\]\(((?:docs|nginx|hooks|bench)/[^)#]+|LICENSE|NOTICE|BENCHMARKS\.md)", README):
        assert (ROOT / target).exists(), target


def test_the_demo_comes_right_after_the_commands_with_and_without_docker():
    top = re.findall(r"^## (.+)$", README, re.M)
    assert top[0] == "Try the demo"
    demo = README.split("## Try the demo", 1)[1].split("\n## ", 1)[0]
    assert "### Without Docker" in demo and "### Demo with Docker" in demo
    assert ".venv/bin/python examples/demo.py" in demo and (ROOT / "examples" / "demo.py").is_file()
    assert "docker compose up" in demo and "docker-compose up" in demo
    curl = next(line for line in demo.splitlines() if line.startswith("sed "))
    example = re.search(r"(examples/demo-\S+\.json)", curl).group(1)
    assert (ROOT / example).is_file() and "http://127.0.0.1:8090/fhir" in curl and "--data @-" in curl


def test_environment_snippets_export_their_variables_and_commands_use_the_venv():
    for block in re.findall(r"```sh\n(.+?)\n```", README, re.S):
        for line in block.splitlines():
            assert not re.match(r"^[A-Z_]+=\S", line), line  # `export NAME=…`, so the next command sees it
    assert ".venv/bin/gunicorn --config gunicorn.conf.py cds_service.wsgi:app" in README
    assert "\ngunicorn " not in README and "`gunicorn --config" not in README


def test_the_long_rule_and_policy_tables_live_in_docs():
    assert "| parameter | default | source |" in DOCS["policy.md"] and "| parameter |" not in README
    assert "**The pattern**" in DOCS["rules.md"] and "**The pattern**" not in README
    assert "(docs/rules.md)" in README and "(docs/policy.md)" in README


def test_the_license_is_apache_2_with_the_contributors_named():
    assert "Apache License" in (ROOT / "LICENSE").read_text() and "Version 2.0" in (ROOT / "LICENSE").read_text()
    assert "Copyright 2026 ALP Guard contributors" in (ROOT / "NOTICE").read_text()
