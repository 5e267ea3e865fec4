"""The scale-test reaper on dev: the plan shows the job, its schedule, its identity and its narrow
roles; the policy pack refuses every widening; the config refuses a reaper that could reap itself
or its own project; the cost is a figure read from the price file."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from idf_core.paths import STACKS_DIR
from idf_ops.cost.reaper import SERVERLESS_PRICE_FILE as PRICE_FILE
from idf_ops.cost.reaper import reaper_cost
from infra.config import load_stack_file, resolve_stack_file, validate_config_mapping
from infra.config.problems import StackConfigError
from infra.iam import NODE_ROLES
from infra.policy.rules import evaluate_inventory
from infra.reaper import (
    DESTROY_PERMISSIONS,
    DESTROY_ROLE_ID,
    IAM_CLEANUP_ROLE_ID,
    JOB_NAME,
    REAPER_COMMAND,
    SCRATCH_PERMISSIONS,
    iam_cleanup_condition,
    scratch_bucket_condition,
    state_condition,
)
from support.cli import run_idf
from support.plans import OfflinePlans

STACK = "dev"
Inventory = list[dict[str, Any]]


def _inventory(plans: OfflinePlans) -> Inventory:
    return copy.deepcopy([r.to_json() for r in plans[STACK].resources if r.custom])


def _named(inventory: Inventory, name: str) -> dict[str, Any]:
    return next(r for r in inventory if r["name"] == name)


def _reaper(plans: OfflinePlans) -> Any:
    cfg = load_stack_file(resolve_stack_file(STACK))
    assert cfg.reaper is not None
    return cfg.reaper


# --- what the plan declares ----------------------------------------------------------------------


def test_plan_has_the_scheduled_job_its_account_and_its_narrow_role(plans: OfflinePlans) -> None:
    inventory = _inventory(plans)
    reaper = _reaper(plans)
    schedule = _named(inventory, "idf-dev-reaper-schedule")["inputs"]
    assert schedule["schedule"] == "*/15 * * * *"
    assert schedule["httpTarget"]["uri"].endswith(f"/jobs/{JOB_NAME}:run")
    job = _named(inventory, "idf-dev-reaper-job")["inputs"]
    spec = job["template"]["template"]
    container = spec["containers"][0]
    assert (
        [*container["commands"], *container["args"]]
        == REAPER_COMMAND
        == ["idf", "scale", "reap", "--unattended"]
    )
    assert spec["serviceAccount"].startswith("idf-reaper@")
    assert spec["maxRetries"] == 0
    env = {e["name"]: e for e in container["envs"]}
    assert env["PULUMI_BACKEND_URL"]["value"] == f"gs://{reaper.state_bucket}"
    assert env["PULUMI_K8S_DELETE_UNREACHABLE"]["value"] == "true"
    assert "value" not in env["PULUMI_CONFIG_PASSPHRASE"], "the passphrase comes from Secret Manager only"
    role = _named(inventory, "idf-dev-reaper-destroy-role")["inputs"]
    assert role["project"] == reaper.target_project != "rubin-idf-dev"
    assert set(role["permissions"]) == set(DESTROY_PERMISSIONS)
    assert not [
        p
        for p in role["permissions"]
        if p.endswith((".create", ".setIamPolicy"))
        # the Workload Identity bindings and the nodes' read grant on the idf-ops repository are
        # deleted through their resource's IAM policy (scale-test project only)
        and not p.startswith(("iam.serviceAccounts.", "artifactregistry.repositories."))
    ]
    grant = _named(inventory, "idf-dev-reaper-iam-cleanup")["inputs"]
    assert grant["condition"]["expression"] == iam_cleanup_condition(NODE_ROLES)
    state = _named(inventory, "idf-dev-reaper-state-objects")["inputs"]
    assert state["condition"]["expression"] == state_condition(reaper.state_bucket)
    assert ".pulumi/stacks/idf/qserv-scale" in state["condition"]["expression"]
    scratch = _named(inventory, "idf-dev-reaper-scratch")["inputs"]
    assert scratch["project"] == reaper.target_project
    assert scratch["condition"]["expression"] == scratch_bucket_condition()
    assert (
        scratch_bucket_condition() == 'resource.name.startsWith("projects/_/buckets/rubin-idf-qserv-scale")'
    )
    assert set(_named(inventory, "idf-dev-reaper-scratch-role")["inputs"]["permissions"]) == set(
        SCRATCH_PERMISSIONS
    )
    assert evaluate_inventory(inventory) == []


def test_idf_plan_prints_the_job_the_schedule_and_the_role() -> None:
    result = run_idf("plan", STACK, env={"COLUMNS": "260"})
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "idf scale reap --unattended as idf-reaper@rubin-idf-dev.iam.gserviceaccount.com" in out
    assert "*/15 * * * * Etc/UTC -> POST https://run.googleapis.com/v2/projects/rubin-idf-dev" in out
    assert f"{DESTROY_ROLE_ID} in rubin-idf-scale-test: {len(DESTROY_PERMISSIONS)} permissions" in out
    assert f"projects/rubin-idf-scale-test/roles/{IAM_CLEANUP_ROLE_ID} on rubin-idf-scale-test" in out
    assert "if node-roles-only" in out


# --- widenings the policy pack refuses -------------------------------------------------------------


def _add_permission(permission: str) -> Callable[[Inventory], str]:
    def mutate(inventory: Inventory) -> str:
        role = _named(inventory, "idf-dev-reaper-destroy-role")
        role["inputs"]["permissions"].append(permission)
        return str(role["urn"])

    return mutate


def _set_condition(name: str, expression: str | None) -> Callable[[Inventory], str]:
    def mutate(inventory: Inventory) -> str:
        grant = _named(inventory, name)
        if expression is None:
            grant["inputs"].pop("condition", None)
        else:
            grant["inputs"]["condition"]["expression"] = expression
        return str(grant["urn"])

    return mutate


def _set_input(name: str, key: str, value: str) -> Callable[[Inventory], str]:
    def mutate(inventory: Inventory) -> str:
        resource = _named(inventory, name)
        resource["inputs"][key] = value
        return str(resource["urn"])

    return mutate


def _add_grant(resource_type: str, inputs: dict[str, Any]) -> Callable[[Inventory], str]:
    def mutate(inventory: Inventory) -> str:
        member = _named(inventory, "idf-dev-reaper-destroy")["inputs"]["member"]
        urn = f"urn:pulumi:dev::idf::{resource_type}::widened"
        inventory.append(
            {"type": resource_type, "name": "widened", "urn": urn, "inputs": {**inputs, "member": member}}
        )
        return urn

    return mutate


def _set_reaper_image(inventory: Inventory, image: str) -> str:
    _latest_image(inventory)
    job = next(r for r in inventory if r["inputs"].get("name") == JOB_NAME)
    job["inputs"]["template"]["template"]["containers"][0]["image"] = image
    return str(job["urn"])


def _latest_image(inventory: Inventory) -> str:
    job = _named(inventory, "idf-dev-reaper-job")
    job["inputs"]["template"]["template"]["containers"][0]["image"] = "idf/idf-ops:latest"
    return str(job["urn"])


WIDENINGS: dict[str, Callable[[Inventory], str]] = {
    "destroy-role-deletes-buckets": _add_permission("storage.buckets.delete"),
    "destroy-role-deletes-cloudsql": _add_permission("cloudsql.instances.delete"),
    "destroy-role-sets-project-iam": _add_permission("resourcemanager.projects.setIamPolicy"),
    "iam-cleanup-unconditioned": _set_condition("idf-dev-reaper-iam-cleanup", None),
    "scratch-buckets-unconditioned": _set_condition("idf-dev-reaper-scratch", None),
    "scratch-buckets-every-bucket": _set_condition(
        "idf-dev-reaper-scratch", 'resource.name.startsWith("projects/_/buckets/")'
    ),
    "iam-cleanup-may-grant-owner": _set_condition(
        "idf-dev-reaper-iam-cleanup", iam_cleanup_condition([*NODE_ROLES, "roles/owner"])
    ),
    "state-objects-unconditioned": _set_condition("idf-dev-reaper-state-objects", None),
    "state-objects-every-stack": _set_condition(
        "idf-dev-reaper-state-objects",
        'resource.name.startsWith("projects/_/buckets/rubin-idf-pulumi-state/objects/.pulumi/stacks/idf/")',
    ),
    "destroy-role-in-the-home-project": _set_input("idf-dev-reaper-destroy", "project", "rubin-idf-dev"),
    "storage-admin-on-the-state-bucket": _add_grant(
        "gcp:storage/bucketIAMMember:BucketIAMMember",
        {"bucket": "rubin-idf-pulumi-state", "role": "roles/storage.admin"},
    ),
    "predefined-role-in-the-scale-project": _add_grant(
        "gcp:projects/iAMMember:IAMMember",
        {"project": "rubin-idf-scale-test", "role": "roles/container.admin"},
    ),
    "unpinned-job-image": _latest_image,
    "tag-only-job-image": lambda inv: _set_reaper_image(
        inv, "us-central1-docker.pkg.dev/p/idf-ops/idf-ops:0.1.0"
    ),
    "placeholder-digest-job-image": lambda inv: _set_reaper_image(
        inv, "us-central1-docker.pkg.dev/p/idf-ops/idf-ops@sha256:" + "0" * 64
    ),
}


@pytest.mark.parametrize("case", list(WIDENINGS))
def test_a_widened_reaper_is_refused(plans: OfflinePlans, case: str) -> None:
    inventory = _inventory(plans)
    offender = WIDENINGS[case](inventory)
    violations = evaluate_inventory(inventory)
    assert {v.policy for v in violations} == {"reaper-least-privilege"}, "\n".join(map(str, violations))
    assert {v.urn for v in violations} == {offender}


def test_the_trigger_may_only_run_the_job(plans: OfflinePlans) -> None:
    inventory = _inventory(plans)
    _set_input("idf-dev-reaper-invoke", "role", "roles/run.admin")(inventory)
    assert [v.policy for v in evaluate_inventory(inventory)] == ["reaper-least-privilege"]


# --- config ----------------------------------------------------------------------------------------


def _dev_document() -> dict[str, Any]:
    return dict(yaml.safe_load((STACKS_DIR / "Pulumi.dev.yaml").read_text())["config"])


def test_the_reaper_cannot_target_its_own_project() -> None:
    document = _dev_document()
    document["idf:reaper"] = {**document["idf:reaper"], "target_project": document["gcp:project"]}
    with pytest.raises(StackConfigError, match=r"idf:reaper.target_project.*own project"):
        validate_config_mapping({"config": document}, "dev (test)", STACK)


def test_a_temporary_stack_cannot_hold_the_reaper() -> None:
    document = _dev_document()
    document["idf:meta"] = {**document["idf:meta"], "temporary": True}
    with pytest.raises(StackConfigError, match=r"idf:reaper: a temporary stack cannot hold the reaper"):
        validate_config_mapping({"config": document}, "dev (test)", STACK)


def test_every_stack_in_the_reaper_project_is_temporary(plans: OfflinePlans) -> None:
    target = _reaper(plans).target_project
    in_target = [
        cfg
        for path in sorted(STACKS_DIR.glob("Pulumi.*.yaml"))
        if (cfg := load_stack_file(path)).gcp_project == target
    ]
    assert in_target, f"no stack file deploys into {target}"
    assert all(cfg.meta.temporary for cfg in in_target), [c.stack for c in in_target if not c.meta.temporary]


# --- cost ------------------------------------------------------------------------------------------


def test_reaper_cost_is_read_from_the_price_file(plans: OfflinePlans) -> None:
    reaper = _reaper(plans)
    prices = yaml.safe_load(PRICE_FILE.read_text())
    cost = reaper_cost(reaper)
    runs = 4 * prices["hours_per_month"]
    seconds = runs * reaper.expected_run_seconds
    expected = (
        seconds * reaper.cpu * prices["cloud_run_jobs_vcpu_usd_per_second"]["usd"]
        + seconds * reaper.memory_mib / 1024 * prices["cloud_run_jobs_memory_usd_per_gib_second"]["usd"]
        + prices["cloud_scheduler_usd_per_job_month"]["usd"]
    )
    assert cost.runs_per_month == runs
    assert cost.usd_per_month == pytest.approx(expected)
    assert cost.usd_per_hour == pytest.approx(expected / prices["hours_per_month"])


def test_a_schedule_the_estimate_cannot_read_is_refused(plans: OfflinePlans) -> None:
    reaper = _reaper(plans).model_copy(update={"schedule": "0 */2 * * *"})
    with pytest.raises(ValueError, match="minute-only schedules"):
        reaper_cost(reaper)


def _k8s_permission_kind(type_token: str) -> str:
    """`kubernetes:apps/v1:DaemonSet` -> `daemonSets`; custom resources are `thirdPartyObjects`."""
    group, kind = type_token.split(":")[1], type_token.split(":")[2]
    if group.split("/")[0].endswith(".lsst.org"):
        return "thirdPartyObjects"
    plural = f"{kind}es" if kind.endswith("s") else f"{kind[:-1]}ies" if kind.endswith("y") else f"{kind}s"
    return plural[0].lower() + plural[1:]


def test_the_destroy_role_can_delete_every_kind_of_the_scale_plan(plans: OfflinePlans) -> None:
    """Every Kubernetes kind, Artifact Registry grant, bucket and bucket grant of the scale stack's plan
    can be deleted by the reaper (the generator's Job once could not: no container.jobs.delete; the
    seed grant on dp01's bucket could not, and is now left by a destroy)."""
    resources = [r for r in plans["qserv-scale75"].resources if r.custom]
    types = {r.type for r in resources}
    needed = {f"container.{_k8s_permission_kind(t)}.delete" for t in types if t.startswith("kubernetes:")}
    if "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember" in types:
        needed |= {"artifactregistry.repositories.setIamPolicy", "artifactregistry.repositories.getIamPolicy"}
    # Buckets (the scratch staging bucket): the bucket, its objects (force_destroy), the grants on it,
    # through the scratch role, whose grant is limited to the scale stacks' bucket names.
    scratch: set[str] = set()
    own_buckets = {r.inputs["name"] for r in resources if r.type == "gcp:storage/bucket:Bucket"}
    for bucket in (r for r in resources if r.type == "gcp:storage/bucket:Bucket"):
        assert bucket.inputs["name"].startswith("rubin-idf-qserv-scale"), "outside the scratch condition"
        scratch |= {"storage.buckets.delete", "storage.buckets.get"}
        if bucket.inputs.get("forceDestroy"):
            scratch |= {"storage.objects.list", "storage.objects.delete"}
    for grant in (r for r in resources if r.type == "gcp:storage/bucketIAMMember:BucketIAMMember"):
        if grant.inputs["bucket"] in own_buckets:
            scratch |= {"storage.buckets.getIamPolicy", "storage.buckets.setIamPolicy"}
        else:  # another project's bucket (dp01's seed): the reaper has no right there, so leave it
            assert grant.retain_on_delete, f"{grant.urn}: on a bucket the reaper may not change"
    assert needed and scratch, types
    assert needed <= set(DESTROY_PERMISSIONS), sorted(needed - set(DESTROY_PERMISSIONS))
    assert scratch <= set(SCRATCH_PERMISSIONS), sorted(scratch - set(SCRATCH_PERMISSIONS))
