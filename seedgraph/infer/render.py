"""Text as it may appear in a generated module: one line, no control characters,
safe inside a comment or a docstring (names come from a live database)."""

from __future__ import annotations

__all__ = ["comment", "docline", "wrap"]


def _printable(text: str) -> str:
    """*text* on one line, its control characters (a name's NUL, say) shown as '?'."""
    return "".join(ch if ch.isprintable() else "?" for ch in " ".join(text.split()))


def comment(text: str) -> str:
    return _printable(text)


def docline(text: str) -> str:
    return _printable(text).replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


def wrap(text: str, width: int = 88) -> list[str]:
    words, lines, line = docline(text).split(" "), [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}" if line else w
    return [*lines, line] if line else lines
