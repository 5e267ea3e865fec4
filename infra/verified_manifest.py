"""Upstream manifests downloaded at deploy time and applied only when their SHA-256 is the pinned one.

One mechanism for every all-in-one manifest the program installs from an upstream release
(cert-manager, :mod:`infra.cert_manager`; qserv-operator, :mod:`infra.qserv_operator`): nothing
of upstream is in this repository, only the release's URL and the SHA-256 of the published file.
At deploy time a Pulumi dynamic resource (:class:`VerifiedManifest`) downloads the file, checks
the digest *before* anything is applied (a mismatch fails the resource, so the Kubernetes objects
that depend on it are never sent), lets the component narrow or check the objects
(:meth:`VerifiedManifestProvider.narrow`), and outputs the text a `kubernetes:yaml/v2:ConfigGroup`
applies. `ConfigGroup(files=[url])` would fetch the URL itself without any check (the policy pack
refuses that: `upstream-manifests-pinned`).

A release whose digest has not been recorded yet (``sha256=None``) plans offline, where the policy
pack reports it, but a real deploy refuses it before downloading anything, with the command that
records it (:class:`UnrecordedDigest`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import urllib.request
from collections.abc import Callable
from typing import Any, ClassVar

import pulumi
import pulumi.dynamic
import yaml

from idf_core.errors import OperationFailed

__all__ = [
    "FETCH_TIMEOUT_S",
    "MAX_MANIFEST_BYTES",
    "ManifestDigestMismatch",
    "UnrecordedDigest",
    "VerifiedManifest",
    "VerifiedManifestProvider",
    "fetch_verified",
    "http_get",
]

# The largest published manifest we install is cert-manager.yaml (~1 MB, its CRDs embed their
# schemas); refuse anything far larger rather than read an unbounded body into memory.
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
FETCH_TIMEOUT_S = 60.0
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class ManifestDigestMismatch(OperationFailed):
    """The downloaded manifest is not the file the program pins: nothing is applied."""


class UnrecordedDigest(OperationFailed):
    """The program names a release whose SHA-256 nobody recorded: nothing is downloaded or applied."""


def http_get(url: str, timeout_s: float) -> bytes:
    """The body of ``url`` (HTTPS, or a test server on the loopback), at most MAX_MANIFEST_BYTES."""
    # urllib (stdlib) because the dynamic provider runs in Pulumi's provider process, where only
    # what the program imports is guaranteed; the read is bounded.
    if not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise OperationFailed(f"{url}: upstream manifests are fetched over HTTPS only")
    request = urllib.request.Request(url, headers={"User-Agent": "idf-pulumi-program"})  # noqa: S310 -- scheme checked above
    with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310 -- scheme checked above
        body: bytes = response.read(MAX_MANIFEST_BYTES + 1)
    if len(body) > MAX_MANIFEST_BYTES:
        raise OperationFailed(f"{url}: larger than {MAX_MANIFEST_BYTES} bytes; not a release manifest")
    return body


def fetch_verified(
    url: str,
    sha256: str | None,
    *,
    component: str,
    version: str,
    pinned_in: str,
    timeout_s: float = FETCH_TIMEOUT_S,
    get: Callable[[str, float], bytes] = http_get,
) -> str:
    """Download ``url`` and return its text only if its SHA-256 is ``sha256``.

    ``component``/``version`` name the release in messages; ``pinned_in`` names the constant that
    pins it (``infra/cert_manager.py CERT_MANAGER_RELEASE``), which is what a person edits.
    """
    if sha256 is None or not _SHA256.match(sha256.lower()):
        raise UnrecordedDigest(
            f"{component} {version}: no SHA-256 is recorded for {url} ({pinned_in} has {sha256!r}), so "
            "nothing was downloaded or applied. Review the release upstream, then record the digest "
            f"of the published file: `curl -fsSL {url} | sha256sum`, and set it in {pinned_in}."
        )
    try:
        body = get(url, timeout_s)
    except OSError as exc:
        raise OperationFailed(f"{component} {version}: cannot download {url}: {exc}") from exc
    actual = hashlib.sha256(body).hexdigest()
    if not hmac.compare_digest(actual, sha256.lower()):
        raise ManifestDigestMismatch(
            f"{component} {version}: {url} has sha256 {actual}, but the program pins {sha256} "
            f"({pinned_in}); the published file changed or the download was altered, so nothing was "
            "applied. Compare it with the release upstream and bump version and digest together after "
            "review."
        )
    return body.decode("utf-8")


class VerifiedManifestProvider(pulumi.dynamic.ResourceProvider):
    """Downloads and verifies a manifest when the resource is created or its pin changes.

    Subclasses name the component and where its pin lives, and may narrow the objects
    (:meth:`narrow`); every input of the resource except ``yaml`` is part of the pin.
    """

    component: ClassVar[str] = "upstream manifest"
    pinned_in: ClassVar[str] = "infra/verified_manifest.py"

    def narrow(self, text: str, props: dict[str, Any]) -> list[dict[str, Any]]:
        """The objects to apply, from the verified text; by default every object, unchanged."""
        del props
        return [d for d in yaml.safe_load_all(text) if d]

    def _outputs(self, props: dict[str, Any]) -> dict[str, Any]:
        text = fetch_verified(
            props["url"],
            props["sha256"],
            component=self.component,
            version=props["version"],
            pinned_in=self.pinned_in,
        )
        return {**props, "yaml": yaml.safe_dump_all(self.narrow(text, props), sort_keys=False)}

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        return pulumi.dynamic.CreateResult(
            id_=f"{self.component}-{props['version']}", outs=self._outputs(props)
        )

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        keys = (set(olds) | set(news)) - {"yaml", "__provider"}
        changed = [k for k in sorted(keys) if olds.get(k) != news.get(k)]
        return pulumi.dynamic.DiffResult(changes=bool(changed), replaces=[])

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.UpdateResult:
        return pulumi.dynamic.UpdateResult(outs=self._outputs(news))


class VerifiedManifest(pulumi.dynamic.Resource):
    """One release's manifest, downloaded and digest-checked at deploy time (output ``yaml``)."""

    yaml: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        provider: VerifiedManifestProvider,
        *,
        url: str,
        sha256: str | None,
        version: str,
        extra: dict[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            provider,
            name,
            {"url": url, "sha256": sha256, "version": version, **(extra or {}), "yaml": None},
            opts,
        )
