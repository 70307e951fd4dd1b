"""A self-contained HTML player of an animation: play, pause, step slider, nothing fetched.

The first frame is stored whole; every later frame only as the pixels that
changed since the one before, cropped to their rectangle, with the unchanged
pixels transparent and a palette of just the colours used. The player paints
these over each other on a canvas, so a frame shows exactly what a whole
frame would, at a fraction of the size (a descent moves a few small artists).
"""

from __future__ import annotations

import base64
import html
import io
import json
import secrets

import numpy as np

from gdlab._progress import progress
from gdlab.render._palette import changed_box, fixed_palette, packed_pixels, quantize

# Every this many frames the player keeps a copy of the canvas, so that a jump
# back paints at most this many changes.
SAVE_EVERY = 25


def _png(image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def _change(rgb: np.ndarray, changed: np.ndarray, palette) -> bytes:
    """The changed pixels of ``rgb`` as a PNG: index 0 transparent, then the colours used."""
    from PIL import Image

    indices = np.asarray(quantize(rgb, palette))
    used, local = np.unique(indices[changed], return_inverse=True)
    out = np.zeros(indices.shape, dtype=np.uint8)
    out[changed] = local.ravel() + 1
    table = np.asarray(palette.getpalette(), dtype=np.uint8).reshape(-1, 3)[used]
    image = Image.fromarray(out, mode="P")
    image.putpalette([0, 0, 0, *table.ravel().tolist()])
    image.info["transparency"] = 0
    return _png(image)


def encode_frames(animation) -> tuple[bytes, list[tuple[int, int, bytes] | None]]:
    """The first frame as a PNG, and for each later frame ``(left, top, png)`` of what changed.

    A frame identical to the one before is ``None``. Colours are those of one
    palette fixed from the first frame.
    """
    palette = first = None
    previous: np.ndarray | None = None
    changes: list[tuple[int, int, bytes] | None] = []
    for rgba in progress(animation.frames(), len(animation), "encoding frames"):
        pixels = packed_pixels(rgba)
        if previous is None:  # the first frame
            palette = fixed_palette(np.ascontiguousarray(rgba[..., :3]), colors=255)
            first = _png(quantize(rgba[..., :3], palette))
        else:
            box = changed_box(pixels, previous)
            if box is None:
                changes.append(None)
            else:
                left, top, right, bottom = box
                crop = np.s_[top:bottom, left:right]
                changed = pixels[crop] != previous[crop]
                changes.append((left, top, _change(rgba[crop][..., :3], changed, palette)))
        previous = pixels.copy()
    assert first is not None  # an animation has at least one frame
    return first, changes


_PLAYER = """<div class="gdlab-player" id="{uid}"
 style="font-family:sans-serif;max-width:{width}px">
<img id="{uid}-img" alt="{alt}" style="width:100%;height:auto;display:block"
 src="data:image/png;base64,{first}">
<canvas id="{uid}-canvas" width="{width}" height="{height}" role="img" aria-label="{alt}"
 style="width:100%;height:auto;display:none"></canvas>
<div style="display:flex;align-items:center;gap:6px;flex-wrap:wrap;margin-top:4px">
<button type="button" id="{uid}-first" title="{w_first}">|&#x25C0;&#xFE0E;</button>
<button type="button" id="{uid}-prev" title="{w_previous}">&#x25C0;&#xFE0E;</button>
<button type="button" id="{uid}-play" title="{w_play_or_pause}">&#x25B6;&#xFE0E; {w_play}</button>
<button type="button" id="{uid}-next" title="{w_next}">&#x25B6;&#xFE0E;</button>
<button type="button" id="{uid}-last" title="{w_last}">&#x25B6;&#xFE0E;|</button>
<input type="range" id="{uid}-slider" min="0" max="{last}" value="0" style="flex:1;min-width:120px"
 aria-label="{w_frame}">
<span id="{uid}-label" style="min-width:9em;font-variant-numeric:tabular-nums"></span>
<label>{w_speed} <select id="{uid}-speed"><option value="0.25">0.25x</option>
<option value="0.5">0.5x</option><option value="1" selected>1x</option>
<option value="2">2x</option><option value="4">4x</option></select></label>
<label><input type="checkbox" id="{uid}-loop" checked> {w_loop}</label>
</div>
<script>
(function() {{
  // changes[k] turns frame k into frame k + 1: [left, top, PNG] painted over it, or 0.
  var changes = {changes};
  var steps = {steps};
  var fps = {fps};
  var every = {every};
  var id = "{uid}", count = changes.length + 1, i = 0, timer = null;
  var words = {words};
  function el(name) {{ return document.getElementById(id + "-" + name); }}
  var first = el("img"), canvas = el("canvas"), ctx = canvas.getContext("2d");
  var pictures = [], saved = {{}}, drawn = -1, waiting = 1;
  function ready() {{
    waiting -= 1;
    if (waiting > 0) {{ return; }}
    first.style.display = "none";
    canvas.style.display = "block";
    show(i);
  }}
  changes.forEach(function(c, k) {{
    if (!c) {{ return; }}
    waiting += 1;
    pictures[k] = new Image();
    pictures[k].onload = ready;
    pictures[k].src = "data:image/png;base64," + c[2];
  }});
  function paint(k) {{
    var from = 0;
    for (var s in saved) {{ if (+s <= k && +s > from) {{ from = +s; }} }}
    if (drawn < 0 || drawn > k || from > drawn) {{
      ctx.drawImage(from ? saved[from] : first, 0, 0);
      drawn = from;
    }}
    for (; drawn < k; drawn++) {{
      var c = changes[drawn];
      if (c) {{ ctx.drawImage(pictures[drawn], c[0], c[1]); }}
      if ((drawn + 1) % every === 0 && !saved[drawn + 1]) {{
        var copy = document.createElement("canvas");
        copy.width = canvas.width;
        copy.height = canvas.height;
        copy.getContext("2d").drawImage(canvas, 0, 0);
        saved[drawn + 1] = copy;
      }}
    }}
  }}
  function show(k) {{
    i = Math.max(0, Math.min(count - 1, k));
    if (waiting === 0) {{ paint(i); }}
    el("slider").value = i;
    var where = " (" + words.frame + " " + (i + 1) + "/" + count + ")";
    el("label").textContent = words.step + " " + steps[i] + where;
  }}
  function stop() {{
    clearInterval(timer); timer = null; el("play").innerHTML = "&#x25B6;&#xFE0E; " + words.play;
  }}
  function tick() {{
    if (i + 1 < count) {{ show(i + 1); }}
    else if (el("loop").checked) {{ show(0); }}
    else {{ stop(); }}
  }}
  function play() {{
    if (timer) {{ stop(); return; }}
    if (i + 1 >= count) {{ show(0); }}
    timer = setInterval(tick, 1000 / (fps * parseFloat(el("speed").value)));
    el("play").innerHTML = "|| " + words.pause;
  }}
  el("play").onclick = play;
  el("first").onclick = function() {{ stop(); show(0); }};
  el("last").onclick = function() {{ stop(); show(count - 1); }};
  el("prev").onclick = function() {{ stop(); show(i - 1); }};
  el("next").onclick = function() {{ stop(); show(i + 1); }};
  el("slider").oninput = function() {{ stop(); show(parseInt(this.value, 10)); }};
  el("speed").onchange = function() {{ if (timer) {{ stop(); play(); }} }};
  if (first.complete && first.naturalWidth) {{ ready(); }}
  else {{ first.onload = ready; }}
  show(0);
}})();
</script>
</div>"""


def _text(png: bytes) -> str:
    return base64.b64encode(png).decode("ascii")


def html_player(animation, *, fps: float | None = None) -> str:
    """The animation as one HTML fragment: every frame inline, nothing fetched."""
    from gdlab.render._words import PLAYER_WORDS

    words = PLAYER_WORDS[animation.scene.lang]
    first, changes = encode_frames(animation)
    packed = [0 if c is None else [c[0], c[1], _text(c[2])] for c in changes]
    width, height = animation.size
    return _PLAYER.format(
        uid=f"gdlab-{secrets.token_hex(4)}",
        width=width,
        height=height,
        alt=html.escape(f"{animation.description}, {words['frames'].format(n=len(changes) + 1)}", quote=True),
        words=json.dumps({k: words[k] for k in ("step", "frame", "play", "pause")}, ensure_ascii=False),
        **{f"w_{key.replace(' ', '_')}": html.escape(value, quote=True) for key, value in words.items()},
        first=_text(first),
        last=len(changes),
        changes=json.dumps(packed, separators=(",", ":")),
        steps=json.dumps([int(s) for s in animation.steps], separators=(",", ":")),
        fps=float(fps or animation.fps),
        every=SAVE_EVERY,
    )
