"""What a later row of an ingest batch sees of the earlier rows (``router.batch_threads``)."""

from __future__ import annotations

from router.batch_threads import BatchThreads, first_thread


def test_for_one_message_id_the_stored_ticket_wins_over_the_batch() -> None:
    assert first_thread(["<a>"], {"<a>": 3}, {"<a>": "opened"}) == 3


def test_the_first_known_id_decides_stored_or_batch() -> None:
    # In-Reply-To first: a batch's row it answers wins over an older stored reference
    assert first_thread(["<new>", "<old>"], {"<old>": 3}, {"<new>": "opened"}) == "opened"
    assert first_thread(["<old>", "<new>"], {"<old>": 3}, {"<new>": "opened"}) == 3
    assert first_thread(["<x>", "<x>"], {}, {}) is None


def test_by_message_id_the_first_row_wins() -> None:
    batch: BatchThreads[str] = BatchThreads()
    batch.note("first", number=None, external_id="<a>", customer_id=1)
    batch.note("second", number=None, external_id="<a>", customer_id=2)
    assert batch.by_message_id == {"<a>": "first"}


def test_a_copy_is_the_same_message_id_from_the_same_sender() -> None:
    batch: BatchThreads[str] = BatchThreads()
    batch.note("jo's", number=5, external_id="<a>", customer_id=1)
    batch.note("kim's", number=None, external_id="<a>", customer_id=2)
    assert batch.same_message("<a>", 1) == "jo's"
    assert batch.same_message("<a>", 2) == "kim's"
    assert batch.same_message("<a>", 3) is None
    assert batch.same_message("<b>", 1) is None


def test_who_took_part_on_a_numbered_ticket() -> None:
    batch: BatchThreads[str] = BatchThreads()
    batch.note(
        "#5", number=5, external_id="<a>", customer_id=1, recipients=("", "Kim <KIM@example.org>")
    )
    batch.note("new", number=None, external_id="<b>", customer_id=2, recipients=("lu@example.org",))
    assert batch.took_part(5, 1, None)  # jo wrote on #5
    assert not batch.took_part(5, 2, None)  # kim did not write
    assert batch.took_part(5, 2, "kim@example.org")  # but jo copied kim on #5
    assert not batch.took_part(5, 3, "lu@example.org")  # lu was on a new ticket's mail
    assert not batch.took_part(6, 1, "kim@example.org")  # another ticket
