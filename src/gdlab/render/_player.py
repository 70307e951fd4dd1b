"""A self-contained HTML player of an animation: play, pause, step slider, nothing fetched."""

from __future__ import annotations

import base64
import io
import json
import secrets

import numpy as np

from gdlab.render._palette import fixed_palette
from gdlab.render._progress import progress


def _png_bytes(rgb: np.ndarray, palette) -> bytes:
    from PIL import Image

    image = Image.fromarray(rgb).quantize(palette=palette, dither=Image.Dither.NONE)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _encoded_frames(animation) -> list[str]:
    palette, encoded = None, []
    for rgba in progress(animation.frames(), len(animation), "encoding frames"):
        rgb = np.ascontiguousarray(rgba[..., :3])
        if palette is None:
            palette = fixed_palette(rgb)
        encoded.append(base64.b64encode(_png_bytes(rgb, palette)).decode("ascii"))
    return encoded


_PLAYER = """<div class="gdlab-player" id="{uid}"
 style="font-family:sans-serif;max-width:{width}px">
<img id="{uid}-img" alt="{alt}" style="width:100%;height:auto;display:block"
 src="data:image/png;base64,{first}">
<div style="display:flex;align-items:center;gap:6px;flex-wrap:wrap;margin-top:4px">
<button type="button" id="{uid}-first" title="first frame">|&#x25C0;&#xFE0E;</button>
<button type="button" id="{uid}-prev" title="previous frame">&#x25C0;&#xFE0E;</button>
<button type="button" id="{uid}-play" title="play / pause">&#x25B6;&#xFE0E; play</button>
<button type="button" id="{uid}-next" title="next frame">&#x25B6;&#xFE0E;</button>
<button type="button" id="{uid}-last" title="last frame">&#x25B6;&#xFE0E;|</button>
<input type="range" id="{uid}-slider" min="0" max="{last}" value="0" style="flex:1;min-width:120px"
 aria-label="frame">
<span id="{uid}-label" style="min-width:9em;font-variant-numeric:tabular-nums"></span>
<label>speed <select id="{uid}-speed"><option value="0.25">0.25x</option>
<option value="0.5">0.5x</option><option value="1" selected>1x</option>
<option value="2">2x</option><option value="4">4x</option></select></label>
<label><input type="checkbox" id="{uid}-loop" checked> loop</label>
</div>
<script>
(function() {{
  var frames = {frames};
  var steps = {steps};
  var fps = {fps};
  var id = "{uid}", i = 0, timer = null;
  function el(name) {{ return document.getElementById(id + "-" + name); }}
  function show(k) {{
    i = Math.max(0, Math.min(frames.length - 1, k));
    el("img").src = "data:image/png;base64," + frames[i];
    el("slider").value = i;
    el("label").textContent =
      "step " + steps[i] + " (frame " + (i + 1) + "/" + frames.length + ")";
  }}
  function stop() {{
    clearInterval(timer); timer = null; el("play").innerHTML = "&#x25B6;&#xFE0E; play";
  }}
  function tick() {{
    if (i + 1 < frames.length) {{ show(i + 1); }}
    else if (el("loop").checked) {{ show(0); }}
    else {{ stop(); }}
  }}
  function play() {{
    if (timer) {{ stop(); return; }}
    if (i + 1 >= frames.length) {{ show(0); }}
    timer = setInterval(tick, 1000 / (fps * parseFloat(el("speed").value)));
    el("play").innerHTML = "|| pause";
  }}
  el("play").onclick = play;
  el("first").onclick = function() {{ stop(); show(0); }};
  el("last").onclick = function() {{ stop(); show(frames.length - 1); }};
  el("prev").onclick = function() {{ stop(); show(i - 1); }};
  el("next").onclick = function() {{ stop(); show(i + 1); }};
  el("slider").oninput = function() {{ stop(); show(parseInt(this.value, 10)); }};
  el("speed").onchange = function() {{ if (timer) {{ stop(); play(); }} }};
  show(0);
}})();
</script>
</div>"""


def html_player(animation, *, fps: float | None = None) -> str:
    """The animation as one HTML fragment: every frame inline, nothing fetched."""
    frames = _encoded_frames(animation)
    return _PLAYER.format(
        uid=f"gdlab-{secrets.token_hex(4)}",
        width=animation.size[0],
        alt=f"gradient descent animation, {len(frames)} frames",
        first=frames[0],
        last=len(frames) - 1,
        frames=json.dumps(frames),
        steps=json.dumps([int(s) for s in animation.steps]),
        fps=float(fps or animation.fps),
    )
