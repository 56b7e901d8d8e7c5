"""The pages in a real browser: headless Chromium from the OS packages (/usr/bin/chromium), driven by Playwright,
against `python main.py` on a free port with a worker and some traffic.

Skipped when Chromium or Playwright is missing, unless HORDEBOT_TEST_BROWSER=required (CI), where that fails.
HORDEBOT_SCREENSHOTS=DIR also saves the screenshots shown in the README (docs/*.png).
The tests share one server and run in file order; the wrong-key test blocks logins from 127.0.0.1, so it is last.
"""

from __future__ import annotations

import base64
import io
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
REQUIRED = os.environ.get("HORDEBOT_TEST_BROWSER") == "required"
MAIN = Path(__file__).resolve().parents[2] / "main.py"
SCRIPT_PROMPT = "<script>alert('pwned')</script> a lighthouse at dusk"
BLOCKED_PROMPT = "naked child on a beach"  # the prompt filter's own test phrase: refused, a strike


def _browser_available() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (apt-get install chromium chromium-driver)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing (pip install -e '.[dev]')"
    return None


_missing = _browser_available()
if _missing and REQUIRED:
    raise RuntimeError(f"HORDEBOT_TEST_BROWSER=required but {_missing}")
pytestmark = pytest.mark.skipif(_missing is not None, reason=_missing or "")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Horde:
    """`python main.py` in a temp dir, its users' keys, and small HTTP helpers for the API."""

    def __init__(self, tmp: Path) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.upper().startswith("HORDE_")}
        self.env.update({"HORDE_API__HOST": "127.0.0.1", "HORDE_API__PORT": str(self.port),
                         "HORDE_CORE__DATA_DIR": str(tmp / "data"), "HORDE_CORE__SWEEP_INTERVAL": "1",
                         "HORDE_WEB__ADMINS": '["boss"]', "HORDE_WEB__STATUS_TTL": "0.5",
                         "HORDE_WEB__GALLERY": "true", "PYTHONDONTWRITEBYTECODE": "1"})
        self.tmp = tmp
        self.keys: dict[str, str] = {}
        self.proc: subprocess.Popen[bytes] | None = None

    def user(self, name: str, kudos: int = 0) -> str:
        out = subprocess.run([sys.executable, str(MAIN), "user", "create", name, "--kudos", str(kudos)],
                             env=self.env, cwd=self.tmp, capture_output=True, text=True, timeout=120, check=True)
        self.keys[name] = out.stdout.strip().splitlines()[-1]
        return self.keys[name]

    def start(self) -> None:
        self.log = open(self.tmp / "horde.log", "wb")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen([sys.executable, str(MAIN)], env=self.env, cwd=self.tmp,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                self.api("GET", "/api/v2/status/heartbeat")
                return
            except OSError:
                assert self.proc.poll() is None, (self.tmp / "horde.log").read_text()
                time.sleep(0.2)
        raise RuntimeError("the horde did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
            self.log.close()

    def api(self, method: str, path: str, body: dict[str, Any] | None = None, key: str = "") -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.base}{path}", data=data, method=method,
                                         headers={"Content-Type": "application/json", "apikey": key,
                                                  "Client-Agent": "browser-test:1:tests"})
        try:
            with urllib.request.urlopen(request, timeout=30) as r:
                return json.loads(r.read() or b"null")
        except urllib.error.HTTPError as exc:
            return json.loads(exc.read() or b"null")


def _webp() -> str:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 64), (40, 110, 200)).save(out, format="WEBP")
    return base64.b64encode(out.getvalue()).decode()


@pytest.fixture(scope="module")
def horde(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Horde]:
    h = Horde(tmp_path_factory.mktemp("browser"))
    for name, kudos in (("boss", 0), ("gpu-owner", 0), ("member", 500)):
        h.user(name, kudos)
    h.start()
    try:
        worker = {"name": "gpu-browser", "models": ["stable_diffusion"], "threads": 2, "bridge_agent": "t:1:x"}
        h.api("POST", "/api/v2/generate/pop", worker, h.keys["gpu-owner"])  # the worker joins
        for prompt in ("a red fox in snow", SCRIPT_PROMPT):
            made = h.api("POST", "/api/v2/generate/async", {"prompt": prompt, "models": ["stable_diffusion"],
                                                            "shared": True, "params": {"n": 2}}, h.keys["member"])
            assert made.get("id"), made
        job = h.api("POST", "/api/v2/generate/pop", worker, h.keys["gpu-owner"])
        done = h.api("POST", "/api/v2/generate/submit", {"id": job["id"], "generation": _webp(), "seed": "1"},
                     h.keys["gpu-owner"])
        assert "reward" in done, done
        refused = h.api("POST", "/api/v2/generate/async", {"prompt": BLOCKED_PROMPT, "replacement_filter": False,
                                                           "proxied_account": "discord:4242:77"}, h.keys["member"])
        assert refused["rc"] == "CorruptPrompt", refused
        h.worker_id = h.api("GET", "/api/v2/workers/name/gpu-browser")["id"]
        yield h
    finally:
        h.stop()


@pytest.fixture(scope="module")
def browser(horde: Horde) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    tab = context.new_page()
    tab.dialogs = []  # an alert() here would mean injected script ran
    tab.on("dialog", lambda d: (tab.dialogs.append(d.message), d.dismiss()))
    try:
        yield tab
    finally:
        context.close()


