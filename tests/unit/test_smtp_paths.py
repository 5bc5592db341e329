"""A plain SMTP path is read as aiosmtpd reads it; every other shape is left to aiosmtpd."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from aiosmtpd.smtp import SMTP
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.email.smtp_paths import plain_path


def aiosmtpd_reads(arg: str) -> tuple[str | None, str | None]:
    return SMTP._getaddr(SimpleNamespace(local_part_limit=0), arg)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "arg",
    [
        "<mta@bench.example.org>",
        "<jo.park+ticket-12@example.org> SIZE=1024 BODY=8BITMIME",
        "<a!#$%&'*+/=?^_`{|}~-z@x-y.example>",
        "<A@B.C>\t SMTPUTF8",
    ],
)
def test_plain_paths_are_read_as_aiosmtpd_reads_them(arg: str) -> None:
    assert plain_path(arg) is not None
    assert plain_path(arg) == aiosmtpd_reads(arg)


@pytest.mark.parametrize(
    "arg",
    [
        "<>",
        "",
        " <a@b.c>",
        "< a@b.c>",
        "<@route.example:a@b.c>",
        '<"quoted local"@b.c>',
        "<a@[192.0.2.1]>",
        "<a@b.c> (a comment)",
        "<a@b.c>(a comment)",
        "<a@b.c>x",
        "<a@b.c>\n",
        "<a..b@c.d>",
        "<.a@b.c>",
        "<a@b.c.>",
        "<jö@exämple.org>",
        "a@b.c",
    ],
)
def test_other_shapes_are_left_to_aiosmtpd(arg: str) -> None:
    assert plain_path(arg) is None


_PIECES = st.sampled_from(
    [
        "a",
        "Z",
        "0",
        ".",
        "-",
        "+",
        "_",
        "@",
        "<",
        ">",
        " ",
        "\t",
        "(",
        ")",
        '"',
        "[",
        "]",
        ":",
        ",",
        "=",
        "SIZE=10",
        "example.org",
        "ö",
        "\\",
    ]
)


@settings(max_examples=800, deadline=None)
@given(st.lists(_PIECES, max_size=14).map("".join))
def test_whatever_plain_path_reads_aiosmtpd_reads_alike(arg: str) -> None:
    plain = plain_path(arg)
    if plain is not None:
        assert plain == aiosmtpd_reads(arg)


# a plain address: a dot-atom local part (no leading, trailing or doubled dot) at a domain
_PLAIN_ADDRESS = r"[a-z0-9+_-]{1,6}(\.[a-z0-9+_-]{1,6}){0,2}@[a-z0-9-]{1,8}(\.[a-z0-9-]{1,8}){0,2}"


@settings(max_examples=300, deadline=None)
@given(
    st.from_regex(_PLAIN_ADDRESS, fullmatch=True),
    st.sampled_from(["", " SIZE=10", "  BODY=8BITMIME SMTPUTF8", "\tX=1"]),
)
def test_generated_plain_addresses_are_read_and_agree_with_aiosmtpd(
    address: str, params: str
) -> None:
    arg = f"<{address}>{params}"
    assert plain_path(arg) == (address, params.lstrip(" \t"))
    assert plain_path(arg) == aiosmtpd_reads(arg)
