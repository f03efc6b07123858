"""The README stays true: its two commands, its example, its settings and rule parameters."""

import re
from pathlib import Path

from cds_service.services import SERVICES_BY_ID
from cds_service.settings import Settings
from hooks.policy import Policy

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
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
        assert f"`{name}`" in README, name
