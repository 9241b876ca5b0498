"""The Kubernetes manifests in deploy/ agree with the schemas, with good practice and with the code.

Offline: no cluster and no API server. Each kustomization is rendered by a small renderer of
the kustomize features deploy/ uses (resources, namespace, images, strategic-merge patches); when
``kubectl`` is installed its ``kubectl kustomize`` must render exactly the same objects, which
keeps the renderer honest. Every rendered object is validated with kubernetes-validate in strict
mode (unknown fields fail), then checked against what the services declare: commands, ports,
probes, topics, settings.
"""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
from opentelemetry.sdk.trace import TracerProvider
from ruamel.yaml import YAML

from naervaer.runtime import ServiceRuntime
from naervaer.service import ServiceSpec
from naervaer.settings import PlatformSettings

from .test_compose import SPECS, settings_env_names

ROOT = Path(__file__).resolve().parents[2]
BASE, PRODUCTION = ROOT / "deploy" / "base", ROOT / "deploy" / "overlays" / "production"
# The oldest Kubernetes the manifests are for (preStop sleep is on by default from 1.30).
KUBERNETES_VERSIONS = ("1.30.0", kubernetes_validate.latest_version())
CLUSTER_SCOPED = {"Namespace"}
# Where strategic merge matches list items by a key instead of replacing the list.
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "topologySpreadConstraints": "topologyKey",
}
PREPARE = ("naervaer/phase", "prepare")
Obj = dict[str, Any]


def load_all(path: Path) -> list[Obj]:
    return [doc for doc in YAML(typ="safe", pure=True).load_all(path.read_text()) if doc]


def render(directory: Path) -> list[Obj]:
    """What ``kubectl kustomize directory`` prints, for the features deploy/ uses."""
    (kustomization,) = load_all(directory / "kustomization.yaml")
    objects: list[Obj] = []
    for entry in kustomization.get("resources", []):
        path = directory / entry
        objects += render(path) if path.is_dir() else load_all(path)
    for patch in kustomization.get("patches", []):
        apply_patch(objects, patch, load_all(directory / patch["path"])[0])
    for image in kustomization.get("images", []):
        for container in (c for obj in objects for c in containers(obj)):
            set_image(container, image)
    if namespace := kustomization.get("namespace"):
        for obj in objects:
            if obj["kind"] not in CLUSTER_SCOPED:
                obj["metadata"]["namespace"] = namespace
    return objects


def apply_patch(objects: list[Obj], patch: dict[str, Any], body: Obj) -> None:
    target = patch.get("target") or {"kind": body["kind"], "name": body["metadata"]["name"]}
    matched = [
        obj
        for obj in objects
        if obj["kind"] == target["kind"]
        and target.get("name", obj["metadata"]["name"]) == obj["metadata"]["name"]
    ]
    assert matched, f"patch {patch['path']} matches nothing"
    for obj in matched:
        merge(obj, {k: v for k, v in body.items() if k not in ("apiVersion", "kind", "metadata")})


def merge(into: Obj, patch: Obj) -> None:
    """Strategic merge: maps merge, keyed lists merge item by item, other lists are replaced."""
    for key, value in patch.items():
        current = into.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            merge(current, value)
        elif key in MERGE_KEYS and isinstance(current, list):
            by_key = {item[MERGE_KEYS[key]]: item for item in current}
            for item in value:
                if item[MERGE_KEYS[key]] in by_key:
                    merge(by_key[item[MERGE_KEYS[key]]], item)
                else:
                    current.append(copy.deepcopy(item))
        else:
            into[key] = copy.deepcopy(value)


def set_image(container: Obj, image: dict[str, str]) -> None:
    name, _, tag = container["image"].partition(":")
    if name == image["name"]:
        container["image"] = f"{image.get('newName', name)}:{image.get('newTag', tag)}"


