"""Local AWS Batch runtime for the local cloud: runs moto's Batch jobs as local processes."""

from .config import BatchRuntimeConfig, JobBehaviour
from .faults import EventPlan, TooManyRequestsException, expected_delivery, plan_event
from .runtime import BatchRuntime, active_runtime, install, uninstall

__all__ = [
    "BatchRuntime",
    "BatchRuntimeConfig",
    "EventPlan",
    "JobBehaviour",
    "TooManyRequestsException",
    "active_runtime",
    "expected_delivery",
    "install",
    "plan_event",
    "uninstall",
]
