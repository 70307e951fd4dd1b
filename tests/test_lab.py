"""The notebook widget, executed headlessly in a real kernel (nbclient): it renders and answers a run."""

from __future__ import annotations

import json
import re

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("anywidget")

import gdlab  # noqa: E402  (after the skips: the widget needs anywidget)

CREATE = """\
import gdlab
import gdlab.web
widget = gdlab.web.lab("(b/2-1)^2", rates=[0.5, 5], steps=100, lang="ko")
widget
"""
# What the page sends when it runs: a widget message, answered in the kernel by a widget message.
ASK = """\
import json
sent = []
widget.send = lambda content, buffers=None: sent.append((content, buffers))
payload = {"expression": "(b/2-1)^2", "start": {"b": -10}, "rates": [0.5, 5], "steps": 100, "tol": 1e-8}
widget._handle_custom_msg({"id": 7, "name": "run", "payload": payload}, [])
widget._handle_custom_msg({"id": 8, "name": "parse", "payload": {"expression": "sqr(b)"}}, [])
export = {**payload, "steps": 3, "format": "csv"}
widget._handle_custom_msg({"id": 9, "name": "export", "payload": export}, [])
grid = {**payload, "method": "momentum", "low": 1, "high": 13, "num": 3}
grid.update(momentum_num=2, momentum_high=0.5)
del grid["rates"]
widget._handle_custom_msg({"id": 10, "name": "phase", "payload": grid}, [])
widget._handle_custom_msg({"id": 11, "name": "phase/picture", "payload": {**grid, "format": "svg"}}, [])
run, bad, csv, phase, picture = sent
print(json.dumps({
    "id": run[0]["id"],
    "status": [r["status"] for r in run[0]["result"]["runs"]],
    "bad": [bad[0]["ok"], bad[0]["status"], bad[0]["detail"].splitlines()[0]],
    "csv": [csv[0]["name"], csv[1][0].decode().splitlines()[:2]],
    "state": widget.state,
    "phase": [phase[0]["id"], phase[0]["result"]["regime"], phase[0]["result"]["theory"]["critical_lrs"]],
    "picture": [picture[0]["name"], picture[0]["media"], picture[1][0][:5].decode()],
}))
"""


@pytest.fixture(scope="module")
def executed():
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(CREATE), nbformat.v4.new_code_cell(ASK)]
    client = nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3")
    client.execute()
    return notebook


def test_the_widget_renders_as_a_widget_view(executed):
    outputs = executed.cells[0].outputs
    views = [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert views, outputs
    assert views[0]["data"]["text/plain"].startswith("LabWidget(")


def test_the_widget_answers_a_run_in_the_kernel(executed):
    text = "".join(o.get("text", "") for o in executed.cells[1].outputs if o.output_type == "stream")
    out = json.loads(text)
    assert out["id"] == 7
    assert out["status"] == ["converged", "diverged"]
    assert out["bad"] == [
        False,
        422,
        "unknown function 'sqr'; did you mean sqrt? (allowed: sin, cos, tan, exp, log, "
        "log10, log2, sqrt, abs, tanh, sigmoid, relu, softplus, sum, mean, min, max, clip, arcsin, "
        "arccos, arctan, asin, acos, atan, sinh, cosh, erf)",
    ]
    assert out["csv"] == ["gdlab-lr0.5.csv", ["step,b,loss,grad b", "0,-10,36,-6"]]
    assert (
        out["state"]["e"] == "(b/2-1)^2" and out["state"]["lang"] == "ko" and out["state"]["r"] == [0.5, 5.0]
    )


def test_the_widget_answers_a_phase_diagram_in_the_kernel(executed):
    """The phase view's request, answered by the kernel as the server answers it (gdlab.phase)."""
    text = "".join(o.get("text", "") for o in executed.cells[1].outputs if o.output_type == "stream")
    ask, regime, critical = json.loads(text)["phase"]
    lecture = gdlab.parse("(b/2-1)^2")
    expected = gdlab.phase(lecture, -10.0, lrs=gdlab.rates(1, 13, 3), momenta=[0, 0.5], steps=100, tol=1e-8)
    assert ask == 10
    assert regime == expected.regime.tolist()
    assert critical == [4.0, 6.0]  # 2(1 + b)/L with L = 1/2
    assert json.loads(text)["picture"] == ["gdlab-phase-momentum.svg", "image/svg+xml", "<?xml"]


def test_the_widget_module_is_the_page_s_own_code():
    from gdlab.web._files import STATIC
    from gdlab.web._widget import bundle

    text = bundle()
    assert "function mount(root, backend, options = {})" in text
    assert (STATIC / "lab.js").read_text().count("\n") < text.count("\n")
    assert 'from "./' not in text  # the siblings are joined in, not imported
    assert text.count("export default") == 1


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"rates": [-1]}, "rates.0: -1 must be more than 0"),
        ({"steps": 10**9}, "steps: 1000000000 must be 100000 or less"),
        ({"method": "adamm"}, "method: 'adamm' is unknown: did you mean 'adam'?"),
        ({"start": {"c": 1.0}}, "start names c, which is not a parameter"),
        ({"expression": "sqr(b)"}, "did you mean sqrt?"),
        ({"view": "table"}, "view must be 'descent', 'sweep' or 'phase'"),
    ],
)
def test_the_widget_checks_its_settings_as_the_page_does(options, words):
    settings = {"expression": "(b/2-1)^2", **options}
    with pytest.raises(gdlab.InputError, match=re.escape(words)):
        gdlab.lab(**settings)
