"""The container files hold together without a Docker engine: Debian's `docker-compose config` accepts
docker-compose.yml, its services are wired as the demo needs, and the Dockerfile's command serves the app from
the files the Dockerfile copies, and nothing else."""

from __future__ import annotations

import ast
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from cds_service.settings import Settings
from tests.test_demo_patients import (
    BUNDLES,
    COMPOSE_FHIR_SERVER,
    DEMO,
    EXAMPLES,
    patient_of,
)
from tests.test_main import free_port, stop, wait_for

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
README = (ROOT / "README.md").read_text()


def instructions(keyword: str) -> list[str]:
    """Return the arguments of every Dockerfile instruction `keyword`, continuation lines joined."""
    text = DOCKERFILE.replace("\\\n", " ")
    return [line.split(None, 1)[1].strip() for line in text.splitlines() if line.split(None, 1)[:1] == [keyword]]


def test_docker_compose_config_accepts_the_file():
    docker_compose = shutil.which("docker-compose")
    if docker_compose is None:
        message = "docker-compose is not installed (Debian: apt-get install docker-compose; .ci/run does it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    result = subprocess.run(
        [docker_compose, "-f", "docker-compose.yml", "config", "-q"],
        cwd=ROOT,
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_the_stack_is_nginx_alp_guard_postgres_hapi_and_the_demo_loader():
    assert set(SERVICES) == {"proxy", "alp-guard", "postgres", "hapi", "demo-loader"}


def test_only_nginx_is_published_and_it_passes_whole_requests_to_alp_guard():
    proxy, alp_guard = SERVICES["proxy"], SERVICES["alp-guard"]
    image, digest = proxy["image"].split("@")
    assert image.startswith("nginx:") and re.fullmatch(r"sha256:[0-9a-f]{64}", digest)
    assert proxy["ports"] == ["8080:8080"] and "ports" not in alp_guard and alp_guard["expose"] == ["8080"]
    assert proxy["environment"] == {"ALP_GUARD_UPSTREAM": "alp-guard:8080", "NGINX_PORT": "8080"}
    assert proxy["volumes"] == ["./nginx/alp-guard.conf.template:/etc/nginx/templates/default.conf.template:ro"]
    template = (ROOT / "nginx" / "alp-guard.conf.template").read_text()
    directives = dict(re.findall(r"^\s*([a-z_]+) (.+);$", template, re.M))
    assert directives["proxy_request_buffering"] == "on" and directives["proxy_pass"] == "http://alp_guard"
    assert directives["client_header_timeout"] == "10s" and directives["client_body_timeout"] == "10s"
    assert directives["client_max_body_size"] == f"{Settings.model_fields['max_request_bytes'].default // 1_000_000}m"
    # Only the variables the compose file sets are template variables; the rest are nginx's own ($host …).
    assert set(re.findall(r"\$\{(\w+)\}", template)) == set(proxy["environment"])


