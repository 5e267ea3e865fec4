"""Our typed models of the Phalanx values we set, and their rendering from the stack outputs.

Phalanx (lsst-sqre/phalanx) configures an environment with Helm values files in its repository:
`environments/values-<env>.yaml` (read by the app-of-apps chart) and
`applications/<app>/values-<env>.yaml` (read by each application's chart). The models below hold
only the fields we set, named and placed as Phalanx reads them at the revision the app-of-apps
is pinned to (Phalanx's `src/phalanx/models/environments.py` EnvironmentConfig, camelCase keys;
`applications/gafaelfawr/values.yaml` `config.github.clientId` and `config.groupMapping`;
`charts/cadc-tap/values.yaml` `config.qserv.host`; `applications/ingress-nginx/values.yaml`
`ingress-nginx.controller.service`; `applications/nublado/values.yaml` `controller.config.images`,
`controller.config.lab.env`/`sizes` and `controller.config.fileserver.enabled`). Every model
forbids other keys, so a misspelt key fails here, not in Argo CD. Nothing of Phalanx is copied:
its defaults stay in its own values.yaml.

The files are written in Phalanx's layout under one folder, to be copied into the Phalanx
checkout whose commit the stack pins (`idf:phalanx.target_revision`; runbooks/pulumi.md).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from idf_core.contract import SciencePlatform, StackOutputs
from idf_core.errors import BadInput
from idf_core.facts import PLATFORM_NGINX_SERVICE_ANNOTATIONS

__all__ = [
    "EnvironmentValues",
    "GafaelfawrValues",
    "IngressNginxValues",
    "NubladoValues",
    "RenderedFile",
    "TapValues",
    "render",
    "write_rendered",
]

# Scopes granted to the GitHub team: notebooks, the Portal and TAP (seed §2.1.3), and the
# image and user-info reads those aspects make. Admin scopes are left to Phalanx's defaults.
GITHUB_TEAM_SCOPES = ("exec:notebook", "exec:portal", "read:tap", "read:image", "user:token")
# TLS ends at the Google-managed certificate of the load balancer (infra/platform_ingress.py), so
# Phalanx's cert-manager is not needed.
DISABLED_APPLICATIONS = ("cert-manager",)


class _Values(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class GcpMetadata(_Values):
    """`gcp` of an environment."""

    project_id: str = Field(alias="projectId")
    region: str
    cluster_name: str = Field(alias="clusterName")


class EnvironmentValues(_Values):
    """`environments/values-<env>.yaml`: the fields we set."""

    name: str = Field(pattern=r"^[a-z0-9-]+$", description="Environment name.")
    fqdn: str = Field(pattern=r"^([a-z0-9-]+\.)+[a-z]{2,}$", description="Public host.")
    app_of_apps_name: str = Field(alias="appOfAppsName", description="Parent Application.")
    butler_server_repositories: dict[str, str] = Field(
        alias="butlerServerRepositories",
        description="Butler repository label -> butler.yaml URI (DAF_BUTLER_REPOSITORIES of the apps).",
    )
    gcp: GcpMetadata
    vault_url: str = Field(alias="vaultUrl", pattern=r"^https://")
    vault_path_prefix: str = Field(alias="vaultPathPrefix", pattern=r"^secret/")
    applications: dict[str, bool]


class GitHubTeam(_Values):
    organization: str
    team: str


class GitHubGroup(_Values):
    github: GitHubTeam


class GafaelfawrGitHub(_Values):
    client_id: str = Field(alias="clientId", min_length=1)


class GafaelfawrConfig(_Values):
    github: GafaelfawrGitHub
    group_mapping: dict[str, list[GitHubGroup]] = Field(alias="groupMapping")


class GafaelfawrValues(_Values):
    """`applications/gafaelfawr/values-<env>.yaml`: GitHub as the identity provider. The client
    secret is Phalanx's `github-client-secret` secret (Vault), never a value here."""

    config: GafaelfawrConfig


class TapQserv(_Values):
    host: str = Field(pattern=r"^[^:\s]+:\d+$", description="host:port of the Qserv czar proxy.")


class TapConfig(_Values):
    qserv: TapQserv


class CadcTap(_Values):
    config: TapConfig


class TapValues(_Values):
    """`applications/tap/values-<env>.yaml`: TAP on our Qserv."""

    cadc_tap: CadcTap = Field(alias="cadc-tap")


class NginxService(_Values):
    type: Literal["ClusterIP"]
    annotations: dict[str, str]


class NginxController(_Values):
    service: NginxService


class IngressNginx(_Values):
    controller: NginxController


class IngressNginxValues(_Values):
    """`applications/ingress-nginx/values-<env>.yaml`: the controller behind the load balancer."""

    ingress_nginx: IngressNginx = Field(alias="ingress-nginx")


