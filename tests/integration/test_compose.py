"""The deployment files agree with the code: docker-compose.yml, the Dockerfiles, the README.

No Docker engine is needed: compose is validated against the Compose Specification schema that
check-jsonschema ships (offline), the Dockerfiles are parsed, and the topics, ports, commands and
environment variables they name are compared with what the services declare.
"""

from __future__ import annotations

import re
import subprocess
import sysconfig
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from pydantic_settings import BaseSettings
from ruamel.yaml import YAML

from naervaer.auth.settings import AuthSettings
from naervaer.privacy.vault_setup import DEV_MASTER_KEY
from naervaer.runtime import ServiceRuntime
from naervaer.service import ServiceSpec, discover_services
from naervaer.settings import PlatformSettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
SPECS = discover_services()
ROOT_IDS = {"0", "root"}


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper-cased, e.g. "FROM"
    arguments: str


def dockerfile_instructions(text: str) -> list[Instruction]:
    """Instructions of a Dockerfile: comments dropped, backslash continuations joined."""
    instructions: list[Instruction] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue  # also inside a continuation, as Docker does
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).partition(" ")
        instructions.append(Instruction(keyword.upper(), arguments.strip()))
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    return instructions


def final_stage(instructions: list[Instruction]) -> list[Instruction]:
    """The instructions after the last FROM: what the image that runs is made of."""
    starts = [i for i, instruction in enumerate(instructions) if instruction.keyword == "FROM"]
    return instructions[starts[-1] :]


def settings_env_names() -> set[str]:
    """Every environment variable the settings models read (prefix + upper-cased field)."""
    models: list[tuple[type[BaseSettings], str]] = [
        (PlatformSettings, "NAERVAER_"),
        (AuthSettings, "NAERVAER_AUTH_"),
    ]
    for spec in SPECS.values():
        models.append((spec.settings_cls, str(spec.settings_cls.model_config["env_prefix"])))
    return {prefix + name.upper() for model, prefix in models for name in model.model_fields}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = YAML(typ="safe", pure=True).load(COMPOSE_FILE.read_text())
    return loaded


@pytest.fixture
async def runtimes(tmp_path: Path) -> AsyncIterator[dict[str, ServiceRuntime]]:
    """Each service's runtime as a Kafka deployment builds it (nothing connects or starts)."""
    platform = PlatformSettings(data_dir=tmp_path, kafka_bootstrap="kafka:19092")
    built = {
        key: ServiceRuntime(spec, platform, SPECS, tracer_provider=TracerProvider())
        for key, spec in SPECS.items()
    }
    yield built
    for runtime in built.values():
        await runtime.engine.dispose()


