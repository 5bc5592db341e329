"""HTML bodies of emails: sanitised for display (nh3) and rendered as readable plain text.

``sanitize_html`` keeps formatting, tables, links and images; a link gets
``rel="noopener noreferrer"``; an image keeps its source only when it is a
``cid:`` part of the same email, a ``data:image/`` URL or an ``https:`` URL
(blocking remote images until the agent asks is up to the display). Scripts,
styles, event handlers, forms and ``javascript:`` URLs are removed.

``html_to_text`` renders the HTML with the stdlib parser: blocks become lines,
``<li>`` becomes ``- ``, a link becomes ``text (url)``, ``<blockquote>`` lines
get a ``> `` prefix so that quoted history can be recognised like in plain text.
"""

from __future__ import annotations

import html as html_lib
import re
from html.parser import HTMLParser

import nh3

_TAGS = {
    "a", "abbr", "b", "big", "blockquote", "br", "caption", "center", "cite", "code", "col",
    "colgroup", "dd", "del", "div", "dl", "dt", "em", "font", "h1", "h2", "h3", "h4", "h5",
    "h6", "hr", "i", "img", "ins", "kbd", "li", "ol", "p", "pre", "q", "s", "small", "span",
    "strike", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr",
    "tt", "u", "ul",
}  # fmt: skip
_CELL = {"align", "valign", "colspan", "rowspan", "width"}
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": _CELL,
    "th": _CELL,
    "table": {"align", "width", "border", "cellpadding", "cellspacing"},
    "ol": {"start"},
    "font": {"color"},
    "blockquote": {"cite"},
}
_URL_SCHEMES = {"http", "https", "mailto", "tel", "cid", "data"}
_IMAGE_SOURCE = re.compile(r"(cid:|https:|data:image/)", re.IGNORECASE)
_LINK_TARGET = re.compile(r"(https?:|mailto:|tel:)", re.IGNORECASE)

_SKIPPED = {"script", "style", "head", "title", "template", "noscript"}
_BLOCKS = {
    "address", "article", "aside", "center", "dd", "div", "dl", "dt", "figure", "footer",
    "form", "header", "hr", "main", "nav", "ol", "section", "table", "tr", "ul",
}  # fmt: skip
_PARAGRAPHS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote"}
_LISTS = {"ul", "ol"}
_MAX_OPEN_LINKS = 16  # unclosed <a> tags beyond this are ignored (each collects its text)
_WSP = re.compile(r"[ \t\r\n\f\v\u00a0]+")
_EXTRA_BLANK_LINES = re.compile(r"\n{4,}")


def sanitize_html(html: str) -> str:
    """``html`` reduced to safe formatting for display next to the ticket."""
    return nh3.clean(
        html.replace("\x00", ""),
        tags=_TAGS,
        clean_content_tags=_SKIPPED,
        attributes=_ATTRIBUTES,
        attribute_filter=_filter_attribute,
        url_schemes=_URL_SCHEMES,
        link_rel="noopener noreferrer",
        url_relative="deny",
        strip_comments=True,
    )


def html_to_text(html: str) -> str:
    """A readable plain-text rendering of ``html``; never raises."""
    renderer = _TextRenderer()
    try:
        renderer.feed(html.replace("\x00", ""))
        renderer.close()
        text = renderer.text()
    except Exception:  # the stdlib parser can assert on broken markup: strip tags instead
        text = html_lib.unescape(re.sub(r"<[^<>]*>", " ", html))
        text = "\n".join(_WSP.sub(" ", line).strip() for line in text.splitlines())
    return _EXTRA_BLANK_LINES.sub("\n\n\n", text).strip()


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src":
        return value if _IMAGE_SOURCE.match(value.strip()) else None
    if tag == "a" and attribute == "href" and value.strip().lower().startswith("data:"):
        return None
    return value


class _TextRenderer(HTMLParser):
    """Collects the text of an HTML document line by line."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._lines: list[str] = []
        self._parts: list[str] = []  # the current line, in pieces (joining once is linear)
        self._has_text = False
        self._space = True  # the current line is empty or ends with a space
        self._skip = 0
        self._pre = 0
        self._quote = 0
        self._lists = 0
        self._links: list[tuple[str, list[str]]] = []

    def text(self) -> str:
        self._end_line()
        return "\n".join(line.rstrip() for line in self._lines)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self._skip += 1
        elif self._skip:
            return
        elif tag == "br":
            self._end_line(force=True)
        elif tag in _PARAGRAPHS:
            self._block(blank=True)
            self._pre += tag == "pre"
            self._quote += tag == "blockquote"
        elif tag in _BLOCKS:
            self._block(blank=False)
            self._lists += tag in _LISTS
        elif tag == "li":
            self._block(blank=False)
            self._parts = ["  " * max(self._lists - 1, 0) + "- "]
        elif tag in ("td", "th"):
            self._write(" ")
        elif tag == "img":
            alt = dict(attrs).get("alt") or ""
            if alt.strip():
                self._write(f"[{alt.strip()}]")
        elif tag == "a" and len(self._links) < _MAX_OPEN_LINKS:
            self._links.append((dict(attrs).get("href") or "", []))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            return
        self.handle_starttag(tag, attrs)
        if tag not in ("br", "img", "hr"):
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self._skip = max(self._skip - 1, 0)
        elif self._skip:
            return
        elif tag in _PARAGRAPHS:
            self._block(blank=True)
            if tag == "pre":
                self._pre = max(self._pre - 1, 0)
            if tag == "blockquote":
                self._quote = max(self._quote - 1, 0)
        elif tag in _BLOCKS or tag == "li":
            self._block(blank=False)
            if tag in _LISTS:
                self._lists = max(self._lists - 1, 0)
        elif tag == "a" and self._links:
            href, words = self._links.pop()
            label = _WSP.sub(" ", "".join(words)).strip()
            if label and _LINK_TARGET.match(href.strip()) and _differs(href.strip(), label):
                self._write(f" ({href.strip()})")

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        for _, words in self._links:
            words.append(data)
        if self._pre:
            first, *rest = data.replace("\r\n", "\n").split("\n")
            self._add(first)
            for line in rest:
                self._end_line(force=True)
                self._add(line)
            return
        self._write(_WSP.sub(" ", data))

    def _write(self, text: str) -> None:
        self._add(text.lstrip(" ") if self._space else text)

    def _add(self, text: str) -> None:
        if text:
            self._parts.append(text)
            self._has_text = self._has_text or not text.isspace()
            self._space = text.endswith(" ")

    def _block(self, *, blank: bool) -> None:
        self._end_line()
        if blank and self._lines and self._lines[-1].strip(" >"):
            self._push("")

    def _end_line(self, *, force: bool = False) -> None:
        if self._has_text or force:
            line = "".join(self._parts)
            self._push(line if self._pre else line.rstrip())
        self._parts, self._has_text, self._space = [], False, True

    def _push(self, line: str) -> None:
        if not self._lines and not line.strip():
            return  # no blank lines at the start
        prefix = "> " * self._quote
        self._lines.append(f"{prefix}{line}" if line else prefix.rstrip())


def _differs(href: str, label: str) -> bool:
    def bare(url: str) -> str:
        return re.sub(r"^(mailto:|tel:|https?://)", "", url, flags=re.IGNORECASE).rstrip("/")

    return bare(href).lower() != bare(label).lower()
