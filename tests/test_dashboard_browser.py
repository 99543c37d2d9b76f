"""The dashboard in a real headless Chromium: ``suite dashboard`` serves a grid store and every page renders.

Streamlit renders in the browser, so the page is driven with Selenium and the system's chromedriver
until the leaderboard shows the store's variants and verdicts, the Variant page the per-image
distributions of baseline and variant (drawn, then scrolled into view for a screenshot of their own), the
Across datasets page its critical-difference diagram (the store holds SE and ECA on 5 datasets) and the
Studies page the heatmap of a position sweep. Screenshots go to ``tmp_path`` and, when
``SUITE_SCREENSHOT_DIR`` is set, there too. Skipped only where no Chromium binary is installed.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from _dashboard_fixtures import ACROSS_TASKS, GRIDS, across_store, synthetic_grid_store
from _study_fixtures import noisy, sweep_request, write_study
from suite.reports._common import TEST_TITLE
from suite.spec import key
from suite.store import read_runs
from suite.verdict import compare

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
CHROMEDRIVER = shutil.which("chromedriver") or next(
    (p for p in ("/usr/lib/chromium/chromedriver", "/usr/bin/chromedriver") if Path(p).is_file()), None
)
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1600,1100",
)  # fmt: skip
PAGES = {  # screenshot name -> (URL path, title)
    "leaderboard": ("", "Leaderboard"),
    "variant": ("variant", "Variant"),
    "gains": ("gains", "Gains"),
    "across": ("across", "Across datasets"),
    "studies": ("studies", "Studies"),
}
WAIT_S = 60
VEGA_CHART = '[data-testid="stVegaLiteChart"]'


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_healthy(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"suite dashboard exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                if reply.read().strip() == b"ok":
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    pytest.fail(f"suite dashboard did not answer on {url} within {WAIT_S} s:\n{log.read_text()}")


def _choose_variant(driver, label: str) -> None:
    """Pick ``label`` in the Variant page's selectbox, typing it as a user would (the page then shows what only
    that variant has, which the caller waits for)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    select = '[data-testid="stMain"] [data-testid="stSelectbox"] input'
    WebDriverWait(driver, WAIT_S).until(lambda d: d.find_elements(By.CSS_SELECTOR, select))
    box = driver.find_element(By.CSS_SELECTOR, select)
    box.click()
    box.send_keys(label)
    box.send_keys(Keys.ENTER)


def _save(driver, tmp_path: Path, name: str) -> Path:
    shot = tmp_path / f"dashboard-{name}.png"
    driver.save_screenshot(str(shot))
    if os.environ.get("SUITE_SCREENSHOT_DIR"):
        target = Path(os.environ["SUITE_SCREENSHOT_DIR"])
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, target / shot.name)
    return shot


@pytest.mark.slow
def test_dashboard_renders_the_grid_in_chromium(tmp_path):
    if CHROMIUM is None:
        pytest.skip("no Chromium binary found (apt-get install chromium chromium-driver)")
    assert CHROMEDRIVER, "chromium is installed but chromedriver is not (apt-get install chromium-driver)"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    store = synthetic_grid_store(tmp_path / "suite.db")
    across_store(store, tuple(task for task in ACROSS_TASKS if task[0] not in GRIDS))  # SE and ECA on 5 datasets
    planted = noisy({key("unet+se@dec1"): 0.03, key("unet+se@enc1:residual"): -0.03}, seed=1)
    sweep = write_study(store, sweep_request(), planted).study  # the Studies page draws its heatmap
    comparisons = compare(read_runs(store, status=None))  # failed runs included, as every view reads them
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    with log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "suite", "dashboard", "--store", str(store), "--port", str(port)],
            cwd=tmp_path, env=env, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        _wait_until_healthy(url, server, log)
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}"):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        try:
            driver.get(url)
            verdicts = [c.verdict for c in comparisons]
            badges = [f"{verdict}: {verdicts.count(verdict)}" for verdict in set(verdicts)]
            WebDriverWait(driver, WAIT_S).until(
                lambda d: all(b in d.find_element(By.TAG_NAME, "body").text for b in badges)
                and all(c.variant in d.page_source for c in comparisons)
                and "inconclusive (refused)" in d.page_source  # the failed run's comparison, worded as the CLI does
            )
            for name, (path, title) in PAGES.items():
                if path:
                    driver.get(f"{url}/{path}")
                WebDriverWait(driver, WAIT_S).until(
                    lambda d, title=title: d.find_elements(By.TAG_NAME, "h1")
                    and d.find_element(By.TAG_NAME, "h1").text == title
                )
                if name == "variant":  # a U-Net variant on shapes: per-image values and a test split
                    _choose_variant(driver, key("unet+se") + "  ·  shapes")
                    WebDriverWait(driver, WAIT_S).until(
                        lambda d: len(d.find_elements(By.CSS_SELECTOR, VEGA_CHART)) >= 5  # per fold, image x 2, curves x 2
                        and "validation images under the baseline and the variant" in d.find_element(By.TAG_NAME, "body").text
                        and TEST_TITLE in d.find_element(By.TAG_NAME, "body").text
                    )
                    heading = next(h for h in driver.find_elements(By.TAG_NAME, "h3") if h.text == "Per image")
                    driver.execute_script("arguments[0].scrollIntoView();", heading)
                    per_image = driver.find_elements(By.CSS_SELECTOR, VEGA_CHART)[1:3]
                    assert all(chart.size["height"] > 200 and chart.size["width"] > 200 for chart in per_image)
                    time.sleep(1.0)
                    assert _save(driver, tmp_path, "variant-per-image").stat().st_size > 10_000
                    driver.execute_script("arguments[0].scrollIntoView();", driver.find_element(By.TAG_NAME, "h1"))
                if name == "across":  # autorank's critical-difference diagram, drawn by matplotlib
                    WebDriverWait(driver, WAIT_S).until(
                        lambda d: d.find_elements(By.CSS_SELECTOR, '[data-testid="stImage"] img')
                        and "Critical-difference diagram" in d.find_element(By.TAG_NAME, "body").text
                    )
                if name == "studies":  # the sweep's heatmap, drawn by Vega-Lite, and its one-line summary
                    WebDriverWait(driver, WAIT_S).until(
                        lambda d: d.find_elements(By.CSS_SELECTOR, '[data-testid="stVegaLiteChart"] canvas, '
                                                  '[data-testid="stVegaLiteChart"] svg')
                        and "Position sweep · shapes · dice" in d.find_element(By.TAG_NAME, "body").text
                        and f"sweep {sweep.name}" in d.find_element(By.TAG_NAME, "body").text
                        and "se: best point " in d.find_element(By.TAG_NAME, "body").text
                    )
                time.sleep(1.0)  # let the charts draw before the screenshot
                assert not driver.find_elements(By.CSS_SELECTOR, '[data-testid="stException"]'), name
                navigation = driver.find_elements(By.CSS_SELECTOR, '[data-testid="stSidebarNavLink"]')
                assert [link.text for link in navigation] == [title for _, title in PAGES.values()]  # the router ran
                assert _save(driver, tmp_path, name).stat().st_size > 10_000  # a blank page is a few KB
        finally:
            driver.quit()
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
