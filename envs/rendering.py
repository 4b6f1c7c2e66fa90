"""Top-down pygame drawing of the planar arm, the goal and the fingertip (no OpenGL needed).

``ArmRenderer.draw`` paints one frame onto a pygame Surface from world-frame points:
chain (K, 2) joint positions from the base to the fingertip, goal (2,), all in metres.
``rgb_array`` returns that frame as (H, W, 3) uint8; ``show`` blits it to a window.
Works headless with SDL_VIDEODRIVER=dummy.
"""
from __future__ import annotations

import os

import numpy as np

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame

BACKGROUND = (245, 245, 240)
GRID = (225, 225, 220)
WORKSPACE = (228, 236, 246)
WORKSPACE_EDGE = (190, 205, 225)
LINK = (60, 110, 190)
LINK_EDGE = (35, 65, 120)
JOINT = (40, 40, 40)
GOAL = (215, 40, 40)
GOAL_FILL = (250, 205, 205)
TIP = (245, 150, 20)
TIP_SUCCESS = (30, 170, 70)
TEXT = (40, 40, 40)


class ArmRenderer:
    """Draws frames of size (height, width); ``extent`` metres from the base fit the half-width."""

    def __init__(self, width: int = 480, height: int = 480, extent: float = 0.28,
                 fps: int = 25, title: str = "corenn"):
        self.width, self.height = int(width), int(height)
        self.scale = 0.5 * min(self.width, self.height) / float(extent)
        self.fps, self.title = int(fps), title
        self.surface = pygame.Surface((self.width, self.height))
        self.window = None
        self.clock = None
        self.font = None

    def to_screen(self, xy) -> tuple:
        """World (x, y) metres -> integer pixel (column, row); y points up on screen."""
        return (int(round(self.width / 2 + xy[0] * self.scale)),
                int(round(self.height / 2 - xy[1] * self.scale)))

    def _px(self, metres: float) -> int:
        return max(1, int(round(metres * self.scale)))

    def draw(self, chain, goal, threshold: float, success: bool = False,
             workspace=None, caption: str | None = None) -> pygame.Surface:
        """chain (K, 2), goal (2,) in metres -> the frame Surface (reused between calls)."""
        s, centre = self.surface, self.to_screen((0.0, 0.0))
        s.fill(BACKGROUND)
        if workspace is not None:
            pygame.draw.circle(s, WORKSPACE, centre, self._px(workspace[1]))
            pygame.draw.circle(s, BACKGROUND, centre, self._px(workspace[0]))
        step = self._px(0.05)
        for x in range(centre[0] % step, self.width, step):
            pygame.draw.line(s, GRID, (x, 0), (x, self.height))
        for y in range(centre[1] % step, self.height, step):
            pygame.draw.line(s, GRID, (0, y), (self.width, y))
        if workspace is not None:
            for r in workspace:
                pygame.draw.circle(s, WORKSPACE_EDGE, centre, self._px(r), 1)
        g, ring = self.to_screen(goal), self._px(threshold)
        pygame.draw.circle(s, GOAL_FILL, g, ring)

        points = [self.to_screen(p) for p in np.asarray(chain, dtype=np.float64)]
        width = max(3, self._px(0.02))
        pygame.draw.rect(s, JOINT, pygame.Rect(centre[0] - width, centre[1] - width, 2 * width, 2 * width))
        for a, b in zip(points[:-1], points[1:]):
            pygame.draw.line(s, LINK_EDGE, a, b, width + 4)
        for a, b in zip(points[:-1], points[1:]):
            pygame.draw.line(s, LINK, a, b, width)
        for p in points[:-1]:
            pygame.draw.circle(s, JOINT, p, max(3, width // 2 + 2))
            pygame.draw.circle(s, (200, 200, 200), p, max(1, width // 4))
        pygame.draw.circle(s, GOAL, g, ring, 2)  # goal drawn over the arm so it stays visible
        pygame.draw.circle(s, GOAL, g, max(3, self._px(0.008)))
        tip = max(4, width // 2 + 3)
        pygame.draw.circle(s, TIP_SUCCESS if success else TIP, points[-1], tip)
        pygame.draw.circle(s, JOINT, points[-1], tip, 1)

        if caption:
            if self.font is None:
                pygame.font.init()
                self.font = pygame.font.Font(None, max(14, self.height // 24))
            s.blit(self.font.render(caption, True, TEXT), (8, 8))
            if self.width >= 400:
                legend = "goal: red (threshold ring)   fingertip: orange, green on success"
                text = self.font.render(legend, True, TEXT)
                s.blit(text, (8, self.height - text.get_height() - 6))
        return s

    def rgb_array(self, **scene) -> np.ndarray:
        """Same arguments as ``draw`` -> (H, W, 3) uint8 array."""
        frame = pygame.surfarray.array3d(self.draw(**scene))
        return np.ascontiguousarray(np.transpose(frame, (1, 0, 2)), dtype=np.uint8)

    def show(self, **scene) -> None:
        """Draw and display in a pygame window (opened on first use), throttled to ``fps``."""
        surface = self.draw(**scene)
        if self.window is None:
            pygame.display.init()
            pygame.display.set_caption(self.title)
            self.window = pygame.display.set_mode((self.width, self.height))
            self.clock = pygame.time.Clock()
        pygame.event.pump()
        self.window.blit(surface, (0, 0))
        pygame.display.flip()
        self.clock.tick(self.fps)

    def close(self) -> None:
        """Quit the window (if any) and pygame's display."""
        if self.window is not None:
            pygame.display.quit()
            self.window = None
        self.font = None
