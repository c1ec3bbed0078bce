"""The console's registration page with 10,000 registrations, in Chromium (issue 16).

Debian's Chromium (``/usr/bin/chromium``, installed from Debian's packages when
missing; Playwright never downloads a browser), headless, driven by Playwright,
on the load generators' CPU while the server runs on its own. The approach is
``tests/console/test_scale.py``'s, with the instants taken inside the page
(``performance.now()``) instead of by Playwright's polling, which would add up to
its polling interval to each figure:

- first rows: from the click on "Log in" (a capturing listener) to the first
  registration's cell in the table (a ``MutationObserver``), and to the frame
  after it (``requestAnimationFrame``: what the user sees), in a fresh browser
  profile each time, so the console's files are fetched as on a first visit;
- a live change: a device makes first contact, and the page's own User Timing
  entry ``gatehouse:event-applied`` (from the event's arrival on the websocket to
  its row updated) gives the time, and the first frame after the row changed
  (a ``MutationObserver``, then ``requestAnimationFrame``) the time it is seen.

The verdicts are on the frames, the stricter figures: the page's own work (row in
the DOM, ``gatehouse:event-applied``) is in the notes, and the difference is the
browser's frame scheduling, which other load on the shared CPU delays.

There is nothing to run beside it in the same run: no baseline (the row shows "—").
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from bench.processes import Server
from bench.scenarios import Row, register_devices

#: The browser and its settings, shared with the browser tests (``tests/kit/console.py``).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 800}
DEVICES = 10_000
LOGINS = 3
CHANGES = 5
FIRST_ROWS_SECONDS = 1.0
ROW_UPDATE_MS = 100.0
CREDENTIALS = "/devicecontrol/deviceCredentials"

#: Installed before the console's own scripts: stamps the click on "Log in", the first
#: registration's cell appearing, and the frame after each updated row.
PROBE = """(first) => {
  const bench = (window.__bench = { paints: [] });
  document.addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest("button");
    if (button && button.textContent.trim() === "Log in") bench.clickedAt = performance.now();
  }, true);
  let framePending = false;
  const watcher = new MutationObserver(() => {
    // A microtask right after the task that changed the page: the next frame shows it.
    if (!framePending) {
      framePending = true;
      requestAnimationFrame(() => { framePending = false; bench.paints.push(performance.now()); });
    }
    if (bench.rowAt !== undefined) return;
    for (const cell of document.querySelectorAll("tbody td")) {
      if (cell.textContent.trim() === first) {
        bench.rowAt = performance.now();
        requestAnimationFrame(() => { bench.frameAt = performance.now(); });
        return;
      }
    }
  });
  const start = () => watcher.observe(document.documentElement, {
    childList: true, subtree: true, characterData: true, attributes: true,
  });
  if (document.documentElement) start();
  else document.addEventListener("DOMContentLoaded", start);
}"""
#: Each live change: the page's own measure (event arrival to row updated), and the first
#: frame after the row was updated.
CHANGE_TIMES = """(id) => {
  const entry = performance.getEntriesByName("gatehouse:event-applied")
    .filter((e) => e.detail && e.detail.id === id).pop();
  if (!entry) return null;
  const end = entry.startTime + entry.duration;
  const paint = window.__bench.paints.find((t) => t >= end);
  return paint === undefined ? null
    : { applied: entry.duration, frame: paint - entry.startTime };
}"""


def ensure_chromium() -> str:
    """Debian's Chromium, installed with apt-get when missing (never Playwright's download)."""
    if Path(CHROMIUM).is_file():
        return CHROMIUM
    print("installing chromium from Debian's packages ...", flush=True)
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True)
    if not Path(CHROMIUM).is_file() and not shutil.which("chromium"):
        raise RuntimeError("chromium could not be installed")
    return CHROMIUM


def device(n: int) -> str:
    return f"console-{n:05}"


async def registration_page(
    server: Server, admin: str, bootstrap: str, login: tuple[str, str, str]
) -> list[Row]:
    """Both figures of the console scenario; ``login`` is (tenant, username, password)."""
    # Imported here: only this scenario needs Playwright (a test dependency).
    from playwright.async_api import async_playwright, expect

    executable = ensure_chromium()
    async with httpx.AsyncClient(timeout=120) as http:
        await register_devices(http, server, admin, [device(n) for n in range(DEVICES)])
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=executable, headless=True, args=CHROMIUM_ARGS
            )
            try:
                firsts: list[dict[str, float]] = []
                changes: list[dict[str, Any]] = []
                for attempt in range(LOGINS):
                    context = await browser.new_context(
                        base_url=server.url,
                        viewport=VIEWPORT,  # type: ignore[arg-type]
                    )
                    try:
                        page = await context.new_page()
                        await page.add_init_script(f"({PROBE})({device(0)!r})")
                        await page.goto("/console/")
                        tenant, username, password = login
                        await page.get_by_label("Tenant").fill(tenant)
                        await page.get_by_label("Username").fill(username)
                        await page.get_by_label("Password").fill(password)
                        started = time.monotonic()
                        await page.get_by_role("button", name="Log in").click()
                        cell = page.get_by_role("cell", name=device(0), exact=True)
                        await expect(cell).to_be_visible(timeout=30_000)
                        seen = time.monotonic() - started
                        await page.wait_for_function("() => window.__bench.frameAt !== undefined")
                        stamps = await page.evaluate("() => window.__bench")
                        firsts.append(
                            {
                                "row": stamps["rowAt"] - stamps["clickedAt"],
                                "frame": stamps["frameAt"] - stamps["clickedAt"],
                                "playwright": seen * 1000,
                            }
                        )
                        if attempt == LOGINS - 1:
                            changes = await _live_changes(page, http, server, bootstrap)
                    finally:
                        await context.close()
            finally:
                await browser.close()
    return _rows(firsts, changes)


async def _live_changes(
    page: Any, http: httpx.AsyncClient, server: Server, bootstrap: str
) -> list[dict[str, Any]]:
    """First contact of CHANGES devices on the page, one at a time; each row's timings."""
    from playwright.async_api import expect

    await page.get_by_role("status").filter(has_text="Live").wait_for()
    changes: list[dict[str, Any]] = []
    for n in range(1, CHANGES + 1):
        response = await http.post(
            f"{server.url}{CREDENTIALS}",
            json={"id": device(n)},
            headers={"Authorization": bootstrap},
        )
        assert response.status_code == 404, response.text  # pending now: no credentials yet
        row = page.get_by_role("row").filter(
            has=page.get_by_role("cell", name=device(n), exact=True)
        )
        await expect(row).to_contain_text("Pending acceptance", timeout=10_000)
        timing = await page.wait_for_function(f"() => ({CHANGE_TIMES})({device(n)!r})")
        changes.append(await timing.json_value())
    return changes


