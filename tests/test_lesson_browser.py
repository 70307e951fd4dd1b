"""The lesson's page end to end in a real headless Chromium (Debian's chromium, driven by Playwright):
a student completes every chapter in Korean and in English, the address reopens the same state,
the notebook downloads, and the layouts for a projector and a phone keep the picture in view.

The server runs inside the test on 127.0.0.1 and a free port. A console error or a request that
leaves the page's origin fails the test. Set GDLAB_SHOTS=folder to keep the screenshots.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
pytest.importorskip("fastapi")

from tests.test_lesson import SOLUTIONS  # noqa: E402

import browsing  # noqa: E402
from gdlab._lesson import contents  # noqa: E402

base, browser = browsing.base, browsing.browser  # the shared fixtures

READY = '.gdlab-lesson[data-state="ready"]'


class Watched(browsing.Watched):
    """The lesson's page, watched (see :class:`browsing.Watched`)."""

    def open(self, query: str):
        self.page.goto(self.base + "/lesson" + query)
        self.page.wait_for_selector(READY, timeout=60_000)
        return self.page


def shots_folder(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("GDLAB_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _chapter_shows_the_lectures_values(page, chapter: dict, none: str) -> None:
    rows = page.locator('[data-testid="rows"] tbody tr')
    expect(rows).to_have_count(len(chapter["rows"]))
    for k, row in enumerate(chapter["rows"]):
        cells = rows.nth(k)
        expect(cells.locator('[data-col="lecture"]')).to_have_text(row["lecture"] or none)
        expect(cells.locator('[data-col="ours"]')).not_to_be_empty()
        expect(cells.locator('[data-col="yours"]')).not_to_be_empty()


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_a_student_completes_the_whole_lesson(base, browser, lang, tmp_path):
    words = contents(lang)
    context = browser.new_context(viewport={"width": 1280, "height": 720}, accept_downloads=True)
    w = Watched(context, base)
    page = w.open(f"?lang={lang}")
    expect(page.locator("h1")).to_have_text(words["ui"]["lesson"])
    for i, chapter in enumerate(words["chapters"]):
        key = chapter["key"]
        page.wait_for_selector(READY, timeout=60_000)
        expect(page.get_by_test_id("chapter-title")).to_have_text(f"{i + 1}. {chapter['title']}")
        _chapter_shows_the_lectures_values(page, chapter, words["ui"]["none"])
        verdict = page.get_by_test_id("verdict")
        expect(verdict).to_have_attribute("data-met", "false")
        page.get_by_test_id("hint").locator("summary").click()
        expect(page.get_by_test_id("hint").locator("p")).to_have_text(chapter["hint"])
        for name, value in SOLUTIONS[key].items():
            page.get_by_test_id(f"control-{name}").fill(value)
        expect(verdict).to_have_attribute("data-met", "true", timeout=60_000)
        expect(verdict).to_contain_text(words["ui"]["met"])
        page.wait_for_selector(READY, timeout=60_000)
        assert key in parse_qs(urlsplit(page.url).query)["done"][0].split(",")
        code = page.get_by_test_id("code").inner_text()
        assert all(value in code for value in SOLUTIONS[key].values()), code
        expect(page.get_by_test_id("tf")).not_to_have_attribute("open", "")  # folded
        if i < len(words["chapters"]) - 1:
            page.get_by_test_id("next").click()
    expect(page.get_by_test_id("progress")).to_contain_text("9/9")

    # The address reopens the same chapter, settings and progress.
    again = Watched(context, base)
    reopened = again.open(urlsplit(page.url).query and "?" + urlsplit(page.url).query)
    expect(reopened.get_by_test_id("chapter-title")).to_contain_text("9.")
    expect(reopened.get_by_test_id("control-batch")).to_have_value("1")
    expect(reopened.get_by_test_id("verdict")).to_have_attribute("data-met", "true", timeout=60_000)
    expect(reopened.get_by_test_id("progress")).to_contain_text("9/9")
    reopened.get_by_test_id("nav-grid").click()
    expect(reopened.get_by_test_id("control-num")).to_have_value("6")
    expect(reopened.get_by_test_id("verdict")).to_have_attribute("data-met", "true", timeout=60_000)
    reopened.go_back()
    expect(reopened.get_by_test_id("chapter-title")).to_contain_text("9.")
    reopened.keyboard.press("ArrowLeft")  # a presenter's key
    expect(reopened.get_by_test_id("chapter-title")).to_contain_text("8.")
    reopened.keyboard.press("ArrowRight")
    expect(reopened.get_by_test_id("chapter-title")).to_contain_text("9.")

    # The notebook downloads, in the page's language.
    with reopened.expect_download() as download:
        reopened.get_by_test_id("notebook").click()
    assert download.value.suggested_filename == f"gdlab-lesson-{lang}.ipynb"
    nbformat = pytest.importorskip("nbformat")
    book = nbformat.read(download.value.path(), as_version=4)
    nbformat.validate(book)
    assert words["chapters"][0]["title"] in book.cells[1].source
    again.close()
    w.close()
    context.close()


def test_a_wrong_setting_is_explained_and_the_language_switches(base, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    w = Watched(context, base)
    page = w.open("?lang=ko&c=grid")
    page.get_by_test_id("control-num").fill("1")
    expect(page.get_by_test_id("error")).to_contain_text("between 2 and 10000", timeout=30_000)
    page.get_by_test_id("control-num").fill("0.5*12")  # arithmetic is read by gdlab's expression language
    expect(page.get_by_test_id("verdict")).to_have_attribute("data-met", "true", timeout=30_000)
    expect(page.get_by_test_id("error")).to_be_hidden()
    page.get_by_test_id("lang").click()
    expect(page.get_by_test_id("chapter-title")).to_have_text("4. Grid search")
    expect(page.get_by_test_id("control-num")).to_have_value("0.5*12")
    assert "lang=en" in page.url and "grid=num:0.5*12" in page.url.replace("%2A", "*")
    w.errors = [e for e in w.errors if "422" not in e]  # the refused setting's answer, as expected
    w.close()
    context.close()


@pytest.mark.parametrize(
    ("size", "query", "name"),
    [
        ((1280, 720), "?lang=ko&c=descent&big=1", "projector-1280x720"),
        ((1920, 1080), "?lang=ko&c=rate&big=1", "projector-1920x1080"),
        ((1280, 720), "?lang=en&c=homework&homework=batch:1", "laptop-1280x720"),
        ((1920, 1080), "?lang=en&c=matrix", "desktop-1920x1080"),
        ((375, 740), "?lang=ko&c=grid", "phone-375"),
        ((375, 740), "?lang=en&c=animation&big=1", "phone-375-big"),
    ],
)
def test_the_picture_is_in_view_on_a_projector_and_before_the_controls_on_a_phone(
    base, browser, size, query, name, tmp_path
):
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    w = Watched(context, base)
    page = w.open(query)
    page.wait_for_timeout(600)  # the animations' first frames
    plot = page.get_by_test_id("plot").bounding_box()
    controls = page.locator(".ls-controls").bounding_box()
    assert plot is not None and controls is not None
    if "big=1" in query and size[0] >= 1280:
        assert plot["y"] + plot["height"] <= size[1], plot  # above the fold
    if size[0] < 500:
        assert plot["y"] < controls["y"], (plot, controls)  # the picture first
        assert page.evaluate("document.documentElement.scrollWidth") <= size[0]
    page.screenshot(path=str(shots_folder(tmp_path) / f"lesson-{name}.png"), full_page=size[0] < 500)
    w.close()
    context.close()


PAGE = '<!doctype html><meta charset="utf-8"><div id="cell"></div>\n<script type="module">{fake}</script>'


def test_the_widget_runs_in_chromium_and_asks_the_kernel(base, browser):
    """The lesson widget's one module in Chromium, each request answered by LessonWidget.answer
    (the kernel's side) through a function the test exposes to the page."""
    pytest.importorskip("anywidget")
    import gdlab
    from gdlab.web._widget import lesson_bundle

    widget = gdlab.lesson("grid", lang="en")
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    w = Watched(context, base)
    page = w.page
    page.expose_function("kernel", lambda content: widget.answer(content)[0])
    fake = """
      import widget from "/lesson-widget-test/bundle.js";
      const state = STATE;
      const listeners = [];
      const model = {
        state, get(k) { return this[k]; }, set(k, v) { this[k] = v; }, save_changes() {},
        on(_, f) { listeners.push(f); }, off() {},
        async send(msg) { const reply = await window.kernel(msg); listeners.forEach((f) => f(reply, [])); },
      };
      globalThis.model = model;
      widget.render({ model, el: document.getElementById("cell") });
    """.replace("STATE", json.dumps(widget.state))
    host = f"{base}/lesson-widget-test"
    page.route(f"{host}/bundle.js", lambda r: r.fulfill(body=lesson_bundle(), content_type="text/javascript"))
    page.route(f"{host}/", lambda r: r.fulfill(body=PAGE.format(fake=fake), content_type="text/html"))
    page.goto(f"{host}/")
    page.wait_for_selector(READY, timeout=60_000)
    expect(page.get_by_test_id("chapter-title")).to_have_text("4. Grid search")
    page.get_by_test_id("control-num").fill("6")
    expect(page.get_by_test_id("verdict")).to_have_attribute("data-met", "true", timeout=60_000)
    assert page.evaluate("model.state") == "?lang=en&c=grid&done=grid&grid=num:6"
    w.close()
    context.close()


def test_a_slider_moves_the_rate_and_the_numbers_follow(base, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    w = Watched(context, base)
    page = w.open("?lang=en&c=descent")
    slider = page.get_by_test_id("slider-lr")
    position = int(slider.input_value())
    assert 0 < position < 1000  # 0.01/6, read by the backend, on a log scale from 1e-6 to 10
    slider.fill("700")  # about 0.1
    lr = page.get_by_test_id("control-lr")
    expect(lr).not_to_have_value("0.01/6")
    assert 0.05 < float(lr.input_value()) < 0.2
    expect(page.locator('tr[data-row="0"] [data-col="yours"]')).not_to_have_text("-9.040152", timeout=30_000)
    page.wait_for_selector(READY)
    assert f"lr={lr.input_value()}" in page.get_by_test_id("code").inner_text()
    w.close()
    context.close()


@pytest.mark.parametrize(("size", "query"), [((1280, 720), "?lang=ko&big=1"), ((375, 740), "?lang=en")])
def test_every_chapter_keeps_its_picture_in_view(base, browser, size, query):
    """On a projector at 1280x720 every chapter's picture ends above the fold; on a phone it comes
    before the controls and nothing is wider than the screen."""
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    w = Watched(context, base)
    page = w.open(query)
    for i in range(9):
        page.wait_for_selector(READY, timeout=60_000)
        expect(page.get_by_test_id("chapter-title")).to_contain_text(f"{i + 1}.")
        plot = page.get_by_test_id("plot").bounding_box()
        controls = page.locator(".ls-controls").bounding_box()
        assert plot is not None and controls is not None
        if size[0] >= 1280:
            assert plot["y"] + plot["height"] <= size[1], (i, plot)
        else:
            assert plot["y"] < controls["y"], (i, plot, controls)
            assert page.evaluate("document.documentElement.scrollWidth") <= size[0], i
        if i < 8:
            page.get_by_test_id("next").click()
    w.close()
    context.close()
