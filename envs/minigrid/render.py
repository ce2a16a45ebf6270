"""Render Minigrid rollouts to PNG and GIF from minigrid's own ``rgb_array`` frames.

Frames come from ``MiniGridEnv.get_frame`` (numpy only; no window, no pygame display). A PNG
shows one frame (the start by default, or the last); a GIF shows the start and one frame per
executed action.

Example:
    >>> from envs.minigrid.task import MinigridTask
    >>> task = MinigridTask("LavaGap", n=1)
    >>> render_rollout(task, "DEF run m( forward m)", 0, "lavagap.gif")  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Protocol

import numpy as np
from PIL import Image

from envs.dsl.ast import Program
from envs.errors import ConfigError


class Filmable(Protocol):
    """What rendering a rollout needs of a task (:class:`~envs.minigrid.task.MinigridTask`).

    The task imports this module to draw itself, so this module names no task class.
    """

    def frames(self, program: Program | str, instance: int = 0, tile_size: int = 32) -> list:
        """RGB frames of one episode: the start, then one per action."""
        ...


def save_frames(
    frames: list[np.ndarray],
    path: str | Path,
    *,
    frame: Literal["first", "last"] = "first",
    ms_per_frame: int = 300,
) -> Path:
    """Write RGB frames as a PNG (one frame) or an animated GIF, chosen by the file suffix.

    Args:
        frames: ``(H, W, 3)`` uint8 arrays.
        path: Output file, ending in ``.png`` or ``.gif``.
        frame: For a PNG, which frame to write.
        ms_per_frame: For a GIF, the display time of each frame.

    Returns:
        The path written.

    Raises:
        ConfigError: No frames, or a suffix other than ``.png``/``.gif``.
    """
    path = Path(path)
    if not frames:
        raise ConfigError("there are no frames to save")
    suffix = path.suffix.lower()
    images = [Image.fromarray(np.asarray(f, dtype=np.uint8)) for f in frames]
    if suffix == ".png":
        images[0 if frame == "first" else -1].save(path)
    elif suffix == ".gif":
        # The last frame stays up longer so a viewer sees how the episode ended.
        durations = [ms_per_frame] * (len(images) - 1) + [ms_per_frame * 4]
        images[0].save(path, save_all=True, append_images=images[1:], duration=durations, loop=0)
    else:
        raise ConfigError(f"cannot render to {path.name!r}: use a .png or .gif file")
    return path


def render_rollout(
    task: Filmable,
    program: Program | str,
    instance: int,
    path: str | Path,
    *,
    tile_size: int = 32,
    frame: Literal["first", "last"] = "first",
    ms_per_frame: int = 300,
) -> Path:
    """Run ``program`` on one instance of ``task`` and save the episode as PNG or GIF.

    Args:
        task: The Minigrid task.
        program: DSL text or a parsed program.
        instance: Instance index (0-based).
        path: Output file, ending in ``.png`` or ``.gif``.
        tile_size: Pixels per grid cell.
        frame: For a PNG, the first (start) or last frame.
        ms_per_frame: For a GIF, the display time of each frame.

    Returns:
        The path written.

    Raises:
        DSLSyntaxError: ``program`` does not parse.
        ConfigError: Bad instance or file suffix.
    """
    frames = task.frames(program, instance, tile_size=tile_size)
    return save_frames(frames, path, frame=frame, ms_per_frame=ms_per_frame)
