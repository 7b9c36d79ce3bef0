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


# Where Bootstrap's light theme puts text: the pages (bg-body-tertiary), cards and tables, the
# pale alerts (the *-bg-subtle colours) and a striped or hovered table row.
PAGE, CARD = (248, 249, 250), (255, 255, 255)
PALE_ALERTS = {"danger": (248, 215, 218), "warning": (255, 243, 205), "info": (207, 244, 252),
               "success": (209, 231, 221), "primary": (207, 226, 255), "secondary": (226, 227, 229)}
ROWS = {"striped": (242, 242, 242), "hovered": (236, 236, 236)}
EVERYWHERE = {"page": PAGE, "card": CARD, **PALE_ALERTS, **ROWS}
WHITE = (255, 255, 255)


def contrast_block() -> str:
    """The block of contrast fixes, which closes the file (the rules above it are others')."""
    text = CSS.read_text()
    head = "/* Contrast (WCAG 2.1 AA) */"
    assert text.count(head) == 1
    return text[text.index(head):]


def declarations(selector: str) -> dict[str, str]:
    block = re.search(re.escape(selector) + r"\s*\{(.*?)\}", contrast_block(), re.S).group(1)
    return dict(re.findall(r"([\w-]+):\s*([^;]+?)\s*(?:!important)?;", block))


def test_bootstraps_own_colours_fell_short_on_the_pages():
    """What the block is for: axe measured these on the screens (4.26, 4.29, 4.44, 3.39)."""
    for text in ("#0d6efd", "#dc3545", "#d63384", "#6c757d"):
        assert contrast(colour(text, PAGE), PAGE) < 4.5, text
    assert round(contrast(colour("#dc3545", PAGE), PALE_ALERTS["danger"]), 2) == 3.39


def test_links_code_and_errors_read_on_every_light_background():
    root = declarations(':root, [data-bs-theme="light"]')
    texts = {name: root[name] for name in (
        "--bs-link-color", "--bs-link-hover-color", "--bs-code-color", "--bs-form-invalid-color",
    )}
    texts[".text-danger"] = declarations(".text-danger")["color"]
    for name, text in texts.items():
        for where, background in EVERYWHERE.items():
            ratio = contrast(colour(text, background), background)
            assert ratio >= 4.5, f"{name} {text} on {where}: {ratio:.2f}"
    # Bootstrap's .link-* and text-decoration colours use the rgb triplets: the same colours.
    for name in ("--bs-link-color", "--bs-link-hover-color"):
        assert colour(root[name], WHITE) == tuple(float(c) for c in root[name + "-rgb"].split(","))


def test_outline_buttons_read_at_rest_and_when_filled():
    for button in (".btn-outline-primary", ".btn-outline-secondary"):
        rules = declarations(button)
        assert rules["--bs-btn-border-color"] == rules["--bs-btn-color"]
        for where, background in EVERYWHERE.items():
            ratio = contrast(colour(rules["--bs-btn-color"], background), background)
            assert ratio >= 4.5, f"{button} on {where}: {ratio:.2f}"
        for state in ("--bs-btn-hover-bg", "--bs-btn-active-bg"):
            filled = colour(rules[state], WHITE)
            # Bootstrap's outline buttons turn their text white when filled.
            assert contrast(WHITE, filled) >= 4.5, f"{button} {state}"