# Nublado's lab sizes, in the order its controller requires them to be listed.
NUBLADO_SIZE_ORDER = (
    "fine",
    "diminutive",
    "tiny",
    "small",
    "medium",
    "large",
    "huge",
    "gargantuan",
    "colossal",
)
_MEMORY = r"^\d+(\.\d+)?(Ki|Mi|Gi|Ti)$"
_BUTLER_URI = ("gs://", "s3://", "https://")


class LabResourceAmounts(_Values):
    cpu: float = Field(gt=0, description="CPU equivalents.")
    memory: str = Field(pattern=_MEMORY, description="Memory with a binary SI suffix (`4Gi`).")


class LabResources(_Values):
    limits: LabResourceAmounts
    requests: LabResourceAmounts


class LabSize(_Values):
    """One entry of `controller.config.lab.sizes`."""

    size: Literal["fine", "diminutive", "tiny", "small", "medium", "large", "huge", "gargantuan", "colossal"]
    resources: LabResources


class NubladoLabEnv(_Values):
    """`controller.config.lab.env`: the variables we set (Phalanx's own defaults stay in its file)."""

    daf_butler_repositories: str = Field(
        alias="DAF_BUTLER_REPOSITORIES",
        description="JSON object: Butler repository label -> butler.yaml URI (daf_butler's index).",
    )

    @field_validator("daf_butler_repositories")
    @classmethod
    def _an_index(cls, value: str) -> str:
        try:
            index = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"DAF_BUTLER_REPOSITORIES is not JSON ({exc.msg})") from exc
        if not isinstance(index, dict) or not index:
            raise ValueError("DAF_BUTLER_REPOSITORIES must be a non-empty JSON object label -> URI")
        for label, uri in index.items():
            if not isinstance(uri, str) or not uri.startswith(_BUTLER_URI):
                raise ValueError(
                    f"DAF_BUTLER_REPOSITORIES[{label!r}] = {uri!r} is not a {'/'.join(_BUTLER_URI)} URI "
                    "of a butler.yaml"
                )
        return value


class NubladoLab(_Values):
    env: NubladoLabEnv
    sizes: list[LabSize] = Field(min_length=1)

    @field_validator("sizes")
    @classmethod
    def _in_nublado_order(cls, sizes: list[LabSize]) -> list[LabSize]:
        names = [s.size for s in sizes]
        ranks = [NUBLADO_SIZE_ORDER.index(n) for n in names]
        if ranks != sorted(set(ranks)):
            raise ValueError(
                f"lab sizes {names} must be distinct and in Nublado's order ({', '.join(NUBLADO_SIZE_ORDER)})"
            )
        for size in sizes:
            if size.resources.requests.cpu > size.resources.limits.cpu:
                raise ValueError(f"lab size {size.size}: requests.cpu exceeds limits.cpu")
        return sizes


class ImageSource(_Values):
    """`controller.config.images.source` of a Docker registry."""

    type: Literal["docker"]
    registry: str = Field(pattern=r"^[a-z0-9.-]+(:\d+)?$", description="Registry host.")
    repository: str = Field(pattern=r"^[a-z0-9._/-]+$", description="Repository of the lab image.")


class NubladoImages(_Values):
    source: ImageSource
    recommended_tag: str = Field(alias="recommendedTag", min_length=1)
    num_releases: int = Field(alias="numReleases", ge=0)
    num_weeklies: int = Field(alias="numWeeklies", ge=0)
    num_dailies: int = Field(alias="numDailies", ge=0)


class NubladoFileserver(_Values):
    enabled: Literal[False] = Field(
        description="No user file servers (WebDAV): the notebooks are the only way in (seed §2.1.3)."
    )


class NubladoConfig(_Values):
    images: NubladoImages
    lab: NubladoLab
    fileserver: NubladoFileserver


class NubladoController(_Values):
    config: NubladoConfig


class NubladoValues(_Values):
    """`applications/nublado/values-<env>.yaml`: the lab image, the lab sizes, the Butler repository
    index of the labs, and no user access besides the notebooks."""

    controller: NubladoController


# Our environment's lab: Rubin's published sciplat-lab image (its `recommended` tag, plus the newest
# release, two weeklies and three dailies prepulled) and three sizes. The Butler index comes from
# the stack outputs.
NUBLADO_IMAGE_SOURCE = ImageSource(type="docker", registry="docker.io", repository="lsstsqre/sciplat-lab")
NUBLADO_SIZES = (
    ("small", 1.0, "4Gi", 0.25, "1Gi"),
    ("medium", 2.0, "8Gi", 0.5, "2Gi"),
    ("large", 4.0, "16Gi", 1.0, "4Gi"),
)


@dataclass(frozen=True)
class RenderedFile:
    """One values file: its path in the Phalanx repository and its typed content."""

    path: str
    values: _Values

    def text(self, stack: str) -> str:
        """The YAML document, headed by where it came from."""
        header = (
            f"# Generated by `idf phalanx render {stack}` from the stack outputs "
            "(idf_core.contract); regenerate, do not edit.\n"
        )
        body = yaml.safe_dump(self.values.model_dump(by_alias=True), sort_keys=False)
        return header + body


