"""HTML bodies: sanitised for display and rendered as plain text."""

from __future__ import annotations

from connectors.email.html_text import html_to_text, sanitize_html


def test_blocks_and_line_breaks_become_lines() -> None:
    html = "<div>Hello</div><p>First paragraph</p><p>Second<br>line</p>"
    assert html_to_text(html) == "Hello\n\nFirst paragraph\n\nSecond\nline"


def test_list_items_become_dashes_and_nested_lists_are_indented() -> None:
    html = "<ul><li>one</li><li>two<ul><li>inner</li></ul></li></ul>"
    assert html_to_text(html) == "- one\n- two\n  - inner"


def test_links_show_their_target_only_when_it_differs_from_the_text() -> None:
    html = (
        '<a href="https://example.com/orders/1">your order</a> '
        '<a href="https://example.com/">https://example.com</a> '
        '<a href="mailto:ana@example.com">ana@example.com</a> '
        '<a href="javascript:alert(1)">click</a>'
    )
    assert html_to_text(html) == (
        "your order (https://example.com/orders/1) https://example.com ana@example.com click"
    )


def test_scripts_styles_and_the_head_are_dropped() -> None:
    html = (
        "<html><head><title>T</title><style>p{}</style></head>"
        "<body><script>alert(1)</script><p>Body</p></body></html>"
    )
    assert html_to_text(html) == "Body"


def test_entities_are_unescaped_and_whitespace_collapsed() -> None:
    html = "<p>Fish&nbsp;&amp;   chips\n\n  &lt;3 &eacute;t&eacute;</p>"
    assert html_to_text(html) == "Fish & chips <3 été"


def test_at_most_two_blank_lines_follow_each_other() -> None:
    assert html_to_text("a" + "<br>" * 10 + "b") == "a\n\n\nb"


def test_blockquotes_are_prefixed_like_quoted_mail() -> None:
    html = "<div>On Mon, Ana wrote:</div><blockquote><p>Try again.</p></blockquote>"
    assert html_to_text(html).startswith("On Mon, Ana wrote:\n\n> Try again.")


def test_preformatted_text_keeps_its_lines_and_spaces() -> None:
    assert html_to_text("<pre>a  b\n  c</pre>") == "a  b\n  c"


def test_image_alt_text_is_kept_and_tables_are_flattened() -> None:
    html = '<img src="cid:x" alt="logo"><table><tr><td>a</td><td>b</td></tr></table>'
    assert html_to_text(html) == "[logo]\na b"


def test_broken_markup_never_raises() -> None:
    for html in ("<![if !x]>hi<![endif]>", "<a href='x", "<" * 1000, "</p></p><li>", "&#xffffff;"):
        assert isinstance(html_to_text(html), str)


def test_sanitising_removes_scripts_handlers_and_javascript_urls() -> None:
    html = (
        '<p onclick="x()" style="color:red">Hi <script>alert(1)</script>'
        '<a href="javascript:alert(1)">a</a><a href="data:text/html,x">b</a>'
        '<iframe src="https://evil.example"></iframe></p><form><input value="x"></form>'
    )
    clean = sanitize_html(html)
    assert clean == '<p>Hi <a rel="noopener noreferrer">a</a><a rel="noopener noreferrer">b</a></p>'


def test_links_get_noopener_noreferrer() -> None:
    assert sanitize_html('<a href="https://example.com" target="_blank">x</a>') == (
        '<a href="https://example.com" rel="noopener noreferrer">x</a>'
    )


def test_images_keep_only_cid_data_and_https_sources() -> None:
    html = (
        '<img src="cid:logo@x"><img src="data:image/png;base64,AAAA">'
        '<img src="https://example.com/a.png"><img src="http://example.com/b.png">'
        '<img src="data:text/html;base64,AAAA"><img src="/relative.png">'
    )
    assert sanitize_html(html) == (
        '<img src="cid:logo@x"><img src="data:image/png;base64,AAAA">'
        '<img src="https://example.com/a.png"><img><img><img>'
    )


def test_formatting_and_tables_survive_sanitising() -> None:
    html = '<h2>T</h2><b>b</b><i>i</i><table><tr><td colspan="2">c</td></tr></table>'
    assert sanitize_html(html) == (
        '<h2>T</h2><b>b</b><i>i</i><table><tbody><tr><td colspan="2">c</td></tr></tbody></table>'
    )
