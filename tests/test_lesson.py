"""The lesson (gdlab._lesson): every chapter's numbers against the lecture's, every task's check,
its endpoints, the notebook it exports (executed), and the widget's answers."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

import gdlab
from gdlab._lesson import CHAPTERS, chapter, contents, live, notebook, notebook_text

# A reader's answer to each chapter's task: settings that meet it (the lecture's own do not).
SOLUTIONS = {
    "data": {"b1": "2.5"},
    "matrix": {"b0": "10", "b1": "2.2"},
    "closed": {"n": "10000"},
    "grid": {"num": "6"},
    "sign": {"steps": "700"},
    "descent": {"lr": "0.5"},
    "animation": {"lr": "2"},
    "rate": {"lr": "3"},
    "homework": {"batch": "1"},
}


def close_to_lecture(label: str, ours: str, printed: str) -> bool:
    """float32 rows within 2 float32 spacings of the print; float64 rows to 1e-6 relative
    (the printed sales carry 8 decimals); numbers near zero (rounding) both under 1e-9."""
    a, b = float(ours), float(printed)
    if "float32" in label:
        return abs(np.float32(a) - np.float32(b)) <= 2 * np.spacing(np.float32(abs(b)))
    if abs(b) < 1e-9:
        return abs(a) < 1e-9
    return abs(a - b) <= 1e-6 * max(1.0, abs(b))


def test_there_is_a_chapter_per_step_of_the_lecture_with_a_task_and_a_solution():
    assert [c.key for c in CHAPTERS] == list(SOLUTIONS)
    for c in CHAPTERS:
        for text in (c.title, c.prose, c.task, c.hint, c.note):
            assert text["ko"] and text["en"] and text["ko"] != text["en"], c.key
        assert c.tf_code and ("$" in c.code or not c.controls)


@pytest.mark.parametrize("key", list(SOLUTIONS))
def test_each_chapter_shows_the_lectures_values_beside_gdlabs(key):
    found = live(key, lang="en")
    printed = [r for r in found["rows"] if r["lecture"] is not None]
    assert printed or key == "homework"  # the lecture printed nothing for its homework
    for row in printed:
        assert close_to_lecture(row["label"], row["ours"], row["lecture"]), row
    for row in found["rows"]:
        assert row["ours"] == row["yours"]  # at the lecture's settings
    assert found["picture"]["traces"] and not found["task"]["met"]


def test_the_lectures_exact_numbers():
    rows = {k: [r["ours"] for r in live(k)["rows"]] for k in ("grid", "sign", "descent")}
    assert rows["grid"] == ["59", "1.9191919191919187", "0.0036730945821854847"]
    assert rows["sign"][:3] == ["12.25", "12.215025", "12.285025"]
    assert rows["descent"][0] == "-9.040152"  # float32, as TensorFlow printed it
    homework = [float(v) for v in (r["ours"] for r in live("homework")["rows"])]
    assert homework[0] == pytest.approx(1 - 4 * (1 - 2 * 0.01 / 3) ** 100, abs=1e-9)
    assert homework[2] == pytest.approx(homework[0], abs=1e-6)  # all 20 samples a step: gradient descent


@pytest.mark.parametrize(("key", "settings"), SOLUTIONS.items())
def test_each_task_is_met_by_its_solution_and_says_why(key, settings):
    found = live(key, settings, "ko")
    assert found["task"]["met"], found["task"]
    assert re.search("[가-힣]", found["task"]["why"])
    assert any(r["yours"] != r["ours"] for r in found["rows"]) or key == "closed"


def test_the_tasks_say_what_is_still_missing():
    assert "fewer points" in live("grid", {"num": "11"}, "en")["task"]["why"]  # within 0.01, not the fewest
    assert not live("grid", {"num": "5"}, "en")["task"]["met"]
    assert "runs away" in live("rate", {"lr": "4.5"}, "en")["task"]["why"]
    assert "one side" in live("rate", {"lr": "1"}, "en")["task"]["why"]
    assert not live("homework", {"batch": "1", "lr": "0.2"})["task"]["met"]  # too noisy
    assert "set it to 1" in live("homework", {"batch": "2"}, "en")["task"]["why"]


def test_settings_are_checked_and_never_evaluated():
    for key, settings, words in (
        ("grid", {"num": "1"}, "between 2 and 10000"),
        ("grid", {"num": "6.5"}, "whole number"),
        ("grid", {"nmu": "6"}, "no setting nmu"),
        ("descent", {"lr": "__import__('os')"}, "lr:"),
        ("descent", {"steps": "1e300"}, "between"),
        ("homework", {"batch": "21"}, "between 1 and 20"),
        ("homework", {"batch": "3"}, "divide the 20 samples"),
    ):
        with pytest.raises(gdlab.InputError, match=words):
            live(key, settings)
    with pytest.raises(gdlab.InputError, match="did you mean grid"):
        chapter("gird")
    with pytest.raises(gdlab.InputError, match="lang"):
        live("grid", lang="fr")


def test_the_code_shown_is_the_readers_settings_as_typed():
    code = chapter("descent").code_at({"lr": "0.01/6", "start": "-3", "steps": "1e3"})
    assert "descend(loss, -3.0, lr=0.01/6, steps=1000," in code
    assert "lr=0.5" in live("descent", {"lr": "0.5"})["code"]
    assert "lr=3.141592653589793" in chapter("rate").code_at({"lr": "pi"})  # Python has no pi: the value


def test_contents_are_in_both_languages():
    ko, en = contents("ko"), contents("en")
    assert len(ko["chapters"]) == len(en["chapters"]) == 9
    assert ko["ui"]["notebook"] == "노트북으로 내려받기" and en["ui"]["notebook"] == "Download as a notebook"
    assert [c["tf_code"] for c in ko["chapters"]] == [c["tf_code"] for c in en["chapters"]]


def _outputs(book) -> list[str]:
    return [
        "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        for cell in book.cells
        if cell.cell_type == "code"
    ]


def test_the_notebook_runs_with_gdlab_and_prints_the_lectures_values():
    nbclient = pytest.importorskip("nbclient")
    nbformat = pytest.importorskip("nbformat")
    book = nbformat.reads(notebook_text("ko"), as_version=4)
    nbformat.validate(book)
    nbclient.NotebookClient(book, timeout=300, kernel_name="python3").execute()
    out = _outputs(book)
    assert len(out) == 9
    assert out[0].splitlines()[0] == "55.4183651"
    g0, g1 = map(float, out[0].splitlines()[1].split())
    assert close_to_lecture("float32", str(g0), "-126.78691")
    assert close_to_lecture("float32", str(g1), "-3208.8396")
    matrix = [float(v) for v in re.findall(r"-?\d+\.\d+", out[1])]
    printed = ["-126.78690968", "-3208.83947922"] * 2
    assert all(close_to_lecture("", str(v), p) for v, p in zip(matrix, printed, strict=True))
    assert abs(float(re.findall(r"\S+", out[2].splitlines()[1].strip("[]"))[0])) < 1e-9  # zero at beta_hat
    assert out[3] == "59 1.9191919191919187\n0.0036730945821854847\n"
    assert out[4].splitlines()[0] == "12.25 12.215025 12.285025"
    steps = dict(line.split() for line in out[5].splitlines())
    assert steps["100"] == "-9.040152"
    assert close_to_lecture("float32", steps["1000"], "-3.2133687")
    assert close_to_lecture("float32", steps["10000"], "1.997125")
    assert out[6].split()[0] == "-9.040152"
    assert out[7].splitlines()[:2] == ["-6.0 -3.0", "4.0"]
    assert float(out[8].splitlines()[0]) == pytest.approx(1 - 4 * (1 - 2 * 0.01 / 3) ** 100, abs=1e-12)
    animations = [c for c in book.cells if c.cell_type == "code" and "gdlab.animate" in c.source]
    assert len(animations) == 2
    assert all(any("text/html" in o.get("data", {}) for o in c.outputs) for c in animations)
    assert not [o for c in book.cells for o in c.get("outputs", []) if o.get("name") == "stderr"]


def test_the_notebook_in_english_has_the_same_code():
    ko, en = notebook("ko"), notebook("en")
    assert [c.source for c in ko.cells if c.cell_type == "code"] == [
        c.source for c in en.cells if c.cell_type == "code"
    ]
    assert "Grid search" in en.cells[7].source and "그리드 서치" in ko.cells[7].source


def test_the_endpoints():
    pytest.importorskip("fastapi")
    httpx = pytest.importorskip("httpx")
    from gdlab.web import create_app
    from gdlab.web._server import running

    with running(create_app()) as url, httpx.Client(base_url=url, timeout=60) as session:
        page = session.get("/lesson")
        assert page.status_code == 200 and "lesson-page.js" in page.text
        assert session.get("/api/lesson", params={"lang": "en"}).json()["ui"]["task"] == "Try this"
        answer = session.post("/api/lesson/grid", json={"settings": {"num": 6}, "lang": "en"})
        assert answer.status_code == 200 and answer.json()["task"]["met"]
        refused = session.post("/api/lesson/grid", json={"settings": {"num": "1"}})
        assert refused.status_code == 422 and "between 2 and 10000" in refused.json()["detail"]
        assert session.post("/api/lesson/nope", json={}).status_code == 422
        assert session.post("/api/lesson/grid", json={"settings": {"x": "1" * 41}}).status_code == 422
        book = session.get("/api/lesson/notebook", params={"lang": "en"})
        assert book.status_code == 200
        assert 'filename="gdlab-lesson-en.ipynb"' in book.headers["content-disposition"]
        assert json.loads(book.text)["nbformat"] == 4


def test_the_widget_answers_from_the_same_lesson():
    pytest.importorskip("anywidget")
    from gdlab.web._widget import lesson_bundle

    widget = gdlab.lesson("grid", lang="en", large=True)
    assert widget.state == "?lang=en&c=grid&big=1"
    reply, _ = widget.answer({"id": 1, "name": "live", "payload": {"key": "grid", "settings": {"num": "6"}}})
    assert reply["ok"] and reply["result"]["task"]["met"]
    reply, files = widget.answer({"id": 2, "name": "notebook", "payload": {"lang": "ko"}})
    assert reply["file"] and json.loads(files[0])["nbformat"] == 4
    reply, _ = widget.answer({"id": 3, "name": "live", "payload": {"key": "grid", "settings": {"num": "1"}}})
    assert reply["status"] == 422
    assert "import " not in lesson_bundle().split("gdlab-lesson")[-1].split("function h(")[0]
    with pytest.raises(gdlab.InputError):
        gdlab.lesson("gird")


def test_a_reader_typing_many_sizes_compiles_a_bounded_number_of_times():
    """Each grid size, sample size or number of epochs a reader types must not keep a compiled
    function of its own: the grid is padded to a power of two, the closed form's gradient reads
    X'X and X'y, and SGD runs the most epochs once per batch size and shows the start."""
    import time

    for key, setting, values in (
        ("grid", "num", range(2000, 2040)),
        ("closed", "n", range(500, 540)),
        ("homework", "epochs", range(1, 41)),
    ):
        live(key, {setting: values[0]})
        start = time.perf_counter()
        for value in values[1:]:
            live(key, {setting: value})
        assert time.perf_counter() - start < 10, key  # a compile each would take about 0.2-1.6 s


@pytest.mark.parametrize("key", list(SOLUTIONS))
def test_every_setting_at_its_limits_gives_an_answer(key):
    """Each setting at its lowest and highest, alone and all together: an answer (a run that
    diverges or stops early included) or an InputError, never anything else."""
    controls = chapter(key).controls
    trials = [{c.name: getattr(c, end)} for c in controls for end in ("low", "high")]
    trials += [{c.name: getattr(c, end) for c in controls} for end in ("low", "high")]
    for settings in trials:
        try:
            found = live(key, settings)
        except gdlab.InputError:
            continue
        assert json.loads(json.dumps(found, allow_nan=False))["task"]["why"], settings
