"""``ScriptedLLM``: a deterministic fake model for tests and for users wiring llmgs up.

It implements the :class:`~agent.llm.types.LLM` seam, so anything that takes an LLM takes it,
and it records every request, so a test can check what was asked without patching modules.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from agent.llm.types import Completion, Completions, SamplingSettings
from agent.llm.usage import Usage
from envs.errors import LLMError

Responder = Callable[[Sequence[Mapping[str, str]], SamplingSettings, int], str]
"""``(messages, settings, sample_index) -> answer text``."""


@dataclass(frozen=True)
class ScriptedCall:
    """One request a :class:`ScriptedLLM` received.

    Attributes:
        messages: The messages, copied.
        settings: The sampling settings.
    """

    messages: tuple[dict[str, str], ...]
    settings: SamplingSettings


class ScriptedLLM:
    """Answers from a script: a list of texts handed out in order, or a function.

    Args:
        script: Texts returned one per sample, in order, or a :data:`Responder`.
        model: The model name reported in results.
        cycle: With a list, start again from the top when it runs out instead of failing.

    Example:
        >>> llm = ScriptedLLM(["def run():\\n    move()"])
        >>> llm.complete([{"role": "user", "content": "go"}], SamplingSettings()).texts
        ['def run():\\n    move()']
    """

    def __init__(
        self,
        script: Iterable[str] | Responder,
        *,
        model: str = "scripted/fake",
        cycle: bool = False,
    ) -> None:
        self.model = model
        self.calls: list[ScriptedCall] = []
        self._responder: Responder | None = script if callable(script) else None
        self._texts: list[str] = [] if callable(script) else list(script)
        self._cycle = cycle
        self._next = 0
        self._lock = threading.Lock()

    def complete(
        self, messages: Sequence[Mapping[str, str]], settings: SamplingSettings
    ) -> Completions:
        """Return ``settings.n`` scripted answers and record the request."""
        with self._lock:
            self.calls.append(ScriptedCall(tuple(dict(m) for m in messages), settings))
            texts = [self._answer(messages, settings, i) for i in range(settings.n)]
        items = tuple(
            Completion(text=t, index=i, completion_tokens=len(t.split()))
            for i, t in enumerate(texts)
        )
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in messages)
        usage = Usage(
            calls=1,
            prompt_tokens=prompt_tokens,
            completion_tokens=sum(c.completion_tokens for c in items),
        )
        return Completions(model=self.model, items=items, usage=usage)

    def _answer(
        self, messages: Sequence[Mapping[str, str]], settings: SamplingSettings, index: int
    ) -> str:
        if self._responder is not None:
            return self._responder(messages, settings, index)
        if self._next >= len(self._texts):
            if not self._cycle or not self._texts:
                raise LLMError(
                    f"ScriptedLLM ran out of answers after {self._next}", model=self.model
                )
            self._next = 0
        text = self._texts[self._next]
        self._next += 1
        return text
