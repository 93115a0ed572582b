"""The model card in a real browser (Debian's headless Chromium): it renders to a page a person can read, holds the
card's headings and values, and loads nothing: no request leaves the machine.

Chromium runs with every proxied request sent to a local TCP listener the test starts (`--proxy-server`, and
`--proxy-bypass-list=<-loopback>` so that not even loopback is fetched directly); the listener answers 502 and
records each request's first line. The card must cause no request at all; a control page with one
`<img src="http://example.invalid/...">` must, or the check could not fail.

Chromium 156 makes requests of its own at start-up, whatever the page, even with --disable-background-networking
and --disable-component-update: an on-demand component check (update.googleapis.com, the "Optimization Guide On
Device Models Manifest"), the cookie jar's ListAccounts (accounts.google.com) and, unless the feature is disabled
as below, network time (clients2.google.com). No switch turns off the first two. The listener keeps them too
(they stop at it: nothing leaves the machine), and they are told apart from the page's requests in two ways that
must agree: by their hosts, and by Chromium's own net log, which records for every request whether the page
(its file:// site) asked for it, whatever the host.

Chromium is not a Python package: `make tools` installs the Debian package, and a missing chromium is a failure
naming it, never a skip (CI runs `make tools` first).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Iterator

from PIL import Image
from test_model_card import (
    HOSTILE,
    classification_metadata,
    classification_record,
    classification_spec,
    events,
)

from components.lib.model_card import render_card
from support.debian_tools import debian_binary

CHROMIUM_PACKAGE = "chromium"  # Debian's package (make tools installs it)
SCREENSHOT_ENV = "LOOPLINE_CARD_SCREENSHOT"
WINDOW = (1280, 3000)
# Chromium's own start-up requests (see the module docstring), by host; the net log confirms each is not the page's.
CHROMIUM_OWN_HOSTS = {"update.googleapis.com", "accounts.google.com", "clients2.google.com"}
HEADLESS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-features=NetworkTimeServiceQuerying", "--force-color-profile=srgb"]


def chromium() -> str:
    """The chromium binary (a failure naming its Debian package when it is missing)."""
    return debian_binary("chromium", CHROMIUM_PACKAGE)


@dataclass
class Listener:
    """A local TCP listener standing for the whole network: records each request's first line, answers 502."""

    sock: socket.socket
    requests: list[str] = field(default_factory=list)
    answers: list[threading.Thread] = field(default_factory=list)

    @property
    def port(self) -> int:
        return self.sock.getsockname()[1]

    def serve(self, stop: threading.Event) -> None:
        self.sock.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            answer = threading.Thread(target=self._answer, args=(conn,), daemon=True)
            answer.start()
            self.answers.append(answer)

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            data, why = b"", "closed by the client"
            try:
                while b"\r\n\r\n" not in data and len(data) < 65536:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            except OSError as err:
                why = type(err).__name__
            # Recorded before the answer, so that it is in the list by the time chromium has its 502 and exits.
            self.requests.append(data.split(b"\r\n", 1)[0].decode("latin-1") or f"(no request: {why})")
            if data:
                try:
                    conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                except OSError:
                    pass

    def page_requests(self) -> list[str]:
        """The requests that are not Chromium's own start-up ones."""
        return [r for r in self.requests if _host(r) not in CHROMIUM_OWN_HOSTS]


def _host(request_line: str) -> str:
    """The host a proxy request names: `CONNECT host:443 HTTP/1.1` or `GET http://host/path HTTP/1.1`."""
    parts = request_line.split(" ")
    if len(parts) < 2:
        return ""
    authority = parts[1].split("://", 1)[-1].split("/", 1)[0]
    return authority.rsplit(":", 1)[0] if ":" in authority else authority


@contextmanager
def listening() -> Iterator[Listener]:
    """A fresh listener on a free loopback port, for one page."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    found, stop = Listener(sock), threading.Event()
    thread = threading.Thread(target=found.serve, args=(stop,), daemon=True)
    thread.start()
    try:
        yield found
    finally:
        stop.set()
        thread.join(timeout=10)
        for answer in found.answers:
            answer.join(timeout=10)
        sock.close()


@dataclass(frozen=True)
class Rendered:
    """What one headless Chromium run made of a page."""

    dom: str
    screenshot: Path
    page_urls: list[str]  # from the net log: every request the page's file:// site made, whatever the host
    own_urls: list[str]  # from the net log: Chromium's own


def _net_log(path: Path) -> tuple[list[str], list[str]]:
    """The URLs of a Chromium net log's requests: (the page's, Chromium's own)."""
    log = json.loads(path.read_text())
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    page, own = [], []
    for event in log["events"]:
        params = event.get("params") or {}
        if event["type"] != start or "url" not in params:
            continue
        by_page = "file://" in params.get("network_isolation_key", "") or params.get("initiator") in ("null",
                                                                                                        "file://")
        (page if by_page else own).append(params["url"])
    return page, own


