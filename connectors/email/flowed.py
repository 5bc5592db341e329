"""Read ``text/plain; format=flowed`` (RFC 3676) as the paragraphs the sender wrote.

Mail clients such as Thunderbird and Apple Mail wrap long lines at about 72
characters and mark each wrap with a trailing space ("soft" line break). Read
literally, every paragraph comes out chopped into short lines. Here soft breaks
are joined again, space-stuffing is undone, quote depth is respected (a soft
break joins only lines of the same depth), and the signature separator "-- "
stays a line of its own. ``DelSp=yes`` deletes the space of each soft break.
"""

from __future__ import annotations

_SIGNATURE = "-- "


def unflow(text: str, *, delsp: bool = False) -> str:
    """The text with soft line breaks joined; lines end in ``\\n`` (as decoded)."""
    out: list[str] = []
    paragraph: list[str] = []
    depth_of_paragraph = 0
    for raw_line in text.split("\n"):
        depth = len(raw_line) - len(raw_line.lstrip(">"))
        line = raw_line[depth:]
        if line.startswith(" "):  # space-stuffing (or the space after the quote marks)
            line = line[1:]
        if paragraph and depth != depth_of_paragraph:  # a soft break cannot cross depths
            out.append(_quoted(depth_of_paragraph, "".join(paragraph)))
            paragraph = []
        depth_of_paragraph = depth
        soft = line.endswith(" ") and line != _SIGNATURE
        if soft:
            paragraph.append(line[:-1] if delsp else line)
            continue
        paragraph.append(line)
        out.append(_quoted(depth, "".join(paragraph)))
        paragraph = []
    if paragraph:
        out.append(_quoted(depth_of_paragraph, "".join(paragraph)))
    return "\n".join(out)


def _quoted(depth: int, line: str) -> str:
    return f"{'>' * depth} {line}" if depth else line