def _shot(page: Any, name: str, **kwargs: Any) -> None:
    folder = os.environ.get("HORDEBOT_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), **kwargs)


def _login(page: Any, horde: Horde, name: str) -> None:
    page.goto(f"{horde.base}/login")
    page.fill("input[name=apikey]", horde.keys[name])
    page.click("button[type=submit]")
    page.wait_for_url(f"{horde.base}/me?done=login")
    assert horde.keys[name] not in page.url


def test_status_page_shows_the_worker_the_queue_and_charts(page: Any, horde: Horde) -> None:
    deadline = time.monotonic() + 20
    while True:  # the sweep writes the minute counters every second; the board is rebuilt every 0.5 s
        page.goto(f"{horde.base}/")
        image = page.locator("#kind-image")
        if image.locator(".workers").inner_text() == "1" and page.locator("svg.chart polyline").count() >= 6:
            break
        assert time.monotonic() < deadline, page.content()
        time.sleep(0.5)
    assert image.locator(".queue").inner_text().startswith("3 requests")  # 4 jobs asked, 1 done
    assert "stable_diffusion" in page.locator("table").first.inner_text()
    box = page.locator("svg.chart").first.bounding_box()
    assert box and box["width"] > 200 and box["height"] > 50
    assert page.evaluate("document.scripts.length") == 0
    _shot(page, "status")


def test_models_workers_and_phone_width(page: Any, horde: Horde) -> None:
    page.goto(f"{horde.base}/workers?sort=name&order=asc")
    assert "gpu-browser" in page.locator("table.workers").inner_text()
    _shot(page, "workers")
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(f"{horde.base}/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400  # nothing wider than the phone; wide tables scroll in their own box
    page.emulate_media(color_scheme="dark")
    page.goto(f"{horde.base}/")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(20, 22, 24)"
    _shot(page, "status-phone-dark")


def test_a_prompt_with_a_script_is_shown_escaped(page: Any, horde: Horde) -> None:
    _login(page, horde, "member")
    requests = page.locator("#requests").inner_text()
    assert SCRIPT_PROMPT in requests  # shown as text ...
    assert page.evaluate("document.scripts.length") == 0  # ... never run
    assert page.dialogs == []
    assert "starting balance" in page.locator("table.ledger").inner_text()


def test_login_ledger_and_maintenance_switch(page: Any, horde: Horde) -> None:
    _login(page, horde, "gpu-owner")
    ledger = page.locator("table.ledger").inner_text()
    assert "generation" in ledger  # the submitted job's reward
    row = page.locator("#workers tr", has_text="gpu-browser")
    row.locator("button", has_text="Maintenance").click()
    page.wait_for_url("**/me?done=maintenance*")
    assert "maintenance" in page.locator("#workers tr", has_text="gpu-browser").inner_text()
    assert horde.api("GET", f"/api/v2/workers/{horde.worker_id}")["maintenance_mode"] is True
    page.goto(f"{horde.base}/me")
    _shot(page, "account")
    page.locator("#workers tr", has_text="gpu-browser").locator("button", has_text="End maintenance").click()
    page.wait_for_url("**/me?done=maintenance*")
    assert horde.api("GET", f"/api/v2/workers/{horde.worker_id}")["maintenance_mode"] is False


def test_a_member_cannot_open_moderation_pages(page: Any, horde: Horde) -> None:
    _login(page, horde, "member")
    for path in ("/mod", "/mod/abuse", "/mod/workers", "/mod/filter"):
        response = page.goto(f"{horde.base}{path}")
        assert response.status == 403
        assert "moderators" in page.inner_text("main")


def test_a_moderator_lifts_a_sanction(page: Any, horde: Horde) -> None:
    _login(page, horde, "boss")
    page.goto(f"{horde.base}/mod/abuse")
    row = page.locator("table.penalties tr", has_text="member:discord:4242:77")
    assert "timeout" in row.inner_text()
    assert BLOCKED_PROMPT in page.locator("table.log").inner_text()
    _shot(page, "moderation")
    row.locator("button", has_text="Lift").click()
    page.wait_for_url("**/mod/abuse?done=lift")
    assert page.locator("table.penalties tr", has_text="member:discord:4242:77").count() == 0
    assert "lift" in page.locator("table.log").inner_text()
    again = horde.api("POST", "/api/v2/generate/async", {"prompt": "a calm sea", "proxied_account": "discord:4242:77"},
                      horde.keys["member"])
    assert again.get("id"), again  # the member may ask again


def test_ten_wrong_keys_are_rate_limited(page: Any, horde: Horde) -> None:
    for attempt in range(11):
        page.goto(f"{horde.base}/login")
        page.fill("input[name=apikey]", f"wrong-key-{attempt:04d}")
        page.click("button[type=submit]")
        message = page.locator(".error").inner_text()
        if attempt < 10:
            assert "No user has this API key" in message
    assert "Too many wrong API keys" in message
    page.goto(f"{horde.base}/login")
    page.fill("input[name=apikey]", horde.keys["member"])
    page.click("button[type=submit]")
    assert "Too many wrong API keys" in page.locator(".error").inner_text()


def test_no_errors_in_the_server_log(horde: Horde) -> None:
    text = (horde.tmp / "horde.log").read_text()
    assert " ERROR " not in text and "Traceback" not in text, text[-3000:]