def test_compose_file_is_valid_under_the_compose_specification() -> None:
    tool = Path(sysconfig.get_path("scripts")) / "check-jsonschema"
    result = subprocess.run(
        [str(tool), "--builtin-schema", "vendor.compose-spec", str(COMPOSE_FILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("spec", SPECS.values(), ids=lambda spec: spec.key)
def test_dockerfile_is_a_two_stage_non_root_image_with_a_healthcheck(spec: ServiceSpec) -> None:
    instructions = dockerfile_instructions(
        (ROOT / "services" / spec.name / "Dockerfile").read_text()
    )
    runtime = final_stage(instructions)
    args = {
        keyword: [i.arguments for i in runtime if i.keyword == keyword]
        for keyword in ("USER", "HEALTHCHECK", "EXPOSE", "CMD")
    }

    assert sum(i.keyword == "FROM" for i in instructions) >= 2
    assert args["USER"], "the runtime stage sets no USER"
    assert args["USER"][-1].split(":")[0] not in ROOT_IDS
    assert len(args["HEALTHCHECK"]) == 1
    assert "/healthz" in args["HEALTHCHECK"][0]
    assert str(spec.default_port) in " ".join(args["EXPOSE"]).split()
    assert args["CMD"] == [f'["naervaer", "serve", "{spec.key}", "--no-migrate"]']


@pytest.mark.parametrize("spec", SPECS.values(), ids=lambda spec: spec.key)
def test_dockerfile_installs_only_its_own_package_from_the_lock(spec: ServiceSpec) -> None:
    instructions = dockerfile_instructions(
        (ROOT / "services" / spec.name / "Dockerfile").read_text()
    )
    syncs = [i.arguments for i in instructions if i.keyword == "RUN" and "uv sync" in i.arguments]

    assert syncs
    for sync in syncs:
        assert re.search(rf"--package naervaer-{spec.key}-service(\s|$)", sync)
        assert "--locked" in sync
        assert "--no-dev" in sync


@pytest.mark.parametrize("spec", SPECS.values(), ids=lambda spec: spec.key)
def test_compose_serves_each_service_on_its_port(
    spec: ServiceSpec, compose: dict[str, Any]
) -> None:
    service = compose["services"][spec.name]

    assert service["command"] == ["naervaer", "serve", spec.key, "--no-migrate"]
    assert f"{spec.default_port}:{spec.default_port}" in service["ports"]
    assert service["build"]["dockerfile"] == f"services/{spec.name}/Dockerfile"
    # The one-shot jobs must be adopted this way, or `docker compose up --wait` reports them
    # as failed when they exit.
    for job in ("migrate", "kafka-topics"):
        assert service["depends_on"][job]["condition"] == "service_completed_successfully"
    assert service["environment"]["NAERVAER_ENVIRONMENT"] == "production"


@pytest.mark.parametrize("spec", SPECS.values(), ids=lambda spec: spec.key)
def test_compose_hands_each_service_its_keys_as_secrets(
    spec: ServiceSpec, compose: dict[str, Any]
) -> None:
    service = compose["services"][spec.name]
    env = service["environment"]

    assert compose_secret(compose, service, env["NAERVAER_AUTH_PUBLIC_KEY_FILE"]) == (
        "naervaer_auth_public_key"
    )
    assert compose_secret(compose, service, env["NAERVAER_MASTER_KEY_FILE"]) == (
        "naervaer_master_key"
    )
    if spec.key == "document":
        signing_key = env["NAERVAER_DOCUMENT_SIGNING_KEY_FILE"]
        assert compose_secret(compose, service, signing_key) == "naervaer_audit_signing_key"


def compose_secret(compose: dict[str, Any], service: dict[str, Any], file: str) -> str:
    """The secret that ``file`` is: granted to the service, declared from a file on the host."""
    folder, _, name = file.rpartition("/")
    granted = service.get("secrets", [])

    assert folder == "/run/secrets", f"{file} is not where compose mounts secrets"
    # Short syntax: the secret's name is its file name (long syntax could rename it).
    assert all(isinstance(entry, str) for entry in granted), "only the short syntax is checked"
    assert name in granted, f"{file} is not one of the service's secrets"
    assert "file" in compose["secrets"][name], f"secret {name} is not read from a file"
    return name


def test_compose_master_key_defaults_to_the_one_development_makes(
    compose: dict[str, Any],
) -> None:
    """Where development (``naervaer up``) makes the key: no extra step before compose."""
    dev_key = Path(PlatformSettings.model_fields["data_dir"].default) / DEV_MASTER_KEY

    assert compose["secrets"]["naervaer_master_key"]["file"] == (
        f"${{NAERVAER_MASTER_KEY_PATH:-./{dev_key.as_posix()}}}"
    )
    assert "NAERVAER_MASTER_KEY_FILE" not in compose["services"]["migrate"]["environment"]


async def test_compose_creates_every_topic_the_services_use(
    compose: dict[str, Any], runtimes: dict[str, ServiceRuntime]
) -> None:
    needed: set[str] = set()
    for runtime in runtimes.values():
        needed |= set(runtime.topics())
    script = " ".join(compose["services"]["kafka-topics"]["command"])

    assert set(re.findall(r"naervaer\.[\w.-]+", script)) == needed
    assert "--partitions 6" in script


def test_compose_sets_only_settings_that_exist(compose: dict[str, Any]) -> None:
    known = settings_env_names()
    for name, service in compose["services"].items():
        environment = service.get("environment") or {}
        unknown = {key for key in environment if key.startswith("NAERVAER_")} - known
        assert not unknown, f"{name} sets {sorted(unknown)}, which no settings model reads"


def test_readme_documents_every_environment_variable() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = sorted(name for name in settings_env_names() if f"`{name}`" not in readme)
    assert not missing, f"README.md's configuration table lacks {missing}"
