"""The DATA reader's chunks never pass the line limit (smtp_session.DataReader)."""

from __future__ import annotations

import asyncio

from connectors.email.smtp_session import DataReader


def _chunks(data: bytes, limit: int) -> list[bytes]:
    async def read() -> list[bytes]:
        reader = DataReader(limit=limit)
        reader.feed_data(data)
        reader.feed_eof()
        chunks = []
        while True:
            chunk = await reader.readuntil(b"\r\n")
            chunks.append(chunk)
            if chunk.endswith(b"\r\n.\r\n") or chunk == b".\r\n":
                return chunks

    return asyncio.run(read())


def test_a_line_at_the_limit_comes_alone() -> None:
    # asyncio hands over a line one or two bytes past the limit (it checks where the
    # separator starts): nothing more may be glued to it
    chunks = _chunks(b"123456789\r\nAB\r\nCD\r\n.\r\n", limit=10)
    assert chunks[0] == b"123456789\r\n"
    assert b"".join(chunks) == b"123456789\r\nAB\r\nCD\r\n.\r\n"


def test_short_lines_come_together_up_to_the_limit_and_a_dot_alone() -> None:
    data = b"a\r\nb\r\nc\r\nd\r\n..e\r\nf\r\n.\r\n"
    chunks = _chunks(data, limit=8)
    assert b"".join(chunks) == data
    assert chunks[0] == b"a\r\nb\r\n"  # two lines at once, a third would pass the limit
    assert all(len(chunk) <= 8 for chunk in chunks)
    assert b"..e\r\n" in chunks and chunks[-1] == b".\r\n"  # a line with a dot comes alone
