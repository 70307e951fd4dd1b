"""The lab's page end to end in a real headless Chromium (Debian's chromium, driven by Playwright).

The server runs inside the test on 127.0.0.1 and a free port. Every test fails on
a console error or on any request that leaves the page's own origin. Set
GDLAB_SHOTS=folder to keep the screenshots (1280x720 and 1920x1080).
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import os
import re
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
pytest.importorskip("fastapi")

import browsing  # noqa: E402
from gdlab.web._widget import bundle  # noqa: E402

base, browser = browsing.base, browsing.browser  # the shared fixtures

PAGE = '<!doctype html><meta charset="utf-8"><div id="cell"></div>\n<script type="module">{fake}</script>'
LECTURE = "?e=(b%2F2-1)%5E2&s=b:-10&r=0.5,2&n=60&t=1e-8&lang=en"
PHASE = "?e=(b%2F2-1)%5E2&s=b:-10&r=0.5,2&n=200&t=1e-8&lang=en"


class Watched(browsing.Watched):
    """The lab's page, watched (see :class:`browsing.Watched`)."""

    def open(self, query: str = LECTURE, *, wait: bool = True):
        self.page.goto(self.base + "/" + query)
        if wait:
            self.wait_for_runs()
        return self.page

    def wait_for_runs(self, count: int | None = None):
        rows = self.page.locator('[data-testid="runs"] tbody tr')
        rows.first.wait_for(timeout=30_000)
        if count is not None:
            expect(rows).to_have_count(count, timeout=30_000)


@pytest.fixture(scope="module")
def contexts(browser):
    """Browser contexts by window size and language, shared so that plotly.js is fetched once."""
    made: dict[tuple[tuple[int, int], str], object] = {}

    def get(size: tuple[int, int], locale: str):
        if (size, locale) not in made:
            made[size, locale] = browser.new_context(
                viewport={"width": size[0], "height": size[1]}, locale=locale, accept_downloads=True
            )
        return made[size, locale]

    yield get
    for context in made.values():
        context.close()


@pytest.fixture
def watched(contexts, base):
    opened: list[Watched] = []

    def make(size=(1280, 720), locale="en-US"):
        opened.append(Watched(contexts(size, locale), base))
        return opened[-1]

    yield make
    for w in opened:
        w.close()