def render(page: Path, folder: Path, listener: Listener) -> Rendered:
    """Chromium's DOM of `page` (file://) and a screenshot, every request proxied to `listener`."""
    binary = chromium()
    screenshot = folder / "screenshot.png"
    dom = ""
    page_urls: list[str] = []
    own_urls: list[str] = []
    for name, mode in (("dom", ["--dump-dom"]), ("shot", [f"--screenshot={screenshot}",
                                                          f"--window-size={WINDOW[0]},{WINDOW[1]}"])):
        profile = folder / f"profile-{name}"
        profile.mkdir()  # a new, empty profile for each run
        net_log = folder / f"net-log-{name}.json"
        began = time.monotonic()
        proc = subprocess.run([binary, *HEADLESS, f"--user-data-dir={profile}",
                               f"--proxy-server=http://127.0.0.1:{listener.port}", "--proxy-bypass-list=<-loopback>",
                               f"--log-net-log={net_log}", *mode, page.as_uri()],
                              capture_output=True, text=True, timeout=180)
        print(f"chromium {name}: {time.monotonic() - began:.1f} s")
        assert proc.returncode == 0, f"chromium exited {proc.returncode}: {proc.stderr[-3000:]}"
        if name == "dom":
            dom = proc.stdout
        found_page, found_own = _net_log(net_log)
        page_urls += found_page
        own_urls += found_own
    assert screenshot.is_file(), f"chromium wrote no screenshot at {screenshot}"
    return Rendered(dom, screenshot, page_urls, own_urls)


class _Text(HTMLParser):
    """A DOM's visible text, and its elements by tag."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.tags: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self._skip += tag in ("style", "title")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("style", "title")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.text.append(data)


def dom_text(dom: str) -> tuple[str, list[str]]:
    parser = _Text()
    parser.feed(dom)
    return " ".join(" ".join(parser.text).split()), parser.tags


def test_the_card_renders_offline_in_chromium(tmp_path: Path) -> None:
    # The control: a page that loads an image from the network is seen doing it, by the listener and the net log.
    control = tmp_path / "control"
    control.mkdir()
    (control / "control.html").write_text('<!DOCTYPE html><html><body><p>control</p>'
                                          '<img src="http://example.invalid/x.png"></body></html>')
    with listening() as listener:
        seen = render(control / "control.html", control, listener)
    assert any(_host(r) == "example.invalid" for r in listener.page_requests()), listener.requests
    assert seen.page_urls and all("example.invalid" in url for url in seen.page_urls), seen.page_urls

    # The card's own Content-Security-Policy would refuse any load; without it, its content must still load nothing.
    card = render_card(classification_record(), classification_spec(), classification_metadata(), events())
    bare = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", card.html)
    assert bare != card.html
    (tmp_path / "bare").mkdir()
    (tmp_path / "bare" / "model-card.html").write_text(bare)
    with listening() as listener:
        unguarded = render(tmp_path / "bare" / "model-card.html", tmp_path / "bare", listener)
    assert listener.page_requests() == [] and unguarded.page_urls == [], (listener.requests, unguarded.page_urls)

    page = tmp_path / "model-card.html"
    page.write_text(card.html)
    with listening() as listener:
        shown = render(page, tmp_path, listener)
    print(f"model card screenshot: {shown.screenshot}")
    if os.environ.get(SCREENSHOT_ENV):
        shutil.copyfile(shown.screenshot, os.environ[SCREENSHOT_ENV])
        print(f"copied to {os.environ[SCREENSHOT_ENV]}")

    # No request left the page: none reached the listener, and the net log has none from the page's site.
    assert listener.page_requests() == [], f"the card made requests: {listener.page_requests()}"
    assert shown.page_urls == []
    own_hosts = {_host(f"GET {url} HTTP/1.1") for url in shown.own_urls}
    assert own_hosts <= CHROMIUM_OWN_HOSTS, f"chromium made requests of its own not known here: {shown.own_urls}"
    print(f"chromium's own start-up requests, stopped at the listener: {listener.requests}")

    text, tags = dom_text(shown.dom)
    for heading in ("Model card: penguins v3", "1. The model", "2. Data", "3. Evaluation", "4. Explanations",
                    "5. Environment", "6. Intended use and limitations", "7. Lifecycle so far",
                    "Confusion matrix", "Per class", "Metrics per slice", "Compared with production",
                    "Monitoring windows"):
        assert heading in text, heading
    for value in ("0.9516", "production v2", "+0.0484", "gs://penguins-raw/2026-12/penguins.csv",
                  "sha256:c4547bf7", "ghcr.io/loopline/loopline-serving:0.1.0", "ada@example.com",
                  "mean absolute integrated-gradients attribution", "Not for penguins of other islands or species."):
        assert value in text, value
    assert HOSTILE in text and "b" not in tags  # the column named like markup is text, not an element
    assert "script" not in tags and "img" not in tags and tags.count("svg") == 3  # one bar per feature

    with Image.open(shown.screenshot) as image:
        assert image.size == WINDOW
        colours = image.convert("RGB").getcolors(maxcolors=WINDOW[0] * WINDOW[1])
    assert colours is not None
    most = max(count for count, _ in colours)
    assert len(colours) >= 64 and most < 0.9 * WINDOW[0] * WINDOW[1], (len(colours), most)  # text, not a flat page
    assert any(rgb == (0x1F, 0x4E, 0x79) for _, rgb in colours)  # the heading rule's blue: the CSS applied
