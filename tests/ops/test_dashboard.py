"""The operations dashboard in a real browser: headless Chromium against `carehub serve` in a thread."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from carehub.api import create_app
from carehub.broker import TopicPartition
from carehub.hub import Hub
from carehub.ops.rules import LagPolicy
from carehub.settings import Settings
from tests.ops.conftest import commit, produce
from tests.serving import serving

#: Debian's chromium package; Playwright drives it instead of a browser of its own.
CHROMIUM = Path("/usr/bin/chromium")
#: A trend from two samples at once, so the page shows a stalled group within a second.
EAGER = LagPolicy(trend_samples=2, trend_span_s=0)
WAIT_MS = 15_000


@pytest.fixture
def hub(tmp_path: Path, embedded_broker_url: str) -> Hub:
    return Hub(Settings(home=tmp_path / "home", broker=embedded_broker_url))


@pytest.fixture
def served(hub: Hub) -> Iterator[str]:
    """The hub's HTTP server on a free port, in a thread; its base URL."""
    with serving(create_app(hub, EAGER)) as url:
        yield url


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Page]:
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: install it with `apt-get install -y chromium`"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        try:
            yield browser.new_page(viewport={"width": 1280, "height": 900})
        finally:
            browser.close()


def test_the_dashboard_shows_a_group_falling_behind_and_catching_up(
    hub: Hub, served: str, page: Page, tmp_path: Path
) -> None:
    topic, group = "src.registry.person.v1", "carehub-reconciler"
    tp = TopicPartition(topic, 0)
    produce(hub.broker, topic, 10)
    commit(hub.broker, group, {tp: 4})
    produce(hub.broker, "dlq.registry-person", 2)

    page.goto(f"{served}/dashboard?refresh=0.5")

    row = page.locator(f'#groups tr[data-group="{group}"]')
    expect(row).to_have_attribute("data-status", "STALL", timeout=WAIT_MS)
    expect(row.locator(".status")).to_have_text("STALL")
    expect(row.locator(".lag")).to_have_text("6")
    expect(row.locator("svg.history polyline")).to_have_count(1)
    expect(page.locator('#dead-letters tr[data-topic="dlq.registry-person"] td.number')).to_have_text("2")
    expect(page.locator("#alerts-empty")).to_have_text("no alerts")
    expect(page.locator("#connectors-empty")).to_be_visible()
    page.screenshot(path=str(tmp_path / "behind.png"), full_page=True)

    produce(hub.broker, topic, 5)
    commit(hub.broker, group, {tp: 15})

    expect(row).to_have_attribute("data-status", "OK", timeout=WAIT_MS)
    expect(row.locator(".lag")).to_have_text("0")
    expect(row.locator(".lag-seconds")).to_have_text("0 s")
    expect(page.locator("#problem")).to_be_hidden()
    page.screenshot(path=str(tmp_path / "caught-up.png"), full_page=True)
