"""The external S3 store (NCSA) of a stack's Butler: the Secret Manager secret its keys live in.

The program creates the secret's container only; a person adds the value (the NCSA keys, JSON
``{"access_key_id": ..., "secret_access_key": ...}``) with ``gcloud secrets versions add``. No key
is ever stack config or a resource input: the config model has no field for one and the policy pack
refuses S3 keys in plain text (``s3-keys-not-plain-text``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from idf_core.contract import ExternalS3Store
from infra.config import ExternalS3Config

__all__ = ["ExternalS3Keys", "ExternalS3KeysArgs", "external_s3_store"]


def external_s3_store(s3: ExternalS3Config, project: str) -> ExternalS3Store:
    """What the outputs contract says about the store: where it is and which secret names its keys."""
    return ExternalS3Store(
        endpoint_url=s3.endpoint_url,
        bucket=s3.bucket,
        datastore_uri=f"s3://{s3.profile}@{s3.bucket}/{s3.prefix}",
        keys_secret=f"projects/{project}/secrets/{s3.keys_secret_id}",
    )


@dataclass(frozen=True)
class ExternalS3KeysArgs:
    """Inputs of :class:`ExternalS3Keys`."""

    s3: ExternalS3Config
    project: str
    labels: dict[str, str]


class ExternalS3Keys(pulumi.ComponentResource):
    """The Secret Manager secret (container only) of the external store's keys."""

    secret: gcp.secretmanager.Secret

    def __init__(
        self, name: str, args: ExternalS3KeysArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("idf:butler:ExternalS3Keys", name, None, opts)
        self.secret = gcp.secretmanager.Secret(
            f"{name}-keys",
            secret_id=args.s3.keys_secret_id,
            project=args.project,
            labels=args.labels,
            replication=gcp.secretmanager.SecretReplicationArgs(
                auto=gcp.secretmanager.SecretReplicationAutoArgs()
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"keys_secret": self.secret.name})