def kubectl_render(directory: Path) -> list[Obj] | None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        return None
    done = subprocess.run(
        [kubectl, "kustomize", str(directory)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return [doc for doc in YAML(typ="safe", pure=True).load_all(done.stdout) if doc]


def keyed(objects: list[Obj]) -> dict[tuple[str, str], Obj]:
    found = {(o["kind"], o["metadata"]["name"]): o for o in objects}
    assert len(found) == len(objects), "two objects share a kind and name"
    return found


def containers(obj: Obj) -> list[Obj]:
    if obj["kind"] not in ("Deployment", "Job"):
        return []
    pod = obj["spec"]["template"]["spec"]
    return [*pod.get("initContainers", []), *pod["containers"]]


class Rendered:
    """One rendered kustomization, looked up by kind and name."""

    def __init__(self, objects: list[Obj]) -> None:
        self.objects = objects
        self.by_key = keyed(objects)

    def get(self, kind: str, name: str) -> Obj:
        assert (kind, name) in self.by_key, f"no {kind} {name}"
        return self.by_key[(kind, name)]

    def of_kind(self, kind: str) -> list[Obj]:
        return [o for o in self.objects if o["kind"] == kind]

    def config(self, name: str) -> dict[str, str]:
        return dict(self.get("ConfigMap", name)["data"])

    def environment(self, container: Obj) -> dict[str, Any]:
        """A container's environment: its ConfigMaps' keys, then its own entries (which win)."""
        found: dict[str, Any] = {}
        for source in container.get("envFrom", []):
            found.update(self.config(source["configMapRef"]["name"]))
        for entry in container.get("env", []):
            found[entry["name"]] = entry.get("value", entry.get("valueFrom"))
        return found


@pytest.fixture(scope="module", params=[BASE, PRODUCTION], ids=["base", "production"])
def rendered(request: pytest.FixtureRequest) -> Rendered:
    directory: Path = request.param
    objects = render(directory)
    by_kubectl = kubectl_render(directory)
    if by_kubectl is not None:
        assert keyed(by_kubectl) == keyed(objects), "the renderer and kubectl kustomize differ"
    return Rendered(objects)


@pytest.fixture(scope="module")
def production() -> Rendered:
    return Rendered(render(PRODUCTION))


@pytest.fixture
async def runtimes(tmp_path: Path, rendered: Rendered) -> AsyncIterator[list[ServiceRuntime]]:
    """Each service's runtime as the deployment configures it (nothing connects or starts)."""
    config = rendered.config("naervaer-config")
    platform = PlatformSettings(
        data_dir=tmp_path,
        kafka_bootstrap=config["NAERVAER_KAFKA_BOOTSTRAP"],
        topic_prefix=config["NAERVAER_TOPIC_PREFIX"],
    )
    built = [
        ServiceRuntime(spec, platform, SPECS, tracer_provider=TracerProvider())
        for spec in SPECS.values()
    ]
    yield built
    for runtime in built:
        await runtime.engine.dispose()


def test_every_object_is_valid_kubernetes_in_strict_mode(rendered: Rendered) -> None:
    for obj in rendered.objects:
        for version in KUBERNETES_VERSIONS:
            kubernetes_validate.validate(obj, version, strict=True)


def test_everything_lives_in_the_restricted_namespace(rendered: Rendered) -> None:
    namespace = rendered.get("Namespace", "naervaer")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for obj in rendered.objects:
        if obj["kind"] not in CLUSTER_SCOPED:
            assert obj["metadata"]["namespace"] == "naervaer", obj["metadata"]["name"]


def test_no_secret_is_written_into_the_manifests(rendered: Rendered) -> None:
    assert not rendered.of_kind("Secret")
    for config in rendered.of_kind("ConfigMap"):
        assert not [key for key in config["data"] if secretish(key)], config["metadata"]["name"]
    for workload in (*rendered.of_kind("Deployment"), *rendered.of_kind("Job")):
        for container in containers(workload):
            for entry in container.get("env", []):
                if secretish(entry["name"]):
                    assert "secretKeyRef" in entry.get("valueFrom", {}), entry["name"]
            assert all("configMapRef" in source for source in container.get("envFrom", []))


def secretish(name: str) -> bool:
    return any(word in name for word in ("DATABASE_URL", "PASSWORD", "TOKEN", "SECRET", "PEM"))


@pytest.mark.parametrize("spec", SPECS.values(), ids=lambda spec: spec.key)
def test_each_service_runs_its_command_on_its_port(spec: ServiceSpec, rendered: Rendered) -> None:
    deployment = rendered.get("Deployment", spec.name)
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    port_variable = f"{spec.settings_cls.model_config['env_prefix']}PORT"

    assert "replicas" not in deployment["spec"], "the autoscaler owns the replica count"
    assert container["command"] == ["naervaer", "serve", spec.key, "--no-migrate"]
    assert container["image"].rpartition(":")[0].endswith(f"naervaer/{spec.name}")
    assert container["ports"] == [{"name": "http", "containerPort": spec.default_port}]
    assert rendered.environment(container)[port_variable] == str(spec.default_port)
    service = rendered.get("Service", spec.name)
    assert service["spec"]["ports"] == [
        {"name": "http", "port": spec.default_port, "targetPort": "http"}
    ]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()


@pytest.mark.parametrize("spec", SPECS.values(), ids=lambda spec: spec.key)
def test_each_service_is_probed_bounded_and_unprivileged(
    spec: ServiceSpec, rendered: Rendered
) -> None:
    pod = rendered.get("Deployment", spec.name)["spec"]["template"]["spec"]
    (container,) = pod["containers"]

    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
    for bound in ("requests", "limits"):
        assert set(container["resources"][bound]) == {"cpu", "memory"}
    assert_unprivileged(pod, container)
    assert pod["automountServiceAccountToken"] is False


def assert_unprivileged(pod: Obj, container: Obj) -> None:
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    security = container["securityContext"]
    assert security["allowPrivilegeEscalation"] is False
    assert security["readOnlyRootFilesystem"] is True
    assert security["capabilities"] == {"drop": ["ALL"]}


@pytest.mark.parametrize("spec", SPECS.values(), ids=lambda spec: spec.key)
def test_each_service_is_production_with_its_secrets_from_secrets(
    spec: ServiceSpec, rendered: Rendered
) -> None:
    pod = rendered.get("Deployment", spec.name)["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    env = rendered.environment(container)

    assert env["NAERVAER_ENVIRONMENT"] == "production"
    assert env["NAERVAER_DATABASE_URL"] == {
        "secretKeyRef": {"name": "naervaer-database", "key": "url"}
    }
    assert mounted_secret(pod, container, env["NAERVAER_AUTH_PUBLIC_KEY_FILE"]) == "naervaer-auth"
    master_key = env["NAERVAER_MASTER_KEY_FILE"]
    assert mounted_secret(pod, container, master_key) == "naervaer-master-key"
    assert not mounted_secret_is_optional(pod, container, master_key), "start without it: never"
    if spec.key == "document":
        signing_key = env["NAERVAER_DOCUMENT_SIGNING_KEY_FILE"]
        assert mounted_secret(pod, container, signing_key) == "naervaer-document-signing"
    if spec.key == "notification":
        assert env["NAERVAER_NOTIFICATION_SMTP_PASSWORD"] == {
            "secretKeyRef": {"name": "naervaer-smtp", "key": "password"}
        }


def mounted_secret(pod: Obj, container: Obj, file: str) -> str:
    """The Secret that ``file`` is mounted from (one of its items, read-only)."""
    secret_name: str = secret_volume(pod, container, file)["secretName"]
    return secret_name


def mounted_secret_is_optional(pod: Obj, container: Obj, file: str) -> bool:
    return bool(secret_volume(pod, container, file).get("optional", False))


def secret_volume(pod: Obj, container: Obj, file: str) -> Obj:
    """The secret volume source holding ``file`` (as one of its items, mounted read-only)."""
    for mount in container["volumeMounts"]:
        folder, _, name = file.rpartition("/")
        if mount["mountPath"] == folder:
            assert mount["readOnly"] is True
            (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
            assert name in {item["path"] for item in volume["secret"]["items"]}
            source: Obj = volume["secret"]
            return source
    raise AssertionError(f"{file} is not mounted")


def test_the_readme_creates_every_secret_with_the_keys_used(rendered: Rendered) -> None:
    created = readme_secrets((ROOT / "deploy" / "README.md").read_text())
    for name, key in secret_keys_used(rendered):
        assert name in created, f"deploy/README.md does not create Secret {name}"
        assert key in created[name], f"deploy/README.md's Secret {name} lacks key {key}"


def readme_secrets(readme: str) -> dict[str, set[str]]:
    """``kubectl create secret generic NAME --from-…=KEY=…`` commands: keys by Secret name."""
    created: dict[str, set[str]] = {}
    for command in readme.replace("\\\n", " ").splitlines():
        if match := re.search(r"create secret generic (\S+)", command):
            keys = re.findall(r"--from-(?:file|literal)=([^=\s]+)=", command)
            created.setdefault(match.group(1), set()).update(keys)
    return created


def secret_keys_used(rendered: Rendered) -> set[tuple[str, str]]:
    used: set[tuple[str, str]] = set()
    for workload in (*rendered.of_kind("Deployment"), *rendered.of_kind("Job")):
        for volume in workload["spec"]["template"]["spec"].get("volumes", []):
            if source := volume.get("secret"):
                used |= {(source["secretName"], item["key"]) for item in source["items"]}
        for container in containers(workload):
            for entry in container.get("env", []):
                if ref := entry.get("valueFrom", {}).get("secretKeyRef"):
                    used.add((ref["name"], ref["key"]))
    assert ("naervaer-master-key", "master.key") in used
    return used


@pytest.mark.parametrize("spec", SPECS.values(), ids=lambda spec: spec.key)
def test_each_service_scales_within_the_partitions_and_survives_disruption(
    spec: ServiceSpec, rendered: Rendered
) -> None:
    autoscaler = rendered.get("HorizontalPodAutoscaler", spec.name)["spec"]
    budget = rendered.get("PodDisruptionBudget", spec.name)["spec"]
    labels = rendered.get("Deployment", spec.name)["spec"]["template"]["metadata"]["labels"]
    partitions = int(rendered.config("naervaer-config")["NAERVAER_KAFKA_PARTITIONS"])

    assert autoscaler["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": spec.name,
    }
    # Replicas past the partition count would hold idle consumers.
    assert 2 <= autoscaler["minReplicas"] <= autoscaler["maxReplicas"] <= partitions
    assert budget["maxUnavailable"] == 1
    assert budget["selector"]["matchLabels"].items() <= labels.items()


def test_the_migration_job_migrates_every_service_in_production(rendered: Rendered) -> None:
    job = rendered.get("Job", "naervaer-migrate")
    pod = job["spec"]["template"]["spec"]
    by_service = {c["command"][-1]: c for c in pod["containers"]}

    assert set(by_service) == set(SPECS)
    for key, container in by_service.items():
        assert container["command"] == ["naervaer", "migrate", key]
        assert container["image"].rpartition(":")[0].endswith(f"naervaer/{SPECS[key].name}")
        env = rendered.environment(container)
        assert env["NAERVAER_ENVIRONMENT"] == "production"
        assert "secretKeyRef" in env["NAERVAER_DATABASE_URL"]
        assert_unprivileged(pod, container)
    assert pod["restartPolicy"] == "Never"


async def test_the_topic_job_creates_every_topic_the_services_use(
    rendered: Rendered, runtimes: list[ServiceRuntime]
) -> None:
    config = rendered.config("naervaer-config")
    created = {
        config["NAERVAER_TOPIC_PREFIX"] + name
        for name in rendered.config("naervaer-kafka-topics")["TOPICS"].split()
    }
    needed = {topic for runtime in runtimes for topic in runtime.topics()}
    job = rendered.get("Job", "naervaer-kafka-topics")["spec"]["template"]["spec"]
    (container,) = job["containers"]
    env = rendered.environment(container)

    assert created == needed
    assert env["PARTITIONS"] == {
        "configMapKeyRef": {"name": "naervaer-config", "key": "NAERVAER_KAFKA_PARTITIONS"}
    }
    assert int(config["NAERVAER_KAFKA_PARTITIONS"]) >= 12
    script = container["args"][0]
    for flag in ("--if-not-exists", '--partitions "$PARTITIONS"', "$NAERVAER_KAFKA_BOOTSTRAP"):
        assert flag in script


def test_the_prepare_step_holds_the_jobs_and_all_they_need(rendered: Rendered) -> None:
    """``kubectl apply -l naervaer/phase=prepare`` must be enough to run both Jobs first."""
    prepared = {
        (o["kind"], o["metadata"]["name"])
        for o in rendered.objects
        if PREPARE in o["metadata"].get("labels", {}).items()
    }
    assert {("Job", "naervaer-migrate"), ("Job", "naervaer-kafka-topics")} <= prepared
    assert ("Namespace", "naervaer") in prepared
    assert ("ServiceAccount", "naervaer") in prepared
    for kind in ("Deployment", "HorizontalPodAutoscaler", "Service"):
        assert not any(k == kind for k, _ in prepared), f"a {kind} would start too early"
    for job in rendered.of_kind("Job"):
        for container in containers(job):
            for source in container.get("envFrom", []):
                assert ("ConfigMap", source["configMapRef"]["name"]) in prepared
            for entry in container.get("env", []):
                ref = entry.get("valueFrom", {}).get("configMapKeyRef")
                assert ref is None or ("ConfigMap", ref["name"]) in prepared


def test_the_configuration_names_only_settings_that_exist(rendered: Rendered) -> None:
    known = settings_env_names()
    names = {key for cm in rendered.of_kind("ConfigMap") for key in cm["data"]}
    for workload in (*rendered.of_kind("Deployment"), *rendered.of_kind("Job")):
        names |= {e["name"] for c in containers(workload) for e in c.get("env", [])}
    unknown = {name for name in names if name.startswith("NAERVAER_")} - known
    assert not unknown, f"no settings model reads {sorted(unknown)}"


def test_production_pins_images_from_a_registry(production: Rendered) -> None:
    for workload in (*production.of_kind("Deployment"), *production.of_kind("Job")):
        for container in containers(workload):
            name, _, tag = container["image"].partition(":")
            assert tag, container["image"]
            assert tag != "latest", container["image"]
            if "naervaer/" in name:
                assert name.startswith("registry.example.com/naervaer/"), name


def test_production_spreads_every_service_over_zones(production: Rendered) -> None:
    for deployment in production.of_kind("Deployment"):
        spread = deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]
        assert {c["topologyKey"] for c in spread} == {
            "topology.kubernetes.io/zone",
            "kubernetes.io/hostname",
        }
    for autoscaler in production.of_kind("HorizontalPodAutoscaler"):
        assert autoscaler["spec"]["minReplicas"] >= 3
