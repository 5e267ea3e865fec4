"""The scale-test reaper: expired `qserv-scale*` stacks are destroyed without the operator.

`idf scale run` tears its stack down on error, SIGINT and SIGTERM, but a SIGKILL, a closed laptop
or a lost network leaves 40 nodes billing. This component (declared by a *permanent* stack, dev:
see runbooks/qserv-scale-test.md for why not an ops stack) runs `idf scale reap --unattended`
every 15 minutes, independent of any cluster:

- a Cloud Run job (:data:`JOB_NAME`) whose container (the idf-ops image the program builds and
  pushes, idf + the Pulumi CLI, run by its digest: :func:`infra.images.idf_ops_image`) lists the
  stacks of the Pulumi state bucket and destroys those that are temporary and past `expires_at`;
- a Cloud Scheduler job that starts it, authenticating as a separate invoker service account that
  may only run that one job;
- one JSON log line per decision (Cloud Logging keeps it as ``jsonPayload.idf_reaper``), a
  log-based metric counting them by action, and two alert policies: every action other than
  "kept" (destroyed, failed, needs-attention), and silence (no run reported for an hour).

Least privilege, and why it is this shape (what `pulumi destroy` of a scale stack calls):

- *Project boundary.* The destroy permissions (:data:`DESTROY_PERMISSIONS`: delete/get of the
  network, router/NAT, firewall, address, cluster and node pools, the Kubernetes objects through
  GKE's IAM-mapped permissions, service accounts) are a custom role granted in the scale-test
  project only (`idf:reaper.target_project`), which holds nothing but temporary stacks. IAM
  conditions cannot compare a label with the time, and most of those resources take no tags, so
  "temporary and expired" is the reaper's own check; "cannot touch a permanent stack" is the
  project boundary. No create or update permission except `container.clusters.update` (node pool
  deletion is an update of the cluster) and `compute.routers.update` (NAT removal).
- *Scratch buckets.* A scale stack's generated catalog lives in a bucket of its own
  (infra/storage.py ``scratch_bucket``), destroyed with it, objects and all. Deleting buckets,
  objects and the grants on them is a third role (:data:`SCRATCH_PERMISSIONS`) whose grant carries
  a condition on the bucket name (:func:`scratch_bucket_condition`: ``rubin-idf-qserv-scale*``), so
  even in that project the reaper deletes no other bucket. The generator's read grant on dp01's seed
  is the one resource a scale stack has outside the scale-test project; a destroy leaves it
  (``retain_on_delete``), since the reaper may not change dp01's bucket.
- *IAM cleanup.* A scale stack grants its node service account :data:`infra.iam.NODE_ROLES` on the
  project; removing those needs `setIamPolicy`, which could otherwise grant anything. It is a
  second role whose grant carries the condition
  ``api.getAttribute('iam.googleapis.com/modifiedGrantsByRole', []).hasOnly([NODE_ROLES])``: the
  reaper can add or remove those roles and no other.
- *Pulumi state.* The state bucket holds every stack's state. The reaper reads and writes only
  objects under ``.pulumi/{stacks,locks,history,backups}/idf/qserv-scale*`` (a condition on the
  object name) and may list object names (listing needs the bucket, which the condition would
  refuse); it never reads dp01's state.
- *Secrets.* The passphrase of the scale stacks' state secrets is a Secret Manager secret whose
  container this component creates (a person adds the value); the reaper may access that secret
  only.
- *Budgets.* A scale stack may declare a billing budget; deleting it needs a role on the billing
  account. `roles/billing.costsManager` is the narrowest predefined one (every budget of the
  account, no spend, no project link); granted only when `billing_account_id` is set.

The policy pack (`reaper-least-privilege`, infra/policy/rules.py) refuses any widening of this.
The cost (:func:`idf_ops.cost.reaper.reaper_cost`) is read from `data/prices/serverless-us-central1.yaml`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from idf_core.facts import SCALE_STACK_PREFIX
from idf_core.qserv_ingest import SCALE_STAGING_BUCKET_PREFIX
from infra.config import ReaperConfig
from infra.iam import NODE_ROLES

__all__ = [
    "BILLING_ROLE",
    "DESTROY_PERMISSIONS",
    "DESTROY_ROLE_ID",
    "IAM_CLEANUP_PERMISSIONS",
    "IAM_CLEANUP_ROLE_ID",
    "INVOKER_ACCOUNT_ID",
    "INVOKER_ROLE",
    "JOB_NAME",
    "LOG_METRIC",
    "REAPER_ACCOUNT_ID",
    "REAPER_COMMAND",
    "SCRATCH_PERMISSIONS",
    "SCRATCH_ROLE_ID",
    "SECRET_ROLE",
    "STATE_LIST_PERMISSIONS",
    "STATE_LIST_ROLE_ID",
    "STATE_OBJECT_ROLE",
    "Reaper",
    "ReaperArgs",
    "iam_cleanup_condition",
    "scratch_bucket_condition",
    "state_condition",
    "state_prefixes",
]

PULUMI_PROJECT = "idf"  # Pulumi.yaml `name`: the state objects live under .pulumi/*/idf/
REAPER_ACCOUNT_ID = "idf-reaper"
INVOKER_ACCOUNT_ID = "idf-reaper-invoker"
JOB_NAME = "idf-scale-reaper"
LOG_METRIC = "idf-reaper-actions"
REAPER_COMMAND = ["idf", "scale", "reap", "--unattended"]
DESTROY_ROLE_ID = "idfScaleReaperDestroy"
IAM_CLEANUP_ROLE_ID = "idfScaleReaperIamCleanup"
STATE_LIST_ROLE_ID = "idfReaperStateList"
SCRATCH_ROLE_ID = "idfScaleReaperScratchBuckets"
# Read, write, overwrite and delete objects (no IAM, no bucket settings); narrowed by a condition.
STATE_OBJECT_ROLE = "roles/storage.objectUser"
BILLING_ROLE = "roles/billing.costsManager"
SECRET_ROLE = "roles/secretmanager.secretAccessor"  # noqa: S105 -- a role name  # pragma: allowlist secret
INVOKER_ROLE = "roles/run.invoker"

# What `pulumi destroy` of a scale stack calls (its resource types: `idf plan qserv-scale75`), each
# delete with the get that polls it. Kubernetes objects are deleted through the GKE API server,
# which authorizes IAM principals with the container.<kind>.<verb> permissions.
_K8S_KINDS = (
    "namespaces",
    "configMaps",
    "daemonSets",
    "deployments",
    "resourceQuotas",
    "serviceAccounts",
    "services",
    "roles",
    "roleBindings",
    "clusterRoles",
    "clusterRoleBindings",
    "storageClasses",
    "jobs",  # the scale catalog generator and the ingest Job
    "secrets",  # the Qserv database Secrets (infra/qserv_secrets.py); get: the delete's poll
    "customResourceDefinitions",
    "thirdPartyObjects",  # custom resources: the Qserv CR, cert-manager objects of the operator
    "mutatingWebhookConfigurations",
    "validatingWebhookConfigurations",
)
DESTROY_PERMISSIONS: tuple[str, ...] = tuple(
    sorted(
        {
            "compute.addresses.delete",
            "compute.addresses.get",
            "compute.firewalls.delete",
            "compute.firewalls.get",
            "compute.networks.delete",
            "compute.networks.get",
            "compute.networks.updatePolicy",  # deleting a firewall rule updates the network's policy
            "compute.routers.delete",
            "compute.routers.get",
            "compute.routers.update",  # the Cloud NAT is a part of the router
            "compute.subnetworks.delete",
            "compute.subnetworks.get",
            "compute.globalOperations.get",
            "compute.regionOperations.get",
            "compute.zoneOperations.get",
            "container.clusters.delete",
            "container.clusters.get",
            "container.clusters.update",  # node pools are deleted through the cluster
            "container.operations.get",
            "iam.serviceAccounts.delete",
            "iam.serviceAccounts.get",
            "iam.serviceAccounts.getIamPolicy",
            "iam.serviceAccounts.setIamPolicy",  # the Workload Identity binding on the workload SA
            # the idf-ops repository a scale stack's generator pulls from (infra/images.py); deleting
            # it deletes its images and its IAM policy (the nodes' read grant)
            "artifactregistry.repositories.delete",
            "artifactregistry.repositories.get",
            "artifactregistry.repositories.getIamPolicy",  # the nodes' read grant is deleted first
            "artifactregistry.repositories.setIamPolicy",  # scale-test project only
            *(f"container.{kind}.{verb}" for kind in _K8S_KINDS for verb in ("delete", "get")),
        }
    )
)
IAM_CLEANUP_PERMISSIONS: tuple[str, ...] = (
    "resourcemanager.projects.getIamPolicy",
    "resourcemanager.projects.setIamPolicy",
)
STATE_LIST_PERMISSIONS: tuple[str, ...] = ("storage.objects.list",)
# A scale stack's scratch staging bucket (infra/storage.py scratch_bucket): force_destroy lists and
# deletes its objects, then the bucket; the grants on it are removed through its IAM policy first.
# A role of its own, so that its grant can carry a condition on the bucket's name.
SCRATCH_PERMISSIONS: tuple[str, ...] = (
    "storage.buckets.delete",
    "storage.buckets.get",
    "storage.buckets.getIamPolicy",
    "storage.buckets.setIamPolicy",
    "storage.objects.delete",
    "storage.objects.list",
)
_STATE_AREAS = ("stacks", "locks", "history", "backups")


def scratch_bucket_condition() -> str:
    """The condition of the scratch-bucket grant: the scale stacks' staging buckets and their objects."""
    return f'resource.name.startsWith("projects/_/buckets/{SCALE_STAGING_BUCKET_PREFIX}")'