def _platform(outputs: StackOutputs, source: str) -> SciencePlatform:
    if outputs.science_platform is None:
        raise BadInput(
            f"{source}: stack {outputs.stack!r} has no Science Platform in its outputs "
            "(science_platform); declare idf:phalanx in its stack file, then `idf plan` or "
            "`idf outputs pull` it"
        )
    return outputs.science_platform


def _environment(outputs: StackOutputs, sp: SciencePlatform, cluster_name: str) -> EnvironmentValues:
    applications = dict.fromkeys(sp.applications, True) | dict.fromkeys(DISABLED_APPLICATIONS, False)
    gcp = GcpMetadata(project_id=sp.gcp_project, region=sp.gcp_region, cluster_name=cluster_name)
    return EnvironmentValues(
        name=sp.environment,
        fqdn=sp.fqdn,
        app_of_apps_name=sp.app_of_apps_name,
        # The read-only Butler's config under the stack's label: what the apps' repository
        # index (DAF_BUTLER_REPOSITORIES) maps.
        butler_server_repositories={outputs.stack: outputs.butler.readonly_config},
        gcp=gcp,
        vault_url=sp.vault_url,
        vault_path_prefix=sp.vault_path_prefix,
        applications=applications,
    )


def _gafaelfawr(sp: SciencePlatform) -> GafaelfawrValues:
    team = GitHubGroup(github=GitHubTeam(organization=sp.github_organization, team=sp.github_team))
    return GafaelfawrValues(
        config=GafaelfawrConfig(
            github=GafaelfawrGitHub(client_id=sp.github_client_id),
            group_mapping={scope: [team] for scope in GITHUB_TEAM_SCOPES},
        )
    )


def _ingress_nginx() -> IngressNginxValues:
    service = NginxService(type="ClusterIP", annotations=dict(PLATFORM_NGINX_SERVICE_ANNOTATIONS))
    return IngressNginxValues(ingress_nginx=IngressNginx(controller=NginxController(service=service)))


def _tap(outputs: StackOutputs) -> TapValues:
    qserv = TapQserv(host=f"{outputs.qserv.host}:{outputs.qserv.port}")
    return TapValues(cadc_tap=CadcTap(config=TapConfig(qserv=qserv)))


def _nublado(outputs: StackOutputs) -> NubladoValues:
    sizes = [
        LabSize(
            size=name,  # type: ignore[arg-type]  # a literal of NUBLADO_SIZE_ORDER, checked by the model
            resources=LabResources(
                limits=LabResourceAmounts(cpu=cpu, memory=memory),
                requests=LabResourceAmounts(cpu=req_cpu, memory=req_memory),
            ),
        )
        for name, cpu, memory, req_cpu, req_memory in NUBLADO_SIZES
    ]
    # The same index as the environment's butlerServerRepositories: the read-only Butler's config.
    index = json.dumps({outputs.stack: outputs.butler.readonly_config}, sort_keys=True)
    return NubladoValues(
        controller=NubladoController(
            config=NubladoConfig(
                images=NubladoImages(
                    source=NUBLADO_IMAGE_SOURCE,
                    recommended_tag="recommended",
                    num_releases=1,
                    num_weeklies=2,
                    num_dailies=3,
                ),
                lab=NubladoLab(env=NubladoLabEnv(daf_butler_repositories=index), sizes=sizes),
                fileserver=NubladoFileserver(enabled=False),
            )
        )
    )


def render(outputs: StackOutputs, source: str) -> list[RenderedFile]:
    """The values files of the stack's Phalanx environment, from its outputs."""
    sp = _platform(outputs, source)
    if outputs.cluster_name is None:
        raise BadInput(f"{source}: no cluster_name in the outputs of {outputs.stack!r}; is it a cloud stack?")
    env = sp.environment
    files = [
        RenderedFile(f"environments/values-{env}.yaml", _environment(outputs, sp, outputs.cluster_name)),
        RenderedFile(f"applications/gafaelfawr/values-{env}.yaml", _gafaelfawr(sp)),
        RenderedFile(f"applications/ingress-nginx/values-{env}.yaml", _ingress_nginx()),
    ]
    if "tap" in sp.applications:
        files.append(RenderedFile(f"applications/tap/values-{env}.yaml", _tap(outputs)))
    if "nublado" in sp.applications:
        files.append(RenderedFile(f"applications/nublado/values-{env}.yaml", _nublado(outputs)))
    return files


def write_rendered(files: list[RenderedFile], out_dir: Path, stack: str) -> list[Path]:
    """Write every file under ``out_dir`` (Phalanx's layout), each atomically."""
    written = []
    for rendered in files:
        path = out_dir / rendered.path
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(rendered.text(stack))
            Path(tmp).replace(path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        written.append(path)
    return written


def values_of(path: Path) -> Any:
    """A rendered file read back (for checks and tests)."""
    return yaml.safe_load(path.read_text())