def shots_folder(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("GDLAB_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def status_of(page, lr: str) -> str:
    row = page.locator('[data-testid="runs"] tbody tr', has=page.locator(f"td:text-is('{lr}')"))
    return row.locator(".lab-status").inner_text()


def test_a_loss_typed_with_new_names_is_drawn_without_a_refusal(watched):
    """The first picture and a typed loss each come from one request (/api/descent), which reads the
    start for the loss as typed: a rate changed before the parse answers is not refused for the old
    parameter name (that was a 422 shown, then gone, above the picture)."""
    w = watched()
    asked: list[str] = []
    w.page.on("request", lambda r: asked.append(urlsplit(r.url).path) if "/api/" in r.url else None)
    page = w.open()
    assert asked.count("/api/descent") == 1 and "/api/run" not in asked and "/api/landscape" not in asked
    page.get_by_test_id("expression").fill("(x-1)^2")
    page.get_by_test_id("rates").fill("0.1, 0.5")
    page.get_by_test_id("rates").blur()  # sent before the parse of the new loss has answered
    expect(page.get_by_test_id("start-x")).to_have_value("-1", timeout=30_000)
    w.wait_for_runs(2)
    expect(page.get_by_test_id("runs").locator("tbody tr").first).to_contain_text("0.1")
    assert page.get_by_test_id("error").is_hidden()
    assert page.locator('[data-testid="plot"] .main-svg').count() > 0
    assert "/api/run" not in asked  # and w.errors holds no refused request: close() checks


def test_typing_shows_the_check_and_keeps_the_picture(watched):
    w = watched()
    page = w.open()
    box = page.get_by_test_id("expression")
    box.fill("sqr(b) + 1")
    check = page.get_by_test_id("check")
    expect(page.get_by_test_id("check")).to_have_class(re.compile("bad"))
    assert "did you mean sqrt" in check.inner_text()
    assert check.inner_text().rstrip().endswith("^^^")
    assert page.locator('[data-testid="plot"] .main-svg').count() > 0  # the last valid picture stays
    box.fill("(b/2-1)^2 + b")
    expect(page.get_by_test_id("check")).to_have_class(re.compile("good"))
    formulas = page.get_by_test_id("derivative").locator(".lab-formula")
    assert formulas.nth(1).get_attribute("data-plain") == "∂L/∂b = b/2"
    assert formulas.nth(1).locator("math").count() == 1  # typeset by the KaTeX served with the page
    # The browser logs the refused check (HTTP 422) as a failed load; that one was expected.
    w.errors = [e for e in w.errors if "status of 422" not in e]


def test_a_refused_loss_keeps_the_banner_and_the_derivatives_of_the_loss_drawn(watched):
    """A loss refused at the start and then one refused as text: the banner stays up, saying so,
    and the derivatives beside the picture are those of the loss it draws, never the refused one's."""
    w = watched()
    page = w.open()
    box, error = page.get_by_test_id("expression"), page.get_by_test_id("error")
    plain = page.get_by_test_id("derivative").locator(".lab-formula").first
    box.fill("exp(exp(exp(b)))")
    expect(plain).to_have_attribute("data-plain", "L = exp(exp(exp(b)))", timeout=30_000)
    expect(page.get_by_test_id("note")).not_to_have_class(re.compile("busy"), timeout=30_000)
    box.fill("b^1000000")
    expect(error).to_contain_text("not finite at the start", timeout=30_000)
    expect(error).to_contain_text("The picture shows the last run")
    expect(page.get_by_test_id("check")).to_contain_text("b**1000000")  # its parse is in
    expect(plain).to_have_attribute("data-plain", "L = exp(exp(exp(b)))")
    box.fill("__import__('os')")
    expect(error).to_contain_text("Loss: the character", timeout=30_000)
    expect(error).to_contain_text("The picture shows the last run")
    assert "\n" not in error.inner_text()  # the caret lines are under the loss, not in the banner
    expect(page.get_by_test_id("check")).to_contain_text("^")
    expect(plain).to_have_attribute("data-plain", "L = exp(exp(exp(b)))")
    assert page.get_by_test_id("params").inner_text() == "Parameters: b"
    box.fill("")
    expect(error).to_contain_text("Loss: is empty")
    box.fill("exp(b)")
    expect(error).to_be_hidden(timeout=30_000)
    expect(plain).to_have_attribute("data-plain", "L = exp(b)", timeout=30_000)
    w.errors = [e for e in w.errors if "status of 422" not in e]


def test_the_browser_language_is_the_default(watched):
    w = watched(locale="ko-KR")
    page = w.open("")
    assert page.locator("h1").inner_text() == "gdlab 실험실"


def test_a_shared_link_reproduces_the_state(watched):
    w = watched()
    page = w.open()
    page.get_by_test_id("preset").select_option("valley")
    expect(page.get_by_test_id("start-y")).to_have_value("1.5")
    page.get_by_test_id("rates").fill("0.01, 0.041")
    page.get_by_test_id("rates").blur()
    page.get_by_test_id("method").select_option("momentum")
    page.get_by_test_id("hyper-momentum").fill("0.5")
    page.get_by_test_id("hyper-momentum").blur()
    expect(page).to_have_url(re.compile("h=momentum%3A0.5"))
    page.wait_for_timeout(400)  # the run after the last change starts 250 ms after it
    w.wait_for_runs(2)
    expect(page.get_by_test_id("note")).not_to_have_class(re.compile("busy"), timeout=30_000)
    messages = page.locator(".lab-message").all_inner_texts()
    other = watched().open("?" + urlsplit(page.url).query)
    expect(other.locator(".lab-message")).to_have_count(2)
    assert other.get_by_test_id("expression").input_value() == "x^2 + 25*y^2"
    assert other.get_by_test_id("start-x").input_value() == "-9"
    assert other.get_by_test_id("rates").input_value() == "0.01, 0.041"
    assert other.get_by_test_id("method").input_value() == "momentum"
    assert other.get_by_test_id("hyper-momentum").input_value() == "0.5"
    assert other.locator(".lab-message").all_inner_texts() == messages


def test_a_lesson_on_one_page(watched, tmp_path):
    """What a teacher does in one sitting; one page, so that plotly.js loads once."""
    w = watched()
    page = w.open(LECTURE + "&x=0.25")
    counter = page.get_by_test_id("counter")

    # The point moves while playing: two screenshots differ.
    page.get_by_test_id("scrub").fill("0")
    page.get_by_test_id("play").click()
    page.wait_for_timeout(400)
    first, step_a = page.get_by_test_id("plot").screenshot(), counter.inner_text()
    page.wait_for_timeout(900)
    second, step_b = page.get_by_test_id("plot").screenshot(), counter.inner_text()
    assert first != second and step_a != step_b
    (shots_folder(tmp_path) / "moving-1.png").write_bytes(first)
    (shots_folder(tmp_path) / "moving-2.png").write_bytes(second)

    # The keyboard: space plays and pauses, the arrows step.
    page.locator("h1").click()
    page.keyboard.press(" ")
    expect(page.get_by_test_id("play")).to_have_text("Play")
    page.get_by_test_id("scrub").fill("0")
    page.locator("h1").click()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(counter).to_contain_text("step 2 /")
    page.keyboard.press("ArrowLeft")
    expect(counter).to_contain_text("step 1 /")
    page.keyboard.press(" ")
    expect(page.get_by_test_id("play")).to_have_text("Pause")
    page.keyboard.press(" ")
    expect(page.get_by_test_id("play")).to_have_text("Play")

    # A rate past 2/L = 4 is reported diverged, in words.
    page.get_by_test_id("rates").fill("0.5, 2, 5")
    page.get_by_test_id("rates").blur()
    w.wait_for_runs(3)
    assert status_of(page, "5") == "diverged" and status_of(page, "2") == "converged"
    message = page.locator('[data-testid="runs"] tbody tr').nth(2).locator(".lab-message").inner_text()
    assert "lower the rate 5" in message

    # The CSV download holds every step of the chosen run.
    with page.expect_download() as info:
        page.get_by_test_id("download-csv").click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    rows = list(csv.reader(io.StringIO(target.read_text())))
    assert info.value.suggested_filename == "gdlab-lr0.5.csv"
    assert rows[0] == ["step", "b", "loss", "grad b"] and rows[1] == ["0", "-10", "36", "-6"]
    assert len(rows) == 1 + 61  # the start and 60 steps (the step limit)

    # Clicking the picture sets the start (right of the middle of a window around -10 .. 14).
    box = page.get_by_test_id("plot").locator(".nsewdrag").first.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.8, box["y"] + box["height"] / 2)
    expect(page).to_have_url(re.compile(f"s=b%3A{page.get_by_test_id('start-b').input_value()}&"))
    clicked = float(page.get_by_test_id("start-b").input_value())
    assert clicked > 0
    # the click's runs are back (a picture redrawn under a pressed button would end the drag)
    expect(page.get_by_test_id("note")).not_to_have_class(re.compile("busy"), timeout=30_000)

    # Dragging moves it along, and the runs follow from where it is let go.
    page.mouse.move(box["x"] + box["width"] * 0.8, box["y"] + box["height"] / 2)
    page.mouse.down()
    # in the window the click's runs set: near the click's value, not equal (the window moved)
    pressed = float(page.get_by_test_id("start-b").input_value())
    for share in (0.6, 0.45, 0.3):
        page.mouse.move(box["x"] + box["width"] * share, box["y"] + box["height"] / 2)
    page.mouse.up()
    dragged = page.get_by_test_id("start-b")
    expect(page).to_have_url(re.compile(f"s=b%3A{dragged.input_value()}&"))
    assert float(dragged.input_value()) < pressed
    w.wait_for_runs(3)

    # Large type for a projector.
    page.get_by_test_id("big").check()
    expect(page.locator(".gdlab-lab")).to_have_class(re.compile("lab-big"))
    assert "big=1" in page.url

    # Korean, with the statuses in Korean and the choice in the link.
    page.get_by_test_id("lang").select_option("ko")
    assert page.locator("h1").inner_text() == "gdlab 실험실"
    w.wait_for_runs(3)
    assert status_of(page, "5") == "발산"
    assert "lang=ko" in page.url


def test_sweep_view_and_screenshots(watched, tmp_path):
    folder = shots_folder(tmp_path)
    for size in [(1280, 720), (1920, 1080)]:
        w = watched(size=size)
        page = w.open(
            "?e=x%5E2%20%2B%2025*y%5E2&s=x:-9,y:1.5&r=0.01,0.035,0.041&n=100&t=1e-8&lang=en&lo=0.001&hi=0.1&num=30"
        )
        page.get_by_test_id("scrub").fill("40")
        page.wait_for_timeout(300)
        page.screenshot(path=str(folder / f"lab-{size[0]}x{size[1]}.png"))
        page.locator(".lab-tab[data-view=sweep]").click()
        summary = page.get_by_test_id("sweep-summary")
        expect(summary).to_contain_text("2/L", timeout=30_000)
        assert "diverged" in summary.inner_text()
        assert (
            page.locator('[data-testid="sweep-plot"] .shapelayer path').count() >= 3
        )  # bands and the 2/L line
        points = [
            p.bounding_box()
            for p in page.locator('[data-testid="sweep-plot"] .scatterlayer .points path').all()
        ]
        highest = max(
            (b for b in points if b), key=lambda b: (b["x"], -b["y"])
        )  # the largest rate, top panel
        page.mouse.move(highest["x"] + highest["width"] / 2, highest["y"] + highest["height"] / 2)
        expect(page.get_by_test_id("explain")).to_contain_text("> 2/L")
        page.screenshot(path=str(folder / f"lab-sweep-{size[0]}x{size[1]}.png"))
    assert (folder / "lab-1920x1080.png").stat().st_size > 10_000


def test_the_widget_module_runs_in_chromium(watched, base):
    """The notebook widget's single module, with a stand-in for the kernel that asks the server."""
    w = watched()
    page = w.page
    host = f"{base}/widget-test"
    fake = """
      import widget from "/widget-test/bundle.js";
      const listeners = [];
      const model = {
        state: { e: "(b/2-1)^2", s: { b: -10 }, r: [0.5, 5], n: 30, t: 1e-8, lang: "en" },
        get(k) { return this[k]; }, set(k, v) { this[k] = v; }, save_changes() {},
        on(_, f) { listeners.push(f); }, off() {},
        async send(msg) {
          const r = await fetch("/api/" + msg.name, {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify(msg.payload),
          });
          const body = await r.json();
          const reply = r.ok
            ? { id: msg.id, ok: true, result: body }
            : { id: msg.id, ok: false, status: r.status, ...body }; // as the kernel refuses
          listeners.forEach((f) => f(reply, []));
        },
      };
      widget.render({ model, el: document.getElementById("cell") });
    """
    page.route(
        f"{host}/bundle.js", lambda route: route.fulfill(body=bundle(), content_type="text/javascript")
    )
    page.route(
        f"{host}/",
        lambda route: route.fulfill(
            body=PAGE.format(fake=fake),
            content_type="text/html",
        ),
    )
    page.goto(f"{host}/")
    w.wait_for_runs(2)
    assert status_of(page, "5") == "diverged"


def overlapping(boxes: list[dict]) -> list[tuple[dict, dict]]:
    """Pairs of boxes (x, y, width, height) that overlap by more than a pixel."""
    return [
        (a, b)
        for i, a in enumerate(boxes)
        for b in boxes[i + 1 :]
        if min(a["x"] + a["width"], b["x"] + b["width"]) - max(a["x"], b["x"]) > 1
        and min(a["y"] + a["height"], b["y"] + b["height"]) - max(a["y"], b["y"]) > 1
    ]


def boxes(locator) -> list[dict]:
    return [b for b in (e.bounding_box() for e in locator.all()) if b and b["width"] and b["height"]]


def test_refusals_are_said_by_the_input_and_keep_the_picture(watched, tmp_path):
    w = watched()
    page = w.open(LECTURE.replace("n=60", "n=99999999"), wait=False)
    error = page.get_by_test_id("error")
    expect(error).to_contain_text("Not run: Steps: at most 100,000")
    expect(page.get_by_test_id("error-steps")).to_have_text("at most 100,000")
    assert error.bounding_box()["y"] + error.bounding_box()["height"] < 720  # in view at 1280x720
    assert page.get_by_test_id("steps").get_attribute("aria-invalid") is not None

    page.get_by_test_id("steps").fill("60")
    page.get_by_test_id("steps").blur()
    w.wait_for_runs(2)
    expect(error).to_be_hidden()
    expect(page.get_by_test_id("error-steps")).to_be_hidden()
    page.get_by_test_id("scrub").fill("60")  # paused at the end: the picture holds still
    drawn = "document.querySelector('[data-testid=plot]').data.map((t) => t.x.length)"
    before = page.evaluate(drawn)
    page.get_by_test_id("steps").fill("99999999")
    page.get_by_test_id("steps").blur()
    expect(error).to_contain_text("The picture shows the last run")
    page.wait_for_timeout(400)
    assert page.evaluate(drawn) == before  # the last picture stays
    expect(page.get_by_test_id("plot")).to_be_visible()
    expect(page.get_by_test_id("counter")).to_have_text("step 60 / 60")
    expect(page.locator('[data-testid="runs"] tbody tr')).to_have_count(2)
    page.screenshot(path=str(shots_folder(tmp_path) / "refused-steps-1280x720.png"))

    page.get_by_test_id("lang").select_option("ko")
    expect(page.get_by_test_id("error-steps")).to_have_text("100,000 이하여야 합니다")
    expect(page.get_by_test_id("error")).to_contain_text("실행하지 않음: 단계 수: 100,000 이하여야 합니다")

    # A refusal from the server (a sweep of 401 rates) is said by its input too, in the page's words.
    page.get_by_test_id("lang").select_option("en")
    page.get_by_test_id("steps").fill("60")
    page.get_by_test_id("steps").blur()
    w.wait_for_runs(2)
    page.locator(".lab-tab[data-view=sweep]").click()
    expect(page.get_by_test_id("sweep-summary")).to_contain_text("2/L", timeout=30_000)
    page.get_by_test_id("sweep-num").fill("401")
    page.get_by_test_id("sweep-num").blur()
    expect(page.get_by_test_id("error-num")).to_have_text("at most 400")
    expect(page.get_by_test_id("sweep-summary")).to_contain_text("2/L")  # the last sweep stays
    w.errors = [e for e in w.errors if "status of 422" not in e]


def test_a_bound_the_server_refuses_is_said_under_its_field_in_korean(watched):
    """Steps typed as arithmetic (1e6) are the server's to read; its refusal comes back as data
    (at_most, 100000), said under Steps in the page's language with the limit written 100,000."""
    w = watched(locale="ko-KR")
    page = w.open(LECTURE.replace("lang=en", "lang=ko"))
    steps = page.get_by_test_id("steps")
    with page.expect_response(lambda r: r.url.endswith("/api/descent") and r.status == 422) as answer:
        steps.fill("1e6")
        steps.blur()
    assert answer.value.json()["problems"] == [
        {"field": "steps", "text": "'1e6' must be 100000 or less", "rule": "at_most", "limit": 100000}
    ]
    expect(page.get_by_test_id("error-steps")).to_have_text("100,000 이하여야 합니다")
    expect(page.get_by_test_id("error")).to_contain_text("단계 수: 100,000 이하여야 합니다")
    assert steps.get_attribute("aria-invalid") is not None
    expect(page.get_by_test_id("error-rates")).to_be_hidden()
    page.get_by_test_id("lang").select_option("en")  # the problem is data: it follows the language
    expect(page.get_by_test_id("error-steps")).to_have_text("at most 100,000")

    # The page reads the rule and the limit, never the sentence: other words say the same.
    said = "too many (12345 at most)"
    refusal = {
        "detail": f"steps: {said}",
        "problems": [{"field": "steps", "text": said, "rule": "at_most", "limit": 12345}],
    }
    page.route(f"{w.base}/api/descent", lambda route: route.fulfill(status=422, json=refusal))
    page.get_by_test_id("lang").select_option("ko")
    steps.fill("2e5")
    steps.blur()
    expect(page.get_by_test_id("error-steps")).to_have_text("12,345 이하여야 합니다")
    w.errors = [e for e in w.errors if "status of 422" not in e]  # the refusals asked for


def test_a_loss_without_a_floor_is_drawn_on_the_scale_its_title_names(watched):
    w = watched()
    page = w.open("?e=-exp(b)&s=b:1&r=0.1,0.05&n=3&lang=en")
    page.get_by_test_id("scrub").fill("3")
    history = page.get_by_test_id("history")
    expect(history.locator(".gtitle")).to_have_text("Loss against the iteration")
    assert page.evaluate("document.querySelector('[data-testid=history]')._fullLayout.yaxis.type") == "linear"
    plot = page.get_by_test_id("plot")
    labels = boxes(plot.locator(".annotation"))
    assert len(labels) == 2
    assert not overlapping(labels + boxes(plot.locator(".legend")))
    assert not overlapping(labels)
    w.open(LECTURE)
    expect(history.locator(".gtitle")).to_have_text("Loss against the iteration (log scale)")


def test_large_korean_type_keeps_labels_apart(watched, tmp_path):
    folder = shots_folder(tmp_path)
    w = watched(locale="ko-KR")
    page = w.open(
        "?e=(1-x)%5E2%20%2B%20100*(y-x%5E2)%5E2&s=x:-1.2,y:1&r=0.0005,0.0015&n=3000&t=1e-8&lang=ko&big=1"
    )
    page.get_by_test_id("scrub").fill("240")
    page.evaluate("window.scrollTo(0, 0)")
    size = page.evaluate(
        "(() => { const f = document.querySelector('[data-testid=plot]')._fullLayout;"
        " return [f.xaxis._length, f.yaxis._length]; })()"
    )
    assert size[0] >= 500 and size[1] >= 240, size  # the contour is not squeezed beside the history
    for name in ("plot", "history"):
        ticks = page.get_by_test_id(name).locator(".ytick text, .cbaxis text, .xtick text")
        assert not overlapping(boxes(ticks)), name
    page.screenshot(path=str(folder / "lab-big-ko-1280x720.png"))

    # The sweep in large type: titles clear of tick labels, 2/L clear of its line and the points;
    # 100 rates, and every point lies in a band of its own regime.
    page.locator(".lab-tab[data-view=sweep]").click()
    page.get_by_test_id("preset").select_option("lecture")
    page.get_by_test_id("sweep-num").fill("100")
    page.get_by_test_id("sweep-num").blur()
    expect(page.get_by_test_id("sweep-summary")).to_contain_text("느림", timeout=30_000)
    sweep = page.get_by_test_id("sweep-plot")
    expect(sweep.locator(".annotation")).to_contain_text(
        "2/L = 4", timeout=30_000
    )  # the new sweep, not the last
    for title, ticks in (
        (".g-ytitle", ".ytick text"),
        (".g-y2title", ".y2tick text"),
        (".g-xtitle", ".xtick text"),
    ):
        assert not overlapping(boxes(sweep.locator(title)) + boxes(sweep.locator(ticks))), title
    critical = boxes(sweep.locator(".annotation"))
    points = boxes(sweep.locator(".scatterlayer .points path"))
    line = [b for b in boxes(sweep.locator(".shapelayer path")) if b["width"] < 6]
    assert critical and line and points
    assert not overlapping(critical + line[:1]) and not any(overlapping([*critical, p]) for p in points)
    misplaced = page.evaluate(
        """(() => {
          const gd = document.querySelector('[data-testid=sweep-plot]');
          const bands = gd.layout.shapes.filter((s) => s.type === 'rect');
          const wrong = [];
          for (const trace of gd.data) {
            trace.x.forEach((x) => {
              const band = bands.find((b) => b.x0 <= x && x <= b.x1);
              if (!band || band.fillcolor !== trace.marker.color) wrong.push([x, trace.name]);
            });
          }
          return wrong;
        })()"""
    )
    assert misplaced == []
    page.screenshot(path=str(folder / "lab-sweep-big-ko-1280x720.png"))


def test_an_answer_to_an_older_sweep_never_replaces_the_newer_one(watched):
    w = watched()
    page = w.open("?e=x%5E2%20%2B%2025*y%5E2&s=x:-9,y:1.5&r=0.01&n=100&t=1e-8&lang=en&lo=0.001&hi=0.1&num=30")
    held = []

    def hold_the_first(route):
        if held:
            route.continue_()
        else:
            held.append(route)  # the valley's sweep: answered only after the lecture's

    page.route("**/api/sweep", hold_the_first)
    page.locator(".lab-tab[data-view=sweep]").click()
    page.get_by_test_id("preset").select_option("lecture")
    annotation = page.get_by_test_id("sweep-plot").locator(".annotation")
    expect(annotation).to_contain_text("2/L = 4", timeout=30_000)
    assert len(held) == 1
    held[0].continue_()  # the older answer arrives last
    page.wait_for_timeout(1_500)
    expect(annotation).to_contain_text("2/L = 4")
    page.unroute("**/api/sweep")


def test_the_lecture_matrix_form_runs_on_the_page_with_a_vector_start(watched, tmp_path):
    """The cafe regression as (y - Xβ)ᵀ(y - Xβ): X is the data's design matrix, β a vector started
    component by component, and each run says what the library and the command line say."""
    import gdlab
    from gdlab._bind import parse_with_data

    w = watched()
    page = w.open()
    page.get_by_test_id("preset").select_option("matrix")
    expect(page.get_by_test_id("start-beta[0]")).to_have_value("9")
    expect(page.get_by_test_id("start-beta[1]")).to_have_value("2")
    w.wait_for_runs(3)
    expect(page.get_by_test_id("note")).not_to_have_class(re.compile("busy"), timeout=30_000)
    loss = parse_with_data("(y - X@beta).T @ (y - X@beta)", "cafe")
    path = gdlab.descend(loss, {"beta": [9.0, 2.0]}, lr=1e-5, steps=300, tol=1e-8)
    expect(page.locator(".lab-message").first).to_have_text(path.message)
    page.screenshot(path=str(shots_folder(tmp_path) / "matrix-form.png"))
    page.get_by_test_id("start-beta[1]").fill("3")
    page.get_by_test_id("start-beta[1]").blur()
    expect(page).to_have_url(re.compile("s=beta%3A9%7C3"))
    other = watched().open("?" + urlsplit(page.url).query)
    assert other.get_by_test_id("start-beta[1]").input_value() == "3"


def test_numbers_are_read_as_the_lecture_writes_them_and_refusals_name_the_field(watched):
    """0.01/6 is a rate; 0,5 and abc are refused beside their field; a 13th rate is refused, naming
    the limit (nothing is dropped in silence)."""
    w = watched()
    page = w.open()
    rates, tol = page.get_by_test_id("rates"), page.get_by_test_id("tol")
    rates.fill("0.01/6, 0.5")
    rates.blur()
    expect(page.locator('[data-testid="runs"] tbody td:text-is("0.0016667")')).to_have_count(
        1, timeout=30_000
    )

    rates.fill("0,5")
    rates.blur()
    expect(page.get_by_test_id("error-rates")).to_contain_text("decimal point, not a comma: 0.5")
    assert rates.get_attribute("aria-invalid") is not None
    expect(page.locator(".lab-swatches")).to_be_hidden()  # no swatches for the rates 0 and 5

    rates.fill(", ".join(["0.1"] * 13))
    rates.blur()
    expect(page.get_by_test_id("error-rates")).to_contain_text("13 rates; at most 12 at once")
    assert page.get_by_test_id("rates").input_value().count("0.1") == 13  # kept as typed

    rates.fill("0.5, 2")
    tol.fill("abc")
    tol.blur()
    expect(page.get_by_test_id("error-tol")).to_contain_text("abc is not a number")
    expect(page.get_by_test_id("error-rates")).to_be_hidden()

    tol.fill("10^-8")
    page.get_by_test_id("steps").fill("3*20")
    page.get_by_test_id("start-b").fill("-20/2")
    page.get_by_test_id("start-b").blur()
    w.wait_for_runs(2)
    expect(page.get_by_test_id("error")).to_be_hidden(timeout=30_000)
    expect(page.get_by_test_id("counter")).to_contain_text("/ 60")
    w.errors = [e for e in w.errors if "status of 422" not in e]


def test_the_page_draws_each_run_as_the_pictures_do(watched, tmp_path):
    """Run i has gdlab's run_style(i) on the page, as in a GIF: twelve rates, twelve looks."""
    from gdlab._colours import run_style

    w = watched()
    rates = ",".join(f"{k / 100:g}" for k in range(1, 13))
    page = w.open(LECTURE.replace("r=0.5,2", f"r={rates}").replace("n=60", "n=5"))
    w.wait_for_runs(12)
    lines = page.evaluate(
        "document.querySelector('[data-testid=history]').data"
        ".filter((t) => t.mode === 'lines').map((t) => [t.line.color, t.line.dash])"
    )
    expected = []
    for i in range(12):
        style = run_style(i)
        dash = ",".join(f"{d * 2:g}px" for d in style.dash) or "solid"
        expected.append([style.colour, dash])
    assert lines == expected
    assert len({tuple(x) for x in lines}) == 12
    samples = page.locator('[data-testid="runs"] tbody svg line')
    assert samples.first.get_attribute("stroke") == run_style(0).colour
    page.screenshot(path=str(shots_folder(tmp_path) / "twelve-runs-1280x720.png"))


def test_rosenbrock_has_the_pictures_log_levels_on_the_page(watched):
    """The page draws the contour levels gdlab's pictures draw (gdlab._levels), log-spaced here."""
    w = watched()
    page = w.open("?e=(1-x)%5E2%20%2B%20100*(y-x%5E2)%5E2&s=x:-1.2,y:1&r=5e-4,1.5e-3&n=300&t=1e-8&lang=en")
    page.wait_for_function("document.querySelector('[data-testid=plot]').data?.[0]?.type === 'contour'")
    drawn = page.evaluate("document.querySelector('[data-testid=plot]').data[0]")
    ticks = [float(t) for t in drawn["colorbar"]["ticktext"]]
    mantissas = {round(t / 10 ** math.floor(math.log10(t)), 6) for t in ticks}
    assert mantissas <= {1.0, 3.0} and max(ticks) / min(ticks) >= 30, ticks  # log ticks, not even ones
    assert drawn["contours"]["start"] == 0 and drawn["contours"]["size"] == 1
    assert drawn["contours"]["end"] > 10  # one contour per level of gdlab's: 1, 2 and 5 per decade


def test_one_huge_rate_does_not_hide_the_race(watched, tmp_path):
    w = watched()
    page = w.open(LECTURE.replace("r=0.5,2", "r=0.5,2,100"))
    w.wait_for_runs(3)
    page.wait_for_function("document.querySelector('[data-testid=plot]')._fullLayout?.xaxis")
    low, high = page.evaluate("document.querySelector('[data-testid=plot]')._fullLayout.xaxis.range")
    assert -20 < low <= -10 and 2 <= high < 25, (low, high)  # was -30,000 to 30,000
    page.screenshot(path=str(shots_folder(tmp_path) / "huge-rate-1280x720.png"))


def test_the_start_follows_the_pointer_while_it_is_dragged(watched):
    w = watched()
    page = w.open()
    w.wait_for_runs(2)
    page.get_by_test_id("scrub").fill("60")
    axis = "document.querySelector('[data-testid=plot]')._fullLayout.xaxis"
    box = page.get_by_test_id("plot").bounding_box()
    offset = page.evaluate(f"{axis}._offset")
    top = page.evaluate("document.querySelector('[data-testid=plot]')._fullLayout.yaxis._offset")
    y = box["y"] + top + 40

    def pixel(value: float) -> float:
        return box["x"] + offset + page.evaluate(f"{axis}.c2p({value})")

    page.mouse.move(pixel(-10), y)
    page.mouse.down()
    at = pixel(-10)
    for k in range(1, 9):
        at = pixel(-10 + k)  # where -10 + k is drawn now
        page.mouse.move(at, y)
        page.wait_for_timeout(150)  # runs come back mid-drag
    page.wait_for_timeout(800)
    start = float(page.get_by_test_id("start-b").input_value())
    width = page.evaluate(f"({axis}.range[1] - {axis}.range[0]) / {axis}._length")
    # The value under the pointer, read with the axes as drawn now, is the start.
    pointer = page.evaluate(f"{axis}.p2c({at - box['x'] - offset})")
    assert abs(start - pointer) <= width, (start, pointer, width)
    page.mouse.up()
    w.wait_for_runs(2)


def test_a_new_parameter_starts_where_the_descent_moves(watched):
    """(x-1)^2 typed afresh: x does not start at its minimum 1, where every rate stops at step 0."""
    w = watched()
    page = w.open()
    page.get_by_test_id("expression").fill("(x-1)^2")
    expect(page.get_by_test_id("start-x")).to_have_value("-1", timeout=30_000)
    w.wait_for_runs(2)
    expect(page.get_by_test_id("counter")).not_to_have_text(re.compile(r"/ 0$"), timeout=30_000)
    assert "step 0" not in " ".join(page.locator(".lab-message").all_inner_texts())


def test_small_things_a_new_user_met(watched):
    """The runs to save survive a change of type size or language; slope leaders are drawn in
    their run's colour; a rate picked from the sweep is rounded; a preset brings its own sweep
    range; a loss without a floor has axes in powers of ten, not finance units (-600B)."""
    from gdlab._colours import run_style

    w = watched()
    page = w.open(LECTURE.replace("r=0.5,2", "r=0.5,2,5"))
    w.wait_for_runs(3)
    expect(page.get_by_test_id("save-run").locator("option")).to_have_count(3)
    page.get_by_test_id("big").check()
    expect(page.get_by_test_id("save-run").locator("option")).to_have_count(3)
    page.get_by_test_id("lang").select_option("ko")
    expect(page.get_by_test_id("save-run").locator("option")).to_have_count(3)
    page.get_by_test_id("lang").select_option("en")
    page.get_by_test_id("big").uncheck()

    arrows = page.evaluate(
        "document.querySelector('[data-testid=plot]').layout.annotations"
        ".filter((a) => a.name === 'slope').map((a) => a.arrowcolor)"
    )
    assert arrows and all(a == run_style(i).colour for i, a in enumerate(arrows)), arrows

    page.locator(".lab-tab[data-view=sweep]").click()
    expect(page.get_by_test_id("sweep-summary")).to_contain_text("2/L", timeout=30_000)
    page.evaluate(
        "(() => { const el = document.querySelector('[data-testid=sweep-plot]');"
        " el.emit('plotly_click', { points: [{ customdata: 17 }] }); })()"
    )
    rates = page.get_by_test_id("rates").input_value()
    last = rates.split(",")[-1].strip()
    assert len(last.replace(".", "").lstrip("0")) <= 4, rates  # 0.02121, not 0.021209508879201904

    page.locator(".lab-tab[data-view=sweep]").click()  # the click went back to the descent
    page.get_by_test_id("sweep-lo").fill("0.5")
    page.get_by_test_id("sweep-lo").blur()
    page.get_by_test_id("preset").select_option("homework")
    expect(page.get_by_test_id("sweep-lo")).to_have_value("0.001")

    page.locator(".lab-tab[data-view=descent]").click()
    page.get_by_test_id("expression").fill("-b^3")
    page.get_by_test_id("start-b").fill("2")
    page.get_by_test_id("rates").fill("0.01, 0.02")
    page.get_by_test_id("rates").blur()
    w.wait_for_runs(2)
    page.wait_for_timeout(1000)
    ticks = page.locator('[data-testid="plot"] .ytick text, [data-testid="history"] .ytick text')
    labels = ticks.all_text_contents()
    assert labels and not [t for t in labels if re.search(r"\d[kMGBT]$", t)], labels
    w.errors = [e for e in w.errors if "status of 422" not in e]  # the loss as it was typed, half done


def test_the_phase_view_maps_rate_and_momentum_and_a_click_joins_the_race(watched, tmp_path):
    """The lecture's loss under heavy ball: each cell in its regime's colour, the theory's line and
    fastest pair; pointing at a cell reads its sentence; clicking a converged one adds that run."""
    folder = shots_folder(tmp_path)
    w = watched()
    page = w.open(PHASE + "&v=phase&pm=momentum&plo=0.1&phi=20&pnum=16&mhi=0.9", wait=False)
    summary = page.get_by_test_id("phase-summary")
    expect(summary).to_contain_text("converges on this quadratic exactly when", timeout=30_000)
    plot = page.get_by_test_id("phase-plot")
    assert plot.locator(".heatmaplayer image").count() == 1
    assert plot.locator(".scatterlayer .trace").count() >= 2  # the boundary and the fastest pair
    assert "diverged" in summary.inner_text() and "converged" in summary.inner_text()
    # The middle of a converged cell, found through plotly's own axes (rows are momenta).
    cell = page.evaluate(
        """() => {
          const el = document.querySelector('[data-testid="phase-plot"]');
          const d = el.data[0], box = el.getBoundingClientRect();
          const xa = el._fullLayout.xaxis, ya = el._fullLayout.yaxis;
          for (let j = 0; j < d.y.length; j++) for (let i = 0; i < d.x.length; i++) {
            if (d.text[j][i] !== "converged" || d.y[j] === 0) continue;
            const x = box.left + xa._offset + xa.c2p(d.x[i]), y = box.top + ya._offset + ya.c2p(d.y[j]);
            return { lr: d.x[i], b: d.y[j], x, y };
          }
          return null;
        }"""
    )
    assert cell is not None
    page.mouse.move(cell["x"], cell["y"])
    expect(page.get_by_test_id("phase-note")).to_contain_text("converged at step")
    page.screenshot(path=str(folder / "lab-phase-1280x720.png"))
    with page.expect_download() as info:  # the picture, drawn by gdlab.plot of the same phase
        page.get_by_test_id("phase-download-png").click()
    assert info.value.suggested_filename == "gdlab-phase-momentum.png"
    info.value.save_as(tmp_path / "phase.png")
    assert (tmp_path / "phase.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    before = page.locator('[data-testid="runs"] tbody tr').count()
    page.mouse.click(cell["x"], cell["y"])
    expect(page.locator(".lab-tab[data-view=descent]")).to_have_attribute("aria-selected", "true")
    lr = str(float(f"{cell['lr']:.4g}"))
    lr = lr.removesuffix(".0")
    w.wait_for_runs(max(before, 2) + 1)
    assert page.get_by_test_id("method").input_value() == "momentum"
    assert float(page.get_by_test_id("hyper-momentum").input_value()) == pytest.approx(cell["b"], rel=1e-3)
    assert page.get_by_test_id("rates").input_value().endswith(lr)
    assert status_of(page, lr) == "converged"
    page.screenshot(path=str(folder / "lab-phase-race-1280x720.png"))


def test_the_phase_view_at_375_px(watched, tmp_path):
    folder = shots_folder(tmp_path)
    w = watched(size=(375, 800))
    page = w.open(PHASE + "&v=phase&pnum=12", wait=False)
    expect(page.get_by_test_id("phase-summary")).to_contain_text("converges", timeout=30_000)
    page.get_by_test_id("phase-plot").scroll_into_view_if_needed()
    page.screenshot(path=str(folder / "lab-phase-375.png"), full_page=True)
    plot = page.get_by_test_id("phase-plot").bounding_box()
    assert plot and plot["width"] <= 375


def test_sgd_with_batch_size_1_runs_gdlab_sgd_on_the_cafe_data(watched, tmp_path):
    """The lecture's homework: one row a step, a noisy path; the fields read numbers as the library does."""
    folder = shots_folder(tmp_path)
    w = watched()
    query = "?e=sum((y%20-%20b0%20-%20b1*x)%5E2)&d=cafe&s=b0:9,b1:2&r=0.001,0.004&n=300&t=1e-8&lang=en"
    page = w.open(query + "&bs=1&ep=2*10")
    expect(page.get_by_test_id("sgd-fields")).to_be_visible()
    assert page.get_by_test_id("batch-size").input_value() == "1"
    assert page.get_by_test_id("steps").is_disabled()
    message = page.locator('[data-testid="runs"] tbody tr').first.locator(".lab-message")
    expect(message).to_contain_text("ran 20 epoch(s) of 10 batches of 1 rows")
    expect(page.get_by_test_id("counter")).to_contain_text("/ 200")
    page.get_by_test_id("scrub").fill("200")  # paused at the end: the whole path is drawn
    page.wait_for_timeout(300)
    # The path is noisy: the loss of a batch of one row rises at some steps as it falls overall.
    history = page.evaluate(
        "() => document.querySelector('[data-testid=\"history\"]').data.filter((d) => d.mode !== 'markers')"
        ".map((d) => d.y)"
    )
    longest = max(history, key=len)
    finite = [v for v in longest if v is not None]
    assert len(finite) > 100 and any(b > a for a, b in itertools.pairwise(finite))
    page.screenshot(path=str(folder / "lab-sgd-1280x720.png"))
    page.get_by_test_id("batch-size").fill("11")
    page.get_by_test_id("batch-size").press("Enter")
    expect(page.get_by_test_id("error-batch_size")).to_contain_text("at most 10, the rows of the data")
    w.errors = [e for e in w.errors if "status of 422" not in e]  # the refusal asked for
    page.get_by_test_id("batch-size").fill("")
    page.get_by_test_id("batch-size").press("Enter")
    expect(message).not_to_contain_text("epoch", timeout=30_000)  # back to gradient descent
    assert not page.get_by_test_id("steps").is_disabled()


def test_png_and_svg_downloads_are_the_library_s_picture_in_the_page_s_colours(watched, tmp_path):
    """The picture as files, drawn by gdlab.plot from the same runs: each run in the colour the page
    draws it in (the backend's run styles), not a screenshot of plotly."""
    import xml.etree.ElementTree as ET

    from PIL import Image

    w = watched()
    page = w.open("?e=x%5E2%20%2B%2025*y%5E2&s=x:-9,y:1.5&r=0.01,0.035,0.041&n=100&t=1e-8&lang=en")
    drawn = page.evaluate(
        "() => document.querySelector('[data-testid=\"plot\"]').data"
        ".filter((d) => d.mode && d.mode.includes('lines') && d.line && d.line.color)"
        ".map((d) => d.line.color)"
    )
    colours = {c.lower() for c in drawn if c.startswith("#")}
    assert len(colours) >= 3
    files = {}
    for kind in ("png", "svg"):
        with page.expect_download() as info:
            page.get_by_test_id(f"download-{kind}").click()
        files[kind] = tmp_path / info.value.suggested_filename
        info.value.save_as(files[kind])
        assert info.value.suggested_filename == f"gdlab-descent.{kind}"
    root = ET.parse(files["svg"]).getroot()  # well-formed SVG
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    svg = files["svg"].read_text().lower()
    assert all(f"stroke: {c}" in svg for c in colours), colours
    assert files["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(files["png"]) as image:
        image.verify()
    with Image.open(files["png"]) as image:
        pixels = {"#" + bytes(p[:3]).hex() for _, p in image.convert("RGB").getcolors(1 << 20)}
    assert colours <= pixels, colours - pixels


SHOPS = "y,x,g\n1.0,2,a\n2.1,3,b\n4.2,5,a\n3.3,3,b\n5.1,6,c\n6.2,7,c\n2.0,1,a\n"
DROP = """([text, name]) => {
  const files = new DataTransfer();
  files.items.add(new File([text], name, { type: "text/csv" }));
  const view = document.querySelector('section[data-view="fit"]');
  for (const kind of ["dragover", "drop"]) {
    view.dispatchEvent(new DragEvent(kind, { dataTransfer: files, bubbles: true, cancelable: true }));
  }
}"""


def printed_by_the_cli(path: Path, formula: str) -> list[str]:
    """What ``gdlab fit PATH FORMULA`` prints, line by line (trailing blanks off)."""
    from typer.testing import CliRunner

    from gdlab.cli import app as cli

    result = CliRunner().invoke(cli, ["fit", str(path), formula])
    assert result.exit_code == 0, result.output
    return [line.rstrip() for line in result.output.strip().splitlines()]


def shown(page, testid: str) -> list[str]:
    return [line.rstrip() for line in page.get_by_test_id(testid).text_content().strip().splitlines()]


def test_the_fit_view_fits_a_chosen_csv_as_the_command_line_does(watched, tmp_path):
    """A CSV chosen on the page (a column of text among them) and "y ~ x + C(g)" give the summary
    that `gdlab fit file.csv "y ~ x + C(g)"` prints, line for line; the URL keeps the formula
    (never the CSV) and reopens the fit view with it."""
    folder = shots_folder(tmp_path)
    path = tmp_path / "shops.csv"
    path.write_text(SHOPS)
    w = watched()
    asked: list[dict] = []
    w.page.on("request", lambda r: asked.append(r.post_data_json) if r.url.endswith("/api/fit") else None)
    page = w.open("?lang=en&v=fit", wait=False)
    expect(page.locator('.lab-tab[data-view="fit"]')).to_have_attribute("aria-selected", "true")
    expect(page.locator("aside.lab-controls")).to_be_hidden()
    page.get_by_test_id("fit-file").set_input_files(str(path))
    expect(page.get_by_test_id("fit-file-name")).to_have_text("shops.csv")
    expect(page.get_by_test_id("fit-rows")).to_have_text("7 rows")
    assert page.locator(".lab-column").all_inner_texts() == ["y", "x", "g"]
    # Clicking the columns writes the formula: the response, then the terms joined by +.
    for name in ("y", "x"):
        page.locator(f'.lab-column[data-column="{name}"]').click()
    assert page.get_by_test_id("fit-formula").input_value() == "y ~ x"
    page.get_by_test_id("fit-formula").press("End")
    page.get_by_test_id("fit-formula").press_sequentially(" + C(g)")
    page.get_by_test_id("fit-formula").press("Enter")
    expect(page.get_by_test_id("fit-summary")).to_contain_text("C(g)[T.b]", timeout=30_000)
    assert shown(page, "fit-summary") == printed_by_the_cli(path, "y ~ x + C(g)")
    assert asked[-1]["csv"] == SHOPS and asked[-1]["formula"] == "y ~ x + C(g)"
    query = urlsplit(page.url).query
    assert (
        "fe=y+%7E+x+%2B+C%28g%29" in query and "v=fit" in query and "shop" not in query and "2.1" not in query
    )
    page.screenshot(path=str(folder / "lab-fit-1280x720.png"))
    # The link reopens the fit view with the formula; the CSV is the user's to give again.
    again = watched()
    page = again.open("?" + query, wait=False)
    expect(page.get_by_test_id("fit-formula")).to_have_value("y ~ x + C(g)")
    expect(page.locator('.lab-tab[data-view="fit"]')).to_have_attribute("aria-selected", "true")
    expect(page.get_by_test_id("fit-file-info")).to_contain_text("No data yet")
    page.get_by_test_id("run-fit").click()
    expect(page.get_by_test_id("error-formula")).to_contain_text("choose or drop a CSV file")


def test_a_csv_dropped_on_the_fit_view_is_fitted_and_refusals_are_said_by_the_formula(watched, tmp_path):
    """A dropped file is read as a chosen one; the server's refusals (a hostile formula, an unknown
    column, a broken formula) are said under the formula in gdlab's words, with no private path or
    terminal colour codes, and the last summary stays; a file past the server's body limit is
    refused on the page, before anything is sent."""
    path = tmp_path / "drop.csv"
    path.write_text(SHOPS)
    w = watched()
    asked: list[str] = []
    w.page.on("request", lambda r: asked.append(r.url) if r.url.endswith("/api/fit") else None)
    page = w.open("?lang=en&v=fit&fe=y%20~%20x%20%2B%20C(g)", wait=False)
    page.evaluate(DROP, [SHOPS, "drop.csv"])
    expect(page.get_by_test_id("fit-file-name")).to_have_text("drop.csv")
    page.get_by_test_id("run-fit").click()
    expect(page.get_by_test_id("fit-summary")).to_contain_text("C(g)[T.c]", timeout=30_000)
    assert shown(page, "fit-summary") == printed_by_the_cli(path, "y ~ x + C(g)")
    formula = page.get_by_test_id("fit-formula")
    error = page.get_by_test_id("error-formula")
    for typed, words in [
        ("y ~ x.__class__", "attribute .__class__ is not allowed"),
        ("y ~ __import__('os')", "is not allowed"),
        ("y ~ x + zz", "the uploaded CSV: no column 'zz'; it has 'y', 'x', 'g'"),
        ("y ~ x +", "is not a formula gdlab reads"),
    ]:
        formula.fill(typed)
        formula.press("Enter")
        expect(error).to_contain_text(words, timeout=30_000)
        said = error.text_content()
        assert "\x1b" not in said and "\u29db" not in said and "gdlab-fit-" not in said
        expect(formula).to_have_attribute("aria-invalid", "")
        expect(page.get_by_test_id("fit-summary")).to_contain_text("C(g)[T.c]")  # the last summary stays
    assert error.text_content().endswith("  y ~ x +\n        ^")  # the parser's mark as a caret
    w.errors = [e for e in w.errors if "status of 422" not in e]  # the refusals asked for
    sent = len(asked)
    page.evaluate(DROP, ["y,x\n" + "1.0,2.0\n" * 9000, "big.csv"])  # 72,005 bytes
    expect(error).to_contain_text("the server takes at most 64.0 KiB a request")
    formula.fill("y ~ x")
    formula.press("Enter")
    expect(error).to_contain_text("choose or drop a CSV file")
    assert len(asked) == sent  # nothing was sent


def test_the_notebook_widget_answers_a_fit_as_the_server_does(tmp_path):
    """The widget routes the page's "fit" to the kernel: the same summary, the same refusals."""
    from gdlab.web._widget import LabWidget

    path = tmp_path / "shops.csv"
    path.write_text(SHOPS)
    widget = LabWidget(state={})
    reply, _ = widget.answer({"id": 7, "name": "fit", "payload": {"csv": SHOPS, "formula": "y ~ x + C(g)"}})
    assert reply["ok"] and reply["id"] == 7, reply
    assert [line.rstrip() for line in reply["result"]["summary"].splitlines()] == printed_by_the_cli(
        path, "y ~ x + C(g)"
    )
    for formula, words in [
        ("y ~ x.__class__", "attribute .__class__ is not allowed"),
        ("y ~ zz", "the uploaded CSV: no column 'zz'"),
    ]:
        reply, _ = widget.answer({"id": 8, "name": "fit", "payload": {"csv": SHOPS, "formula": formula}})
        assert not reply["ok"] and reply["status"] == 422 and words in reply["detail"], reply


def test_the_lecture_s_cafe_data_in_one_click_at_375_px_in_korean(watched, tmp_path):
    """The cafe data (gdlab.datasets.cafe) is one click away: its fit is the library's, the page's
    words are Korean, and the summary scrolls inside its box at a phone's width."""
    import gdlab
    from gdlab import datasets

    folder = shots_folder(tmp_path)
    w = watched(size=(375, 800), locale="ko-KR")
    page = w.open("?v=fit&big=1", wait=False)
    expect(page.locator('.lab-tab[data-view="fit"]')).to_have_text("모형 적합")
    page.get_by_test_id("fit-cafe").click()
    expect(page.get_by_test_id("fit-summary")).to_contain_text("temp", timeout=30_000)
    assert page.get_by_test_id("fit-formula").input_value() == "sales ~ temp"
    cafe = datasets.cafe()
    mine = gdlab.fit({"temp": cafe.x, "sales": cafe.y}, "sales ~ temp")
    assert shown(page, "fit-summary")[1:] == [line.rstrip() for line in mine.summary().splitlines()][1:]
    page.get_by_test_id("fit-cov").select_option("cluster")
    expect(page.get_by_test_id("fit-groups")).to_be_visible()
    assert page.get_by_test_id("fit-groups").locator("option").all_inner_texts() == ["temp", "sales"]
    page.get_by_test_id("fit-cov").select_option("HC3")
    expect(page.get_by_test_id("fit-groups")).to_be_hidden()
    page.get_by_test_id("run-fit").click()
    expect(page.get_by_test_id("fit-summary")).to_contain_text("HC3", timeout=30_000)
    page.screenshot(path=str(folder / "lab-fit-375.png"), full_page=True)
    wide = page.evaluate(
        "() => [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > 376)"
        ".map((e) => e.tagName + '.' + e.className + '#' + (e.dataset.testid || ''))"
    )
    assert wide == [] and page.evaluate("() => document.documentElement.scrollWidth") <= 375
    box = page.get_by_test_id("fit-summary").bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 375


# axe-core (Deque Systems, MPL-2.0), vendored for the tests only: see tests/vendor/axe-core/README.md.
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_RUN = """async (tags) => {
  const found = await axe.run(document, { runOnly: { type: "tag", values: tags } });
  return {
    passes: found.passes.length,
    violations: found.violations.map((v) => ({
      id: v.id, help: v.help, nodes: v.nodes.map((n) => n.target.join(" ")),
    })),
  };
}"""
LESSON_READY = '.gdlab-lesson[data-state="ready"]'


@pytest.mark.parametrize("size", [(1280, 720), (375, 800)])
@pytest.mark.parametrize(
    ("where", "ready"),
    [
        (PHASE + "&v=phase&pnum=12", '[data-testid="phase-summary"]:has-text("converges")'),
        (LECTURE, '[data-testid="runs"] tbody tr'),
        ("?lang=en&v=fit", '[data-testid="fit-summary"]:has-text("temp")'),
        ("?lang=ko&v=fit&fc=cluster", '[data-testid="fit-summary"]:has-text("temp")'),
        ("lesson?lang=en", LESSON_READY),
        ("lesson?lang=ko", LESSON_READY),
    ],
)
def test_no_wcag_2_1_a_or_aa_violations_by_axe_core(watched, where, ready, size):
    """axe-core's WCAG 2.1 A and AA rules on the lab (the phase view open, and the descent) and on
    the lesson, at a laptop's and a phone's width: no violations."""
    w = watched(size=size)
    w.open(where, wait=False)
    page = w.page
    if "v=fit" in where:  # the fit view after a fit of the cafe data
        page.get_by_test_id("fit-cafe").click()
    page.wait_for_selector(ready, timeout=60_000)
    page.wait_for_timeout(500)  # the pictures settle
    page.evaluate(AXE.read_text(encoding="utf-8"))  # evaluated, not a <script>: the page's CSP stands
    found = page.evaluate(AXE_RUN, WCAG)
    assert found["passes"] > 10  # the rules really ran
    assert found["violations"] == []


def labels_outside(page, testid: str, axis: str) -> tuple[int, list[str]]:
    """How many tick labels an axis of a picture has, and those not wholly inside the picture."""
    return page.evaluate(
        """([testid, axis]) => {
            const plot = document.querySelector(`[data-testid="${testid}"]`);
            const box = plot.getBoundingClientRect();
            const labels = [...plot.querySelectorAll(`g.${axis}tick text`)];
            const out = labels.filter((t) => {
                const r = t.getBoundingClientRect();
                return r.left < box.left - 0.5 || r.right > box.right + 0.5;
            });
            return [labels.length, out.map((t) => t.textContent)];
        }""",
        [testid, axis],
    )


@pytest.mark.parametrize(
    ("loss", "start"),
    [
        ("exp(exp(exp(b)))", "-10"),
        ("exp(exp(exp(b)))", "0"),
        ("1e12*b^2 + 123456.789", "3"),
        ("1e-9*(b-1)^2", "5"),
    ],
)
def test_tick_labels_fit_in_the_pictures(watched, tmp_path, loss, start):
    """The loss against b and against the iteration keep their tick labels whole (2.718406, not
    .718406), for values that hardly change, large and tiny ones; the history labels its loss."""
    w = watched()
    page = w.open(f"?e={quote(loss)}&s=b:{start}&r=0.5,2&n=60&lang=en&x=4")
    expect(page.get_by_test_id("note")).not_to_have_class(re.compile("busy"), timeout=30_000)
    page.wait_for_timeout(300)
    page.screenshot(path=str(shots_folder(tmp_path) / f"ticks-{loss[:8]}-{start}.png"))
    for testid in ("plot", "history"):
        for axis in ("x", "y"):
            count, outside = labels_outside(page, testid, axis)
            assert count >= 2 and outside == [], (testid, axis, count, outside)


def test_refused_rates_are_said_once_typing_pauses(watched):
    """Rates run once typing pauses, valid or not: "0,5" and a 13th rate are refused without Tab."""
    w = watched()
    page = w.open()
    rates = page.get_by_test_id("rates")
    rates.fill("")
    rates.press_sequentially("0,5", delay=60)
    expect(page.get_by_test_id("error-rates")).to_contain_text("decimal point, not a comma", timeout=30_000)
    expect(page.get_by_test_id("error")).to_be_visible()
    rates.fill(", ".join(["0.1"] * 13))
    expect(page.get_by_test_id("error-rates")).to_contain_text("13 rates; at most 12", timeout=30_000)
    rates.fill("0.5, 1")
    w.wait_for_runs(2)
    expect(page.get_by_test_id("error-rates")).to_be_hidden(timeout=30_000)
    assert rates.evaluate("(el) => el === document.activeElement")  # never left the field
    w.errors = [e for e in w.errors if "status of 422" not in e]


def test_the_preset_follows_the_loss_and_start(watched):
    """A loss or start of one's own is "(your own)"; the preset's loss from its start is the preset again."""
    w = watched()
    page = w.open("?e=(b%2F2-1)%5E2&s=b:-10&r=0.5,2,4.5&n=60&t=1e-8&lang=en")
    preset, box = page.get_by_test_id("preset"), page.get_by_test_id("expression")
    expect(preset).to_have_value("lecture")
    box.fill("(b/2-1)^4")
    expect(preset).to_have_value("")
    expect(preset.locator("option:checked")).to_have_text("(your own)")
    box.fill("(b/2-1)^2")
    expect(preset).to_have_value("lecture")
    page.get_by_test_id("start-b").fill("-8")
    page.get_by_test_id("start-b").blur()
    expect(preset).to_have_value("")


def test_a_start_typed_while_a_run_is_on_its_way_is_kept(watched):
    """The answer to a run asked for before the start was typed over does not put its start back:
    the start typed stays in the field, the state (the preset, the link) and the next run (it was
    lost where the answer came within the wait before the new start's run was asked for)."""
    w = watched()
    page = w.open("?e=(b%2F2-1)%5E2&s=b:-10&r=0.5,2,4.5&n=60&t=1e-8&lang=en")
    held = []
    page.route("**/api/descent", lambda route: held.append(route) if not held else route.continue_())
    page.get_by_test_id("rates").fill("0.5,2")  # a run asked for, its answer held
    page.get_by_test_id("rates").blur()
    for _ in range(100):  # until the run's request is held
        if held:
            break
        page.wait_for_timeout(100)
    assert len(held) == 1
    page.get_by_test_id("start-b").fill("-8")
    page.get_by_test_id("start-b").blur()
    held[0].continue_()  # the answer for b = -10 arrives after -8 was typed
    expect(page).to_have_url(re.compile("s=b%3A-8"), timeout=30_000)
    page.wait_for_timeout(1_000)
    expect(page.get_by_test_id("preset")).to_have_value("")
    expect(page.get_by_test_id("start-b")).to_have_value("-8")
    expect(page).to_have_url(re.compile("s=b%3A-8"))
    page.unroute("**/api/descent")


@pytest.mark.parametrize("size", [(1280, 800), (375, 800)])
def test_the_banner_does_not_move_the_picture(watched, tmp_path, size):
    """The "Not run" banner lies over the view: the pictures stay where they were."""
    w = watched(size=size)
    page = w.open()
    where = lambda: [page.get_by_test_id(t).bounding_box()["y"] for t in ("plot", "history", "runs")]
    before = where()
    page.get_by_test_id("expression").fill("b^1000000")  # refused as a whole (no field's message above)
    expect(page.get_by_test_id("error")).to_contain_text("not finite at the start", timeout=30_000)
    page.screenshot(path=str(shots_folder(tmp_path) / f"banner-{size[0]}.png"), full_page=True)
    assert where() == before
    banner = page.get_by_test_id("error").bounding_box()
    assert banner["x"] >= 0 and banner["x"] + banner["width"] <= size[0]
    w.errors = [e for e in w.errors if "status of 422" not in e]


def test_a_function_name_half_typed_is_not_sent(watched):
    """Typing sin( does not send s and si as parameters (no si axis, no start box for si); a name
    left half typed is sent once typing pauses longer."""
    w = watched()
    sent: list[str] = []
    w.page.on(
        "request",
        lambda r: sent.append(r.post_data_json["expression"]) if r.url.endswith("/api/descent") else None,
    )
    page = w.open("?e=b%5E2&s=b:3&r=0.5&n=20&lang=en")
    box = page.get_by_test_id("expression")
    box.press("End")
    box.press_sequentially(" + sin(b)", delay=80)
    expect(page.get_by_test_id("check")).to_contain_text("b**2 + sin(b)", timeout=30_000)
    expect(page.get_by_test_id("derivative").locator(".lab-formula").first).to_have_attribute(
        "data-plain", "L = b**2 + sin(b)", timeout=30_000
    )
    assert not [e for e in sent if e.endswith(("+ s", "+ si", "+ sin"))], sent
    assert page.get_by_test_id("start-si").count() == 0
    box.press_sequentially(" + s", delay=80)
    expect(page.get_by_test_id("start-s")).to_be_visible(timeout=30_000)  # a pause: s is a parameter
    assert sent[-1].endswith("+ s")
    w.errors = [e for e in w.errors if "status of 422" not in e]


def test_table_headers_keep_to_one_line_at_375_px_in_korean(watched, tmp_path):
    w = watched(size=(375, 800), locale="ko-KR")
    page = w.open("?e=(b%2F2-1)%5E2&s=b:-10&r=0.5,2&n=60&t=1e-8")
    page.get_by_test_id("runs").scroll_into_view_if_needed()
    page.screenshot(path=str(shots_folder(tmp_path) / "table-375-ko.png"), full_page=True)
    # The table is drawn again at each frame: read in one go.
    heads = page.evaluate(
        "() => [...document.querySelectorAll('[data-testid=runs] th')]"
        ".map((e) => [e.textContent, e.getBoundingClientRect().height])"
    )
    assert heads[1][0] == "학습률" and 0 < heads[1][1] < 30, heads  # one line (63 px when it broke)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
