"""Finding the Python code inside a raw model answer (prose, fences and all).

Rules, in order (documented in docs/pythonic-dsl.md):

1. Code fences (```` ``` ```` or ``~~~``, optionally indented; an unclosed last fence runs to
   the end) are collected; the code blocks among them are those tagged ``python``/``py``/
   ``python3`` and the untagged ones that do not look like DSL (no ``DEF``/``m(``). The first
   code block that defines ``run`` at its top level is the code, else the first that defines
   ``main`` (an answer may show a usage snippet before the program). Failing that, the first
   tagged block, else the first untagged one.
2. Without any fence, the whole answer is the code if it parses as Python. Otherwise the code
   is the first run of code-looking lines: from the first line that begins a Python statement
   (``def``, ``for``, ``while``, ``if``, ``import``, ``from``, ``class``, ``@`` or a call such
   as ``move()``) up to the first later line that is neither blank, indented, a comment, nor
   such a statement.
3. Tabs in indentation count as 4 spaces; common indentation is removed.
"""

from __future__ import annotations

import ast
import re
import textwrap
import warnings
from dataclasses import dataclass

from agent.conversion.limits import MAX_INPUT_CHARS
from envs.errors import ConversionError

_FENCE = re.compile(r"^[ \t]*(```+|~~~+)[ \t]*([A-Za-z0-9_+.-]*)[^\n]*$", re.MULTILINE)
_PYTHON_TAGS = {"python", "py", "python3", "py3"}
_CODE_START = re.compile(
    r"^(def |async def |for |while |if |import |from |class |@"
    r"|[A-Za-z_][\w.]*\s*\([^()]*\)\s*(#.*)?$)"
)
_CODE_CONT = re.compile(r"^(elif\b|else\b|pass\b|return\b|break\b|continue\b|#)")
_DSL_HINT = re.compile(r"\bDEF\b|\bm\(|\bw\(|\bi\(|\br\(")


@dataclass(frozen=True)
class CodeBlock:
    """Code found in an answer.

    Attributes:
        code: The code, dedented, tabs expanded.
        fenced: Whether it came from a fenced block.
        language: The fence's language tag ("" when untagged or unfenced).
    """

    code: str
    fenced: bool
    language: str = ""


def check_size(text: object) -> str:
    """Return ``text`` if it is a string within :data:`MAX_INPUT_CHARS`, else raise.

    Raises:
        ConversionError: ``text`` is not a string (reason ``"not_text"``) or is too long
            (reason ``"too_large"``).
    """
    if not isinstance(text, str):
        raise ConversionError(
            f"an answer must be text, got {type(text).__name__}", reason="not_text"
        )
    if len(text) > MAX_INPUT_CHARS:
        raise ConversionError(
            f"the answer has {len(text)} characters, more than the limit of {MAX_INPUT_CHARS}",
            reason="too_large",
        )
    return text


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """All fenced blocks as ``(language, body)``; an unclosed last fence runs to the end."""
    blocks: list[tuple[str, str]] = []
    fences = list(_FENCE.finditer(text))
    i = 0
    while i < len(fences):
        opening = fences[i]
        marker = opening.group(1)
        closing = next(
            (j for j in range(i + 1, len(fences)) if fences[j].group(1).startswith(marker[:3])),
            None,
        )
        end = fences[closing].start() if closing is not None else len(text)
        blocks.append((opening.group(2).lower(), text[opening.end() + 1 : end]))
        i = len(fences) if closing is None else closing + 1
    return blocks


def _normalise(code: str) -> str:
    lines = []
    for line in code.splitlines():
        stripped = line.lstrip(" \t")
        indent = line[: len(line) - len(stripped)].expandtabs(4)
        lines.append(indent + stripped.rstrip())
    return textwrap.dedent("\n".join(lines)).strip("\n") + "\n"


def _unfenced_code(text: str) -> str | None:
    lines = text.splitlines()
    start = next((k for k, ln in enumerate(lines) if _CODE_START.match(ln.lstrip())), None)
    if start is None:
        return None
    end = start + 1
    while end < len(lines):
        line = lines[end]
        stripped = line.lstrip()
        if not (
            not stripped
            or line[:1] in (" ", "\t")
            or _CODE_START.match(stripped)
            or _CODE_CONT.match(stripped)
        ):
            break
        end += 1
    return "\n".join(lines[start:end])


def _defines(code: str, name: str) -> bool:
    """Whether ``code`` defines the function ``name`` at its top level; a block that does not
    parse (e.g. truncated) counts when a line starts with ``def name(``."""
    if re.search(rf"^[ \t]*def[ \t]+{name}[ \t]*\(", code, re.MULTILINE) is None:
        return False  # cheap pre-check before parsing
    normalised = _normalise(code)
    try:
        tree = parse_quietly(normalised)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return re.search(rf"^def[ \t]+{name}[ \t]*\(", normalised, re.MULTILINE) is not None
    return any(isinstance(n, ast.FunctionDef) and n.name == name for n in tree.body)


def parse_quietly(text: str) -> ast.Module:
    """``ast.parse`` without the SyntaxWarnings odd model text makes the compiler print on
    stderr (``1if x else y``); the text is data, the warnings are noise.

    Raises:
        SyntaxError, ValueError, RecursionError, MemoryError: As ``ast.parse``.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)
        return ast.parse(text)


def _parses(text: str) -> bool:
    try:
        parse_quietly(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def extract_python(text: str) -> CodeBlock:
    """Find the Python code in a model answer (see the module docstring for the rules).

    Raises:
        ConversionError: No code could be found (reason ``"no_code"``), or the answer is not text
            or too long.
    """
    text = check_size(text).replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")
    blocks = fenced_blocks(text)
    code_blocks = [
        (language, body)
        for language, body in blocks
        if language in _PYTHON_TAGS
        or (not language and body.strip() and not _DSL_HINT.search(body))
    ]
    # A usage snippet often comes first ("call `turnLeft()` to turn"): the block that defines
    # the entry point is the program, whatever its position.
    for entry in ("run", "main"):
        for language, body in code_blocks:
            if _defines(body, entry):
                return CodeBlock(_normalise(body), True, language)
    for language, body in code_blocks:
        if language in _PYTHON_TAGS:
            return CodeBlock(_normalise(body), True, language)
    if code_blocks:
        language, body = code_blocks[0]
        return CodeBlock(_normalise(body), True, language)
    if not blocks and _parses(text):
        return CodeBlock(_normalise(text), False, "")
    code = _unfenced_code(text)
    if code is None or not code.strip():
        raise ConversionError(
            "no Python code found in the answer: put the program in a ```python fenced block",
            reason="no_code",
        )
    return CodeBlock(_normalise(code), False, "")
