"""Colours the project sets itself meet WCAG 2.1 AA contrast (4.5:1 for text)."""

from __future__ import annotations

import re
from pathlib import Path

CSS = Path(__file__).resolve().parent.parent / "static" / "css" / "tracker.css"


def luminance(rgb: tuple[float, float, float]) -> float:
    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c / 255) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def colour(text: str, background: tuple[int, int, int]) -> tuple[float, float, float]:
    """A CSS colour (#rrggbb or rgba(r, g, b, a)) as shown over ``background``."""
    if text.startswith("#"):
        return tuple(int(text[i : i + 2], 16) for i in (1, 3, 5))
    r, g, b, a = (float(x) for x in re.findall(r"[\d.]+", text))
    return tuple(a * c + (1 - a) * bg for c, bg in zip((r, g, b), background, strict=True))


def test_the_formula_gives_the_known_ratios():
    assert round(contrast((255, 255, 255), (0, 0, 0)), 1) == 21.0
    assert round(contrast(colour("rgba(255, 255, 255, .55)", (13, 110, 253)), (13, 110, 253)), 2) \
        == 2.36  # Bootstrap's dark navbar links on its primary: what the bar had before


def test_every_link_of_the_top_bar_reads():
    block = re.search(r"\.navbar\.app-bar \{(.*?)\}", CSS.read_text(), re.S).group(1)
    rules = dict(re.findall(r"([\w-]+):\s*([^;]+);", block))
    background = colour(rules["background-color"], (255, 255, 255))
    for name in ("--bs-navbar-color", "--bs-navbar-active-color", "--bs-navbar-brand-color"):
        assert contrast(colour(rules[name], background), background) >= 4.5, name
