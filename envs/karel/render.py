"""Pictures of Karel worlds: ASCII, PNG of one state and an animated GIF of an episode.

The ASCII form is :meth:`KarelWorld.to_string`. Images are drawn with Pillow: walls dark,
markers as discs with their count, the agent as an arrow pointing where it faces.

Example:
    >>> import envs
    >>> from envs.karel.render import save_gif
    >>> task = envs.make("karel/DoorKey", engine="python")
    >>> save_gif(task, "DEF run m( move move m)", "doorkey.gif", instance=3)  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from PIL import Image, ImageDraw, ImageFont

from envs.dsl.ast import Program
from envs.karel.world import KarelWorld


class Episodes(Protocol):
    """What drawing an episode needs of a task (:class:`~envs.karel.task.KarelTask` has it).

    The task imports this module to draw itself, so this module names no task class.
    """

    def episode_worlds(
        self, program: Program | str, instance: int = 0, max_frames: int = 500
    ) -> list[KarelWorld]:
        """The world before the first action and after each action."""
        ...


WALL = (60, 60, 70)
FLOOR = (238, 236, 228)
GRID = (200, 198, 190)
MARKER = (222, 140, 40)
AGENT = (40, 90, 200)
TEXT = (255, 255, 255)

# Arrow outlines in unit-cell coordinates, pointing N, E, S, W.
_ARROWS = (
    ((0.5, 0.15), (0.8, 0.8), (0.5, 0.62), (0.2, 0.8)),
    ((0.85, 0.5), (0.2, 0.8), (0.38, 0.5), (0.2, 0.2)),
    ((0.5, 0.85), (0.2, 0.2), (0.5, 0.38), (0.8, 0.2)),
    ((0.15, 0.5), (0.8, 0.2), (0.62, 0.5), (0.8, 0.8)),
)


def to_image(world: KarelWorld, cell: int = 32) -> Image.Image:
    """Draw ``world`` as an RGB image, ``cell`` pixels per grid cell."""
    h, w = world.shape
    img = Image.new("RGB", (w * cell, h * cell), FLOOR)
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=max(8, cell // 3))
    for r in range(h):
        for c in range(w):
            box = (c * cell, r * cell, (c + 1) * cell - 1, (r + 1) * cell - 1)
            if world.walls[r, c]:
                draw.rectangle(box, fill=WALL)
            else:
                draw.rectangle(box, outline=GRID)
            count = int(world.markers[r, c])
            if count:
                pad = cell * 0.2
                disc = (box[0] + pad, box[1] + pad, box[2] - pad, box[3] - pad)
                draw.ellipse(disc, fill=MARKER)
                if count > 1:
                    centre = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
                    draw.text(centre, str(count), fill=TEXT, font=font, anchor="mm")
    points = [((world.col + x) * cell, (world.row + y) * cell) for x, y in _ARROWS[world.dir]]
    draw.polygon(points, fill=AGENT, outline=(255, 255, 255))
    return img


def save_png(world: KarelWorld, path: str | Path, cell: int = 32) -> Path:
    """Write ``world`` as a PNG; returns the path."""
    path = Path(path)
    to_image(world, cell).save(path, format="PNG")
    return path


def episode_worlds(
    task: Episodes, program: Program | str, instance: int = 0, max_frames: int = 500
) -> list[KarelWorld]:
    """The world before the first action and after each action: :meth:`KarelTask.episode_worlds`."""
    return task.episode_worlds(program, instance, max_frames)


def save_gif(
    task: Episodes,
    program: Program | str,
    path: str | Path,
    instance: int = 0,
    *,
    cell: int = 32,
    frame_ms: int = 150,
    max_frames: int = 500,
) -> Path:
    """Animate one episode of ``program`` on ``instance`` as a looping GIF; returns the path."""
    images = [to_image(w, cell) for w in task.episode_worlds(program, instance, max_frames)]
    path = Path(path)
    images[0].save(
        path, format="GIF", save_all=True, append_images=images[1:], duration=frame_ms, loop=0
    )
    return path
