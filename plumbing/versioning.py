"""Worker Deployment Versioning: which build a worker is, and which build takes new returns.

Every worker is a version of the Worker Deployment `RETURNFLOW_DEPLOYMENT_NAME` (`returnflow`),
its build ID the package version (`RETURNFLOW_BUILD_ID` to say otherwise). Its workflows are
*pinned*: a return runs to its end on the build that started it, so a new build never has to
replay an old return's history, and a change of the workflow's commands needs no patch. New
returns go to the deployment's *current* version, which an operator (or the dev stack) sets
with `starter.py deployment promote`; the old version drains as its returns end.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib.metadata
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from temporalio.api.enums.v1 import (
    RoutingConfigUpdateState,
    VersionDrainageStatus,
    WorkerDeploymentVersionStatus,
)
from temporalio.api.workflowservice.v1 import (
    DescribeWorkerDeploymentRequest,
    SetWorkerDeploymentCurrentVersionRequest,
)
from temporalio.client import Client
from temporalio.common import VersioningBehavior, WorkerDeploymentVersion
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import WorkerDeploymentConfig

from plumbing.settings import Settings

IDENTITY = "returnflow"

T = TypeVar("T")

# What the server answers before a worker of the build has polled.
_NOT_POLLING_YET = (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION)
# What it answers while busy; asking again is safe.
_TRANSIENT = (
    RPCStatusCode.CANCELLED,
    RPCStatusCode.DEADLINE_EXCEEDED,
    RPCStatusCode.UNAVAILABLE,
    RPCStatusCode.RESOURCE_EXHAUSTED,
)


def build_id(settings: Settings) -> str:
    """This build's ID: the setting, else the installed package's version."""
    return settings.build_id or importlib.metadata.version("returnflow")


def version(settings: Settings) -> WorkerDeploymentVersion:
    return WorkerDeploymentVersion(settings.deployment_name, build_id(settings))


def deployment_config(settings: Settings) -> WorkerDeploymentConfig | None:
    """The worker's deployment: every workflow pinned to the build that started it. None when
    versioning is off (`RETURNFLOW_WORKER_VERSIONING=false`: every worker takes every task)."""
    if not settings.worker_versioning:
        return None
    return WorkerDeploymentConfig(
        version=version(settings),
        use_worker_versioning=True,
        # Returns and the reminder sweep alike: a sweep lasts an hour at most, and drains
        # with the build that started it.
        default_versioning_behavior=VersioningBehavior.PINNED,
    )


def visibility_value(settings: Settings, build: str | None = None) -> str:
    """The `TemporalWorkerDeploymentVersion` search attribute's value for a build."""
    return f"{settings.deployment_name}:{build or build_id(settings)}"


@dataclass(frozen=True)
class VersionState:
    build_id: str
    status: str
    """inactive, current, ramping, draining or drained."""
    drainage: str | None
    running: int | None = None
    """Returns and sweeps still running pinned to it (visibility), when counted."""


@dataclass(frozen=True)
class DeploymentState:
    name: str
    current: str | None
    """The build that takes new workflows; None while none is current (unversioned)."""
    versions: list[VersionState]


async def describe(
    client: Client, name: str, *, wait: dt.timedelta = dt.timedelta(0)
) -> DeploymentState | None:
    """The deployment's current build and its versions; None if no worker of it ever polled.
    Asked again for up to `wait` while the server answers that it is busy (as it does while a
    promotion of the same deployment is under way)."""
    try:
        response = await _asked_again(
            lambda: client.workflow_service.describe_worker_deployment(
                DescribeWorkerDeploymentRequest(namespace=client.namespace, deployment_name=name)
            ),
            deadline=time.monotonic() + wait.total_seconds(),
        )
    except RPCError as err:
        if err.status is RPCStatusCode.NOT_FOUND:
            return None
        raise
    info = response.worker_deployment_info
    current = info.routing_config.current_deployment_version.build_id or None
    versions = [
        VersionState(
            build_id=summary.deployment_version.build_id,
            status=_status_name(summary.status),
            drainage=_drainage_name(summary.drainage_info.status)
            if summary.HasField("drainage_info")
            else None,
        )
        for summary in info.version_summaries
    ]
    return DeploymentState(name=name, current=current, versions=versions)


