"""Checks every browser test can run on a page: no horizontal overflow at the viewport's
width, and no accessibility violation that axe-core rates serious or critical.

axe-core is the npm package (package.json pins it, `make test` installs it with `npm ci`);
Playwright injects its script into the page and runs it there, so the page is checked as
the browser rendered it, styles and scripts included.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE = Path(__file__).resolve().parents[3] / "node_modules" / "axe-core" / "axe.min.js"
FAILING_IMPACTS = {"serious", "critical"}
WIDTHS = (390, 1280)  # a phone, and the desk's screen


def overflow(page: Page) -> dict[str, Any]:
    """How far the page reaches past the viewport's right edge, and what sticks out."""
    return page.evaluate(
        """() => {
          const width = document.documentElement.clientWidth;
          const wide = [];
          for (const el of document.querySelectorAll('body *')) {
            const r = el.getBoundingClientRect();
            if (r.width && r.right > width + 1 && getComputedStyle(el).position !== 'fixed') {
              let clipped = false;
              for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
                const o = getComputedStyle(p).overflowX;
                if (o === 'auto' || o === 'hidden' || o === 'scroll' || o === 'clip') {
                  clipped = true; break;
                }
              }
              if (!clipped) wide.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
                + (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : '')
                + ' ' + Math.round(r.right) + 'px');
            }
          }
          return {scroll: document.documentElement.scrollWidth, width, wide: wide.slice(0, 8)};
        }"""
    )


def axe_violations(page: Page) -> list[dict[str, Any]]:
    if not AXE.exists():
        raise AssertionError(f"{AXE} is missing: run `npm ci` (make test does).")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
        if v["impact"] in FAILING_IMPACTS
    ]


def problems(page: Page, what: str) -> list[str]:
    """What is wrong with the page at its current viewport: horizontal scrolling, and each
    serious or critical axe-core violation."""
    page.wait_for_load_state("load")
    found = overflow(page)
    wrong = []
    if found["scroll"] > found["width"]:
        wrong.append(
            f"{what}: the page is {found['scroll']} px wide in a {found['width']} px "
            f"viewport; sticking out: {found['wide']}"
        )
    wrong += [f"{what}: axe-core finds {v}" for v in axe_violations(page)]
    return wrong


def assert_fits_and_accessible(page: Page, what: str) -> None:
    wrong = problems(page, what)
    assert not wrong, "\n".join(wrong)
