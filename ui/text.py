"""User text inside Markdown: shown as typed, never as formatting, links or images."""

from __future__ import annotations

import re

__all__ = ["md"]

_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=])")


def md(text: object) -> str:
    """``text`` escaped for ``st.markdown``: one line, every Markdown or Streamlit
    directive character (``*``, ``[``, ``:`` ...) backslash-escaped, so ``**x**`` shows
    as typed, and links, images and ``:red[...]`` never render."""
    one_line = re.sub(r"\s+", " ", str(text))
    return _SPECIAL.sub(r"\\\1", one_line).replace("/", "\\/")