async def with_running_counts(
    client: Client, settings: Settings, state: DeploymentState
) -> DeploymentState:
    """`state` with, for each version, how many workflows still run pinned to it."""
    counted = []
    for v in state.versions:
        query = (
            f"TemporalWorkerDeploymentVersion = '{visibility_value(settings, v.build_id)}' "
            "AND ExecutionStatus = 'Running'"
        )
        running = (await client.count_workflows(query)).count
        counted.append(VersionState(v.build_id, v.status, v.drainage, running))
    return DeploymentState(state.name, state.current, counted)


async def promote(
    client: Client, name: str, build: str, *, wait: dt.timedelta = dt.timedelta(0)
) -> str | None:
    """Make `build` the current version: new returns go to it. Waits up to `wait` for a worker
    of that build to poll (the server knows no version before), then for the routing to take
    effect. Returns the build that was current before (None: unversioned)."""
    try:
        # Besides busy answers, the server cancels the call while the new version is still
        # reaching the task queues' user data (seen under load); the call is idempotent.
        response = await _asked_again(
            lambda: client.workflow_service.set_worker_deployment_current_version(
                SetWorkerDeploymentCurrentVersionRequest(
                    namespace=client.namespace,
                    deployment_name=name,
                    build_id=build,
                    identity=IDENTITY,
                )
            ),
            deadline=time.monotonic() + wait.total_seconds(),
            retrying=(*_TRANSIENT, *_NOT_POLLING_YET),
        )
    except RPCError as err:
        if err.status in _NOT_POLLING_YET:
            raise VersionNotPolling(name, build) from err
        raise
    await _routing_done(client, name, build, deadline=time.monotonic() + 30)
    previous = response.previous_deployment_version.build_id
    return previous or None


class VersionNotPolling(RuntimeError):
    def __init__(self, name: str, build: str) -> None:
        super().__init__(
            f"no worker of build {build!r} of deployment {name!r} has polled yet: start it "
            "first (or wait longer with --wait)"
        )


async def _routing_done(client: Client, name: str, build: str, *, deadline: float) -> None:
    """Until the new routing has reached every task queue of the deployment."""
    while time.monotonic() < deadline:
        try:
            response = await client.workflow_service.describe_worker_deployment(
                DescribeWorkerDeploymentRequest(namespace=client.namespace, deployment_name=name)
            )
        except RPCError as err:
            if err.status not in _TRANSIENT:
                raise
            await asyncio.sleep(0.1)
            continue
        info = response.worker_deployment_info
        in_progress = RoutingConfigUpdateState.ROUTING_CONFIG_UPDATE_STATE_IN_PROGRESS
        current = info.routing_config.current_deployment_version.build_id
        if current == build and info.routing_config_update_state != in_progress:
            return
        await asyncio.sleep(0.1)


async def _asked_again(
    call: Callable[[], Awaitable[T]],
    *,
    deadline: float,
    retrying: tuple[RPCStatusCode, ...] = _TRANSIENT,
) -> T:
    """`call`'s answer, asked again while the server answers with one of `retrying` and the
    `deadline` (`time.monotonic()`) is not past; then its answer as it is."""
    while True:
        try:
            return await call()
        except RPCError as err:
            if err.status not in retrying or time.monotonic() >= deadline:
                raise
        await asyncio.sleep(0.2)


def _status_name(value: WorkerDeploymentVersionStatus.ValueType) -> str:
    name = WorkerDeploymentVersionStatus.Name(value)
    return name.removeprefix("WORKER_DEPLOYMENT_VERSION_STATUS_").lower()


def _drainage_name(value: VersionDrainageStatus.ValueType) -> str | None:
    name = VersionDrainageStatus.Name(value).removeprefix("VERSION_DRAINAGE_STATUS_").lower()
    return None if name == "unspecified" else name