def iam_cleanup_condition(roles: list[str]) -> str:
    """The CEL condition that lets setIamPolicy add or remove only ``roles``."""
    quoted = ", ".join(f"'{role}'" for role in roles)
    return f"api.getAttribute('iam.googleapis.com/modifiedGrantsByRole', []).hasOnly([{quoted}])"


def state_prefixes(bucket: str) -> list[str]:
    """IAM resource-name prefixes of the scale stacks' objects in the Pulumi state bucket."""
    base = f"projects/_/buckets/{bucket}/objects/.pulumi"
    return [f"{base}/{area}/{PULUMI_PROJECT}/{SCALE_STACK_PREFIX}" for area in _STATE_AREAS]


def state_condition(bucket: str) -> str:
    """The CEL condition of the reaper's object grant on the state bucket."""
    return " || ".join(f'resource.name.startsWith("{prefix}")' for prefix in state_prefixes(bucket))


@dataclass(frozen=True)
class ReaperArgs:
    """Inputs of :class:`Reaper`."""

    reaper: ReaperConfig
    project: str
    """The permanent stack's project: the job, scheduler, logs and alerts live here."""
    region: str
    labels: dict[str, str]
    image: pulumi.Input[str]
    """The idf-ops build's ``...@sha256:<digest>`` reference (:func:`infra.images.idf_ops_image`)."""