def test_alp_guard_is_built_here_and_uses_postgres_once_it_is_healthy():
    alp_guard, postgres = SERVICES["alp-guard"], SERVICES["postgres"]
    assert alp_guard["build"] == "."
    environment = alp_guard["environment"]
    assert environment["CDS_AUTH_MODE"] == "none"  # the demo; the compose file says so in a comment
    pg = postgres["environment"]
    assert environment["CDS_DATABASE_URL"] == (
        f"postgresql+psycopg://{pg['POSTGRES_USER']}:{pg['POSTGRES_PASSWORD']}@postgres:5432/{pg['POSTGRES_DB']}"
    )
    assert alp_guard["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])


def test_every_alp_guard_variable_is_a_real_setting():
    settings = {f"CDS_{name.upper()}" for name in Settings.model_fields}
    names = set(SERVICES["alp-guard"]["environment"])
    assert {name for name in names if name.startswith("CDS_")} <= settings
    assert names - settings <= {"GUNICORN_WORKERS", "GUNICORN_THREADS"}


def test_hapi_is_the_official_r4_image_pinned_and_published_on_8090():
    hapi = SERVICES["hapi"]
    image, tag = hapi["image"].split(":")
    assert image == "hapiproject/hapi" and tag != "latest"
    assert hapi["environment"]["hapi.fhir.fhir_version"] == "R4"
    assert hapi["ports"] == ["8090:8080"]


def test_the_loader_waits_for_hapi_and_loads_the_examples_it_mounts():
    loader = SERVICES["demo-loader"]
    assert loader["image"].split("@")[0] == "python:3.11-slim"
    assert loader["depends_on"] == {"hapi": {"condition": "service_started"}}
    assert loader["volumes"] == ["./examples:/demo:ro"]
    command = loader["command"]
    assert command[:2] == ["python", "/demo/load_demo.py"]
    assert command[command.index("--fhir") + 1] == COMPOSE_FHIR_SERVER == "http://hapi:8080/fhir"
    assert float(command[command.index("--wait") + 1]) >= 300  # HAPI takes a minute or two to start
    assert loader["restart"] == "no"


def test_the_loader_needs_only_the_standard_library():
    tree = ast.parse((EXAMPLES / "load_demo.py").read_text())
    modules = {
        alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    }
    modules |= {
        node.module.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and not node.level
    }
    assert modules - {"__future__"} <= sys.stdlib_module_names


def test_the_image_is_slim_python_non_root_with_a_health_check():
    (base,) = instructions("FROM")
    image, digest = base.split("@")
    assert image == "python:3.11-slim" and re.fullmatch(r"sha256:[0-9a-f]{64}", digest)
    (user,) = instructions("USER")
    assert user not in {"root", "0"}
    (health,) = instructions("HEALTHCHECK")
    assert "/healthz" in health
    assert instructions("CMD") == ['["gunicorn", "--config", "gunicorn.conf.py", "cds_service.wsgi:app"]']


def test_the_image_installs_exactly_the_locked_packages_with_hashes():
    (install,) = [run for run in instructions("RUN") if "pip install" in run]
    assert "--require-hashes" in install and "--no-deps" in install and "-r requirements.lock" in install

    def normal(name: str) -> str:
        return re.sub(r"[-_.]+", "-", re.sub(r"\[.*\]", "", name)).lower()

    locked = {
        normal(line.split("==")[0]): line
        for line in (ROOT / "requirements.lock").read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert all(re.fullmatch(r"[a-z0-9._-]+==\S+ --hash=sha256:[0-9a-f]{64}", line) for line in locked.values())
    for requirement in (ROOT / "requirements.txt").read_text().splitlines():
        requirement = requirement.split("#")[0].strip()
        if requirement:  # each direct requirement is locked at the version requirements.txt pins
            name, version = requirement.split("==")
            assert locked[normal(name)].split(" ")[0].split("==")[1] == version, name


def test_the_build_context_leaves_out_local_state():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", "**/node_modules", "instance/"} <= set(ignored)


def test_the_image_command_serves_the_app_from_the_copied_files_alone(tmp_path):
    app = tmp_path / "app"
    app.mkdir()
    for copy in instructions("COPY"):
        source, target = shlex.split(copy)
        if source in ("requirements.txt", "requirements.lock"):
            continue  # installed into the image's Python, as requirements.txt is into this one
        destination = app / target.removeprefix("./").rstrip("/")
        if (ROOT / source).is_dir():
            shutil.copytree(
                ROOT / source,
                destination if target != "." else app / source,
                ignore=shutil.ignore_patterns("__pycache__"),
            )
        else:
            shutil.copy(ROOT / source, app / Path(source).name if target == "." else destination)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("CDS_", "PYTHON"))}
    env.update(dict(re.findall(r"(\w+)=(\S+)", " ".join(instructions("ENV")))))
    env.update(
        CDS_HOST="127.0.0.1",
        CDS_PORT=str(free_port()),
        CDS_AUTH_MODE="none",
        CDS_DATABASE_URL=f"sqlite:///{tmp_path / 'image.sqlite3'}",
        GUNICORN_WORKERS="1",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    command = ast.literal_eval(instructions("CMD")[0])
    process = subprocess.Popen(
        [shutil.which(command[0], path=env["PATH"]), *command[1:]],
        cwd=app,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{env['CDS_PORT']}"
        assert wait_for(f"{base}/healthz", process) == {"status": "ok"}
        assert len(wait_for(f"{base}/cds-services", process)["services"]) == 4
    finally:
        stop(process)


def test_the_readme_demo_names_the_stack_urls_and_every_demo_patient():
    section = README.split("## Demo with Docker", 1)[1].split("\n## ", 1)[0]
    assert "docker compose up" in section
    assert "http://localhost:8080/cds-services" in section and "http://localhost:8090/fhir" in section
    for _, bundle, _ in DEMO.values():
        assert f"`{patient_of(BUNDLES[bundle])['id']}`" in section