def _rows(firsts: list[dict[str, float]], changes: list[dict[str, Any]]) -> list[Row]:
    first = statistics.median(f["frame"] for f in firsts)
    worst_first = max(f["frame"] for f in firsts)
    applied = [float(c["applied"]) for c in changes]
    framed = [float(c["frame"]) for c in changes]
    return [
        Row(
            f"console: first rows visible after clicking Log in, {DEVICES:,} registrations "
            f"(median of {len(firsts)} fresh logins)",
            first,
            None,
            "ms",
            f"≤ {FIRST_ROWS_SECONDS:.0f} s",
            worst_first <= FIRST_ROWS_SECONDS * 1000,
            "in the page, to the frame after the first row; "
            f"row in the DOM {statistics.median(f['row'] for f in firsts):.0f} ms, "
            f"worst frame {worst_first:.0f} ms, as Playwright saw it "
            f"{statistics.median(f['playwright'] for f in firsts):.0f} ms",
        ),
        Row(
            f"console: a live status change re-rendered after its event arrived "
            f"(worst of {len(changes)})",
            max(framed),
            None,
            "ms",
            f"≤ {ROW_UPDATE_MS:.0f} ms",
            len(changes) == CHANGES and max(framed) <= ROW_UPDATE_MS,
            "event on the websocket to the frame after its row changed; to the row updated "
            f"(User Timing gatehouse:event-applied) worst {max(applied):.1f} ms, "
            f"median {statistics.median(applied):.1f} ms",
        ),
    ]
