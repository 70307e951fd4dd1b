"""Fonts that can draw Hangul, so Korean labels render instead of empty boxes."""

from __future__ import annotations

import functools
import re
import warnings
from pathlib import Path

HANGUL = re.compile("[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")
# Debian: fonts-nanum (NanumGothic) or fonts-noto-cjk (Noto Sans CJK KR).
_PREFERRED = (
    "NanumGothic",
    "NanumBarunGothic",
    "Noto Sans CJK KR",
    "Noto Sans KR",
    "Noto Sans CJK JP",
    "Source Han Sans KR",
    "UnDotum",
    "Baekmuk Gulim",
    "Malgun Gothic",
    "Apple SD Gothic Neo",
    "AppleGothic",
)
_FILE_HINTS = (
    "nanum",
    "notosanscjk",
    "notosanskr",
    "sourcehansans",
    "undotum",
    "baekmuk",
    "malgun",
    "applegothic",
    "applesdgothic",
)


class MissingFontWarning(UserWarning):
    """No installed font can draw Hangul: Korean text will show as boxes."""


def _known(names: set[str]) -> str | None:
    return next((name for name in _PREFERRED if name in names), None)


@functools.cache
def cjk_font() -> str | None:
    """The name of an installed font with Hangul, or ``None``.

    Fonts installed after matplotlib built its font cache are found by file name
    in the system font folders and registered.
    """
    from matplotlib import font_manager

    manager = font_manager.fontManager
    found = _known({f.name for f in manager.ttflist})
    if found:
        return found
    for path in font_manager.findSystemFonts():
        plain = Path(path).name.lower().replace("-", "").replace("_", "")
        if any(hint in plain for hint in _FILE_HINTS):
            manager.addfont(path)
    return _known({f.name for f in manager.ttflist})


def font_family() -> list[str]:
    """matplotlib's font list: DejaVu Sans, then a Hangul font when there is one.

    matplotlib falls back glyph by glyph along this list, so Latin text keeps
    DejaVu Sans and Hangul comes from the second font.
    """
    font = cjk_font()
    return ["DejaVu Sans", font] if font else ["DejaVu Sans"]


_warned = False


def check_hangul(texts: list[str]) -> bool:
    """Warn once if any text has Hangul and no font can draw it; True if one is missing."""
    global _warned
    if cjk_font() is not None or not any(HANGUL.search(t) for t in texts if t):
        return False
    if not _warned:
        _warned = True
        # This warning replaces matplotlib's, which comes once per missing glyph.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        warnings.warn(
            "no installed font can draw Hangul, so Korean labels will show as boxes; "
            "install one, e.g. Debian's fonts-nanum (apt-get install fonts-nanum)",
            MissingFontWarning,
            stacklevel=3,
        )
    return True


def drawn_language(lang: str, texts: list[str]) -> str:
    """The language a picture is drawn in: ``lang`` (one of :data:`gdlab._checks.LANGUAGES`), or
    English where it is Korean and no installed font draws Hangul (warned of once, by
    :func:`check_hangul`, which also warns of Korean ``texts`` in an English picture): English
    words rather than boxes. One rule for every picture."""
    from gdlab._checks import LANGUAGES, unknown

    if lang not in LANGUAGES:
        raise unknown("lang", lang, LANGUAGES)
    missing = check_hangul(texts)
    return "en" if missing and lang == "ko" else lang
