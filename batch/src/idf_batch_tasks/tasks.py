"""The PipelineTasks of the small DP0.2-like pipeline (pipelines/dp02_small.yaml).

Every dataset is a `StructuredDataDict` (a dict stored as YAML/JSON), so nothing here needs afw.
Failures can be injected once per quantum for the restart test: a marker file named after the
quantum's data id in `failOnceDir` makes that quantum raise and removes the marker, so the same
quantum graph succeeds when BPS restarts it.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import lsst.pex.config as pex_config
import lsst.pipe.base as pipe_base
from lsst.pipe.base import connectionTypes as cT

__all__ = [
    "InjectedFailureError",
    "MeasurePatchConfig",
    "MeasurePatchTask",
    "MergeBandsConfig",
    "MergeBandsTask",
    "RunSummaryConfig",
    "RunSummaryTask",
    "TractSummaryConfig",
    "TractSummaryTask",
]


class InjectedFailureError(RuntimeError):
    """Raised by a quantum whose fail-once marker exists (the restart test's injected failure)."""


def _fail_once(fail_once_dir: str, label: str) -> None:
    if not fail_once_dir:
        return
    marker = Path(fail_once_dir) / label
    if marker.exists():
        marker.unlink()
        raise InjectedFailureError(
            f"injected failure for {label} (marker {marker} removed; a restart succeeds)"
        )


class MeasurePatchConnections(
    pipe_base.PipelineTaskConnections, dimensions=("skymap", "tract", "patch", "band")
):
    """Per patch and band: the input catalog in, one measurement out."""

    inputCatalog = cT.Input(  # noqa: N815 - connection names are dataset-type style (camelCase)
        name="dp02_input_catalog",
        storageClass="StructuredDataDict",
        dimensions=("skymap", "tract", "patch", "band"),
        doc="Generated DC2-shaped per-patch catalog (fluxes and positions).",
    )
    measurement = cT.Output(
        name="dp02_patch_measurement",
        storageClass="StructuredDataDict",
        dimensions=("skymap", "tract", "patch", "band"),
        doc="Source count, flux statistics and centroid of the patch in one band.",
    )


class MeasurePatchConfig(pipe_base.PipelineTaskConfig, pipelineConnections=MeasurePatchConnections):
    """Configuration of :class:`MeasurePatchTask`."""

    snrThreshold = pex_config.Field[float](  # noqa: N815 - pex_config fields are camelCase
        doc="Sources below this signal-to-noise are not counted.", default=5.0
    )
    failOnceDir = pex_config.Field[str](  # noqa: N815
        doc="Directory of fail-once markers named tract-patch-band (empty: never fail).", default=""
    )


class MeasurePatchTask(pipe_base.PipelineTask):
    """Measure one patch in one band."""

    ConfigClass = MeasurePatchConfig
    _DefaultName = "idfMeasurePatch"
    config: MeasurePatchConfig

    def runQuantum(  # noqa: N802 - the PipelineTask API
        self,
        butlerQC: pipe_base.QuantumContext,  # noqa: N803
        inputRefs: pipe_base.InputQuantizedConnection,  # noqa: N803
        outputRefs: pipe_base.OutputQuantizedConnection,  # noqa: N803
    ) -> None:
        """Inject the fail-once failure for this data id, then run as usual."""
        data_id = butlerQC.quantum.dataId
        _fail_once(self.config.failOnceDir, f"{data_id['tract']}-{data_id['patch']}-{data_id['band']}")
        super().runQuantum(butlerQC, inputRefs, outputRefs)

    def run(self, inputCatalog: dict[str, Any]) -> pipe_base.Struct:  # noqa: N803
        """Count the sources above the threshold and summarise their fluxes."""
        fluxes = [float(f) for f in inputCatalog["flux"]]
        errors = [float(e) for e in inputCatalog["flux_err"]]
        kept = [f for f, e in zip(fluxes, errors, strict=True) if e > 0 and f / e >= self.config.snrThreshold]
        mean = sum(kept) / len(kept) if kept else 0.0
        ras, decs = inputCatalog["ra"], inputCatalog["dec"]
        return pipe_base.Struct(
            measurement={
                "band": inputCatalog["band"],
                "n_input": len(fluxes),
                "n_detected": len(kept),
                "mean_flux": mean,
                "mag_mean": -2.5 * math.log10(mean) + 31.4 if mean > 0 else None,
                "ra_center": sum(ras) / len(ras),
                "dec_center": sum(decs) / len(decs),
            }
        )


class MergeBandsConnections(pipe_base.PipelineTaskConnections, dimensions=("skymap", "tract", "patch")):
    """Per patch: every band's measurement in, one merged record out."""

    measurements = cT.Input(
        name="dp02_patch_measurement",
        storageClass="StructuredDataDict",
        dimensions=("skymap", "tract", "patch", "band"),
        multiple=True,
        doc="The patch's measurement in each band.",
    )
    patchObject = cT.Output(  # noqa: N815
        name="dp02_patch_object",
        storageClass="StructuredDataDict",
        dimensions=("skymap", "tract", "patch"),
        doc="Bands merged for the patch (a stand-in for the DP0.2 Object table's per-patch part).",
    )


class MergeBandsConfig(pipe_base.PipelineTaskConfig, pipelineConnections=MergeBandsConnections):
    """Configuration of :class:`MergeBandsTask`."""


class MergeBandsTask(pipe_base.PipelineTask):
    """Merge a patch's per-band measurements."""

    ConfigClass = MergeBandsConfig
    _DefaultName = "idfMergeBands"

    def run(self, measurements: list[dict[str, Any]]) -> pipe_base.Struct:
        """Key the measurements by band; count the detections in every band."""
        by_band = {m["band"]: m for m in measurements}
        return pipe_base.Struct(
            patchObject={
                "bands": sorted(by_band),
                "n_detected_by_band": {b: m["n_detected"] for b, m in sorted(by_band.items())},
                "n_detected_min": min(m["n_detected"] for m in measurements),
            }
        )


class TractSummaryConnections(pipe_base.PipelineTaskConnections, dimensions=("skymap", "tract")):
    """Per tract: every patch's merged record in, one tract summary out."""

    patchObjects = cT.Input(  # noqa: N815
        name="dp02_patch_object",
        storageClass="StructuredDataDict",
        dimensions=("skymap", "tract", "patch"),
        multiple=True,
        doc="The merged records of the tract's patches.",
    )
    tractSummary = cT.Output(  # noqa: N815
        name="dp02_tract_summary",
        storageClass="StructuredDataDict",
        dimensions=("skymap", "tract"),
        doc="Patch count and detections of the tract.",
    )


class TractSummaryConfig(pipe_base.PipelineTaskConfig, pipelineConnections=TractSummaryConnections):
    """Configuration of :class:`TractSummaryTask`."""


class TractSummaryTask(pipe_base.PipelineTask):
    """Gather a tract's patches."""

    ConfigClass = TractSummaryConfig
    _DefaultName = "idfTractSummary"

    def run(self, patchObjects: list[dict[str, Any]]) -> pipe_base.Struct:  # noqa: N803
        """Count patches and the detections in the weakest band of each."""
        return pipe_base.Struct(
            tractSummary={
                "n_patches": len(patchObjects),
                "n_detected_min_sum": sum(p["n_detected_min"] for p in patchObjects),
            }
        )


class RunSummaryConnections(pipe_base.PipelineTaskConnections, dimensions=("skymap",)):
    """Per skymap: every tract summary in, the run's summary out."""

    tractSummaries = cT.Input(  # noqa: N815
        name="dp02_tract_summary",
        storageClass="StructuredDataDict",
        dimensions=("skymap", "tract"),
        multiple=True,
        doc="The tract summaries of the run.",
    )
    runSummary = cT.Output(  # noqa: N815
        name="dp02_run_summary",
        storageClass="StructuredDataDict",
        dimensions=("skymap",),
        doc="Totals of the run, the dataset the batch gates read.",
    )


class RunSummaryConfig(pipe_base.PipelineTaskConfig, pipelineConnections=RunSummaryConnections):
    """Configuration of :class:`RunSummaryTask`."""


class RunSummaryTask(pipe_base.PipelineTask):
    """Summarise the whole run."""

    ConfigClass = RunSummaryConfig
    _DefaultName = "idfRunSummary"

    def run(self, tractSummaries: list[dict[str, Any]]) -> pipe_base.Struct:  # noqa: N803
        """Total the tracts."""
        return pipe_base.Struct(
            runSummary={
                "n_tracts": len(tractSummaries),
                "n_patches": sum(t["n_patches"] for t in tractSummaries),
                "n_detected_min_sum": sum(t["n_detected_min_sum"] for t in tractSummaries),
            }
        )
