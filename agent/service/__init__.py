"""The HTTP service of ``llmgs serve``: a job queue over ``agent.solve`` with a web page.

Public API::

    from agent.service import ServiceConfig, create_app, JobManager, JobStore

Importing this package is light: FastAPI is imported only when :func:`create_app` or
:class:`ServiceConfig` is used, so worker processes do not pay for it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["JobManager", "JobStore", "ServiceConfig", "create_app"]

_WHERE = {
    "JobManager": "agent.service.jobs",
    "JobStore": "agent.service.store",
    "ServiceConfig": "agent.service.app",
    "create_app": "agent.service.app",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'agent.service' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_WHERE[name]), name)