class Reaper(pulumi.ComponentResource):
    """Cloud Scheduler -> Cloud Run job `idf scale reap --unattended`, its narrow identity, its alerts."""

    def __init__(self, name: str, args: ReaperArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("idf:reaper:Reaper", name, None, opts)
        r, project, region = args.reaper, args.project, args.region
        child = pulumi.ResourceOptions(parent=self)

        self.account = gcp.serviceaccount.Account(
            f"{name}-sa",
            account_id=REAPER_ACCOUNT_ID,
            project=project,
            display_name="IDF scale-test reaper",
            description=f"Destroys expired {SCALE_STACK_PREFIX}* stacks in {r.target_project}",
            opts=child,
        )
        self.invoker = gcp.serviceaccount.Account(
            f"{name}-invoker-sa",
            account_id=INVOKER_ACCOUNT_ID,
            project=project,
            display_name="IDF scale-test reaper trigger",
            description=f"Cloud Scheduler's identity: may run the {JOB_NAME} job, nothing else",
            opts=child,
        )
        member = self.account.email.apply(lambda email: f"serviceAccount:{email}")

        # --- in the scale-test project: destroy, IAM cleanup of the node roles only, scratch buckets
        self.destroy_role = self._scale_project_role(
            name,
            "destroy",
            r.target_project,
            member,
            role_id=DESTROY_ROLE_ID,
            title="IDF scale-test reaper: destroy",
            description="Delete what a temporary Qserv scale-test stack declares (infra/reaper.py)",
            permissions=DESTROY_PERMISSIONS,
        )
        self.iam_cleanup_role = self._scale_project_role(
            name,
            "iam-cleanup",
            r.target_project,
            member,
            role_id=IAM_CLEANUP_ROLE_ID,
            title="IDF scale-test reaper: remove node role grants",
            description="Read and set the project policy; granted with a condition on the roles changed",
            permissions=IAM_CLEANUP_PERMISSIONS,
            condition=gcp.projects.IAMMemberConditionArgs(
                title="node-roles-only",
                description="Only the node roles a scale stack grants may be added or removed",
                expression=iam_cleanup_condition(list(NODE_ROLES)),
            ),
        )
        self.scratch_role = self._scale_project_role(
            name,
            "scratch",
            r.target_project,
            member,
            role_id=SCRATCH_ROLE_ID,
            title="IDF scale-test reaper: delete scratch buckets",
            description="Empty and delete a scale stack's staging bucket; granted with a name condition",
            permissions=SCRATCH_PERMISSIONS,
            condition=gcp.projects.IAMMemberConditionArgs(
                title="scale-staging-buckets-only",
                description="Only the scale stacks' scratch staging buckets and their objects",
                expression=scratch_bucket_condition(),
            ),
        )

        # --- the Pulumi state: scale stacks' objects only; object names listable -----------------
        self.state_list_role = gcp.projects.IAMCustomRole(
            f"{name}-state-list-role",
            project=project,
            role_id=STATE_LIST_ROLE_ID,
            title="IDF reaper: list Pulumi state objects",
            description="List object names of the Pulumi state bucket (no read)",
            permissions=list(STATE_LIST_PERMISSIONS),
            stage="GA",
            opts=child,
        )
        gcp.storage.BucketIAMMember(
            f"{name}-state-list",
            bucket=r.state_bucket,
            role=f"projects/{project}/roles/{STATE_LIST_ROLE_ID}",
            member=member,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.state_list_role]),
        )
        gcp.storage.BucketIAMMember(
            f"{name}-state-objects",
            bucket=r.state_bucket,
            role=STATE_OBJECT_ROLE,
            member=member,
            condition=gcp.storage.BucketIAMMemberConditionArgs(
                title="scale-stacks-only",
                description=f"State, locks, history and backups of {SCALE_STACK_PREFIX}* stacks",
                expression=state_condition(r.state_bucket),
            ),
            opts=child,
        )

        # --- the state passphrase: a secret container (a person adds the value) ------------------
        self.passphrase = gcp.secretmanager.Secret(
            f"{name}-passphrase",
            secret_id="idf-scale-stacks-pulumi-passphrase",  # noqa: S106 -- the secret's name, not its value
            project=project,
            labels=args.labels,
            replication=gcp.secretmanager.SecretReplicationArgs(
                auto=gcp.secretmanager.SecretReplicationAutoArgs()
            ),
            opts=child,
        )
        gcp.secretmanager.SecretIamMember(
            f"{name}-passphrase-access",
            project=project,
            secret_id=self.passphrase.secret_id,
            role=SECRET_ROLE,
            member=member,
            opts=child,
        )
        if r.billing_account_id is not None:
            gcp.billing.AccountIamMember(
                f"{name}-budgets",
                billing_account_id=r.billing_account_id,
                role=BILLING_ROLE,
                member=member,
                opts=child,
            )

        # --- the job and its trigger ------------------------------------------------------------
        env = [
            gcp.cloudrunv2.JobTemplateTemplateContainerEnvArgs(
                name="PULUMI_BACKEND_URL", value=f"gs://{r.state_bucket}"
            ),
            # The scale clusters' control planes admit only the authorized networks, not this job:
            # the Kubernetes provider then drops the in-cluster objects from the state (they go
            # with the cluster) instead of failing the destroy on an unreachable API server.
            gcp.cloudrunv2.JobTemplateTemplateContainerEnvArgs(
                name="PULUMI_K8S_DELETE_UNREACHABLE", value="true"
            ),
            gcp.cloudrunv2.JobTemplateTemplateContainerEnvArgs(
                name="PULUMI_CONFIG_PASSPHRASE",
                value_source=gcp.cloudrunv2.JobTemplateTemplateContainerEnvValueSourceArgs(
                    secret_key_ref=gcp.cloudrunv2.JobTemplateTemplateContainerEnvValueSourceSecretKeyRefArgs(
                        secret=self.passphrase.secret_id, version="latest"
                    )
                ),
            ),
        ]
        self.job = gcp.cloudrunv2.Job(
            f"{name}-job",
            name=JOB_NAME,
            project=project,
            location=region,
            labels=args.labels,
            deletion_protection=False,
            template=gcp.cloudrunv2.JobTemplateArgs(
                task_count=1,
                parallelism=1,
                template=gcp.cloudrunv2.JobTemplateTemplateArgs(
                    service_account=self.account.email,
                    timeout=f"{r.timeout_minutes * 60}s",
                    # A failed run is not retried at once: the next scheduled run retries, after
                    # the alert went out.
                    max_retries=0,
                    containers=[
                        gcp.cloudrunv2.JobTemplateTemplateContainerArgs(
                            image=args.image,
                            commands=REAPER_COMMAND[:1],
                            args=REAPER_COMMAND[1:],
                            envs=env,
                            resources=gcp.cloudrunv2.JobTemplateTemplateContainerResourcesArgs(
                                limits={"cpu": str(r.cpu), "memory": f"{r.memory_mib}Mi"}
                            ),
                        )
                    ],
                ),
            ),
            opts=child,
        )
        gcp.cloudrunv2.JobIamMember(
            f"{name}-invoke",
            project=project,
            location=region,
            name=self.job.name,
            role=INVOKER_ROLE,
            member=self.invoker.email.apply(lambda email: f"serviceAccount:{email}"),
            opts=child,
        )
        self.schedule = gcp.cloudscheduler.Job(
            f"{name}-schedule",
            name=f"{JOB_NAME}-every-15-min",
            project=project,
            region=region,
            description=f"Runs {' '.join(REAPER_COMMAND)} (infra/reaper.py)",
            schedule=r.schedule,
            time_zone=r.time_zone,
            attempt_deadline="180s",
            http_target=gcp.cloudscheduler.JobHttpTargetArgs(
                http_method="POST",
                uri=f"https://run.googleapis.com/v2/projects/{project}/locations/{region}/jobs/{JOB_NAME}:run",
                oauth_token=gcp.cloudscheduler.JobHttpTargetOauthTokenArgs(
                    service_account_email=self.invoker.email,
                    scope="https://www.googleapis.com/auth/cloud-platform",
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.job]),
        )

        # --- logged and alerted ------------------------------------------------------------------
        self.metric = gcp.logging.Metric(
            f"{name}-actions",
            name=LOG_METRIC,
            project=project,
            description="Decisions of the scale-test reaper, one per stack per run, by action",
            filter=(
                f'resource.type="cloud_run_job" AND resource.labels.job_name="{JOB_NAME}" '
                "AND jsonPayload.idf_reaper.action:*"
            ),
            metric_descriptor=gcp.logging.MetricMetricDescriptorArgs(
                metric_kind="DELTA",
                value_type="INT64",
                unit="1",
                labels=[
                    gcp.logging.MetricMetricDescriptorLabelArgs(key="action", value_type="STRING"),
                    gcp.logging.MetricMetricDescriptorLabelArgs(key="stack", value_type="STRING"),
                ],
            ),
            label_extractors={
                "action": "EXTRACT(jsonPayload.idf_reaper.action)",
                "stack": "EXTRACT(jsonPayload.idf_reaper.stack)",
            },
            opts=child,
        )
        metric_filter = (
            f'metric.type="logging.googleapis.com/user/{LOG_METRIC}" AND resource.type="cloud_run_job"'
        )
        by_action = gcp.monitoring.AlertPolicyConditionConditionThresholdAggregationArgs(
            alignment_period="60s",
            per_series_aligner="ALIGN_SUM",
            cross_series_reducer="REDUCE_SUM",
            group_by_fields=["metric.label.action", "metric.label.stack"],
        )
        runbook = "runbooks/qserv-scale-test.md, section 'The reaper'"
        self.action_alert = gcp.monitoring.AlertPolicy(
            f"{name}-acted",
            project=project,
            display_name="IDF reaper acted on a scale-test stack",
            combiner="OR",
            severity="WARNING",
            conditions=[
                gcp.monitoring.AlertPolicyConditionArgs(
                    display_name="destroyed, failed or needs attention",
                    condition_threshold=gcp.monitoring.AlertPolicyConditionConditionThresholdArgs(
                        filter=f'{metric_filter} AND metric.label.action=one_of("destroyed", "failed", '
                        '"needs-attention")',
                        comparison="COMPARISON_GT",
                        threshold_value=0,
                        duration="0s",
                        aggregations=[by_action],
                    ),
                )
            ],
            notification_channels=r.alert_notification_channels,
            documentation=gcp.monitoring.AlertPolicyDocumentationArgs(
                mime_type="text/markdown",
                content=f"The reaper destroyed, failed to destroy or could not judge a stack: see {runbook}.",
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.metric]),
        )
        self.silence_alert = gcp.monitoring.AlertPolicy(
            f"{name}-silent",
            project=project,
            display_name="IDF reaper has not reported for an hour",
            combiner="OR",
            severity="ERROR",
            conditions=[
                gcp.monitoring.AlertPolicyConditionArgs(
                    display_name="no run summary",
                    condition_absent=gcp.monitoring.AlertPolicyConditionConditionAbsentArgs(
                        filter=f'{metric_filter} AND metric.label.action="run"',
                        duration="3600s",
                        aggregations=[
                            gcp.monitoring.AlertPolicyConditionConditionAbsentAggregationArgs(
                                alignment_period="900s", per_series_aligner="ALIGN_SUM"
                            )
                        ],
                    ),
                )
            ],
            notification_channels=r.alert_notification_channels,
            documentation=gcp.monitoring.AlertPolicyDocumentationArgs(
                mime_type="text/markdown",
                content=f"Expired scale stacks are not being reaped: check the {JOB_NAME} job ({runbook}).",
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.metric]),
        )
        self.register_outputs(
            {"job": self.job.name, "service_account": self.account.email, "schedule": r.schedule}
        )

    # --- cost ---------------------------------------------------------------------------------------

    def _scale_project_role(
        self,
        name: str,
        key: str,
        target_project: str,
        member: pulumi.Output[str],
        *,
        role_id: str,
        title: str,
        description: str,
        permissions: tuple[str, ...],
        condition: gcp.projects.IAMMemberConditionArgs | None = None,
    ) -> gcp.projects.IAMCustomRole:
        """A custom role of the reaper's in the scale-test project (``<name>-<key>-role``) and its grant
        to the reaper there (``<name>-<key>``), with ``condition`` when given."""
        role = gcp.projects.IAMCustomRole(
            f"{name}-{key}-role",
            project=target_project,
            role_id=role_id,
            title=title,
            description=description,
            permissions=list(permissions),
            stage="GA",
            opts=pulumi.ResourceOptions(parent=self),
        )
        gcp.projects.IAMMember(
            f"{name}-{key}",
            project=target_project,
            role=f"projects/{target_project}/roles/{role_id}",
            member=member,
            condition=condition,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role]),
        )
        return role
