from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from router.envelopes import AttachmentRef, BounceReport, InboundMessage, OutboundMessage
from router.notice_texts import acknowledgement, assignment_notice, requester_label
from router.thread_keys import (
    MAX_REFERENCES,
    OwnAddresses,
    SentOn,
    answer_threading,
    followed_chain,
    our_address_written_to,
    plus_address,
    plus_number,
    thread_keys,
)
from router.vocabulary import Channel, Priority


def message(**kw: object) -> InboundMessage:
    base: dict[str, object] = {
        "channel": Channel.EMAIL,
        "idempotency_key": "k",
        "sender_address": "jo@x.org",
        "body_text": "b",
    }
    base.update(kw)
    return InboundMessage(**base)  # type: ignore[arg-type]


def test_referenced_message_ids_come_first_without_duplicates_or_blanks() -> None:
    keys = thread_keys(message(in_reply_to=("<a@x>", " ", "<b@x>", "<a@x>")))
    assert keys.message_ids == ("<a@x>", "<b@x>")


def test_the_subject_tag_is_found_anywhere_in_the_subject_with_its_prefix() -> None:
    assert thread_keys(message(subject="Re: Fwd: [#1234] printer")).subject_number == 1234
    assert thread_keys(message(subject="[HD-77] x"), tag_prefix="HD-").subject_number == 77
    assert thread_keys(message(subject="#1234 without brackets")).subject_number is None
    assert thread_keys(message(subject="[#12a]")).subject_number is None


def test_an_acknowledgement_carries_the_tag_once_and_keeps_the_subject_on_one_line() -> None:
    ack = acknowledgement(
        number=42,
        subject="[#42] Cannot\nlog in",
        requester_name="Jo",
        helpdesk_name="Acme",
        language="en",
    )
    assert ack.subject == "[#42] Cannot log in"
    assert "opened ticket [#42]" in ack.body_text and ack.body_text.startswith("Hello Jo,")


def test_an_assignment_notice_trims_a_long_message_and_says_why() -> None:
    notice = assignment_notice(
        number=7,
        subject="Slow",
        priority="high",
        requester="Jo <jo@x.org>",
        excerpt="x" * 2000,
        reasons=("team support, load 1/5",),
        language="en",
        max_excerpt=100,
    )
    assert notice.subject == "Assigned: [#7] Slow (high)"
    assert "Why you:   team support, load 1/5" in notice.body_text
    assert "x" * 99 + "\u2026" in notice.body_text and "x" * 101 not in notice.body_text


@given(
    st.builds(
        InboundMessage,
        channel=st.sampled_from(list(Channel)),
        idempotency_key=st.text(min_size=1),
        sender_address=st.emails(),
        body_text=st.text(),
        subject=st.text(),
        in_reply_to=st.tuples(st.text()),
        priority_hint=st.none() | st.sampled_from(list(Priority)),
        custom_fields=st.dictionaries(st.text(), st.integers() | st.text()),
        is_automatic=st.booleans(),
        automatic_reason=st.text(),
        is_bulk=st.booleans(),
        access_key=st.none() | st.text(),
        recipients=st.tuples(st.emails()),
        source=st.text(),
        full_text=st.none() | st.text(),
        attachments=st.lists(
            st.builds(
                AttachmentRef,
                filename=st.text(min_size=1),
                content_type=st.just("application/pdf"),
                size=st.integers(0, 10**9),
                sha256=st.none() | st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
                inline=st.booleans(),
                content_id=st.none() | st.text(),
                skipped=st.none() | st.text(),
            ),
            max_size=3,
        ).map(tuple),
        bounce=st.none()
        | st.builds(
            BounceReport,
            original_message_id=st.none() | st.text(),
            recipients=st.tuples(st.emails()),
            status=st.text(),
            diagnostic=st.text(),
            permanent=st.booleans(),
        ),
        problems=st.lists(st.text(), max_size=3).map(tuple),
        unparsed=st.booleans(),
    )
)
@settings(suppress_health_check=[HealthCheck.too_slow])  # big examples; a busy machine
def test_an_inbound_message_survives_its_trip_through_the_inbox_payload(
    original: InboundMessage,
) -> None:
    assert InboundMessage.from_payload(original.to_payload()) == original


def test_an_outbound_message_survives_its_trip_through_the_outbox_payload() -> None:
    original = OutboundMessage(
        channel=Channel.EMAIL,
        recipient="jo@x.org",
        subject="s",
        body_text="b",
        message_id="<m@x>",
        in_reply_to="<p@x>",
        references=("<r@x>", "<p@x>"),
        automatic=True,
        body_html="<p>b</p>",
        reply_to="support+1@x.org",
    )
    assert OutboundMessage.from_payload(original.to_payload()) == original


def test_the_html_alternative_escapes_what_the_customer_wrote() -> None:
    rendered = acknowledgement(
        number=7,
        subject="<script>alert(1)</script> & more",
        requester_name="Jo",
        helpdesk_name="d",
        language="en",
    )
    html = rendered.body_html
    assert "<script>" not in html and "&lt;script&gt;" in html and "&amp; more" in html
    assert html.count("<p>") == rendered.body_text.count("\n\n") + 1  # paragraphs


def test_a_plus_address_threads_only_to_our_own_addresses() -> None:
    own = OwnAddresses(
        addresses=frozenset({"support@desk.example"}), domains=frozenset({"in.example"})
    )
    assert plus_number(["support+42@desk.example"], own) == 42
    assert plus_number(["Support+42@Desk.Example"], own) == 42
    assert plus_number(["anyone+7@in.example"], own) == 7
    assert plus_number(["support+42@elsewhere.example"], own) is None
    assert plus_number(["support+abc@desk.example", "support@desk.example"], own) is None
    assert plus_address("support@desk.example", 42) == "support+42@desk.example"


def test_answers_come_from_the_address_of_ours_the_customer_wrote_to() -> None:
    own = OwnAddresses(
        addresses=frozenset({"support@desk.test", "sales@desk.test"}),
        domains=frozenset({"help.example"}),
    )
    assert our_address_written_to(["boss@x.org", "Sales@Desk.test"], own) == "sales@desk.test"
    assert our_address_written_to(["sales+12@desk.test"], own) == "sales@desk.test"
    assert our_address_written_to(["billing@help.example"], own) == "billing@help.example"
    assert our_address_written_to(["boss@x.org"], own) is None  # a Bcc, a forward
    assert our_address_written_to(["boss@x.org"], own, "Sales@Desk.test") == "sales@desk.test"


def test_a_long_thread_keeps_its_first_and_latest_references() -> None:
    conversation = [SentOn(f"<m{i}@x>", from_requester=i % 2 == 0) for i in range(30)]
    parent, references = answer_threading(conversation, earlier=["<old@x>"])
    assert parent == "<m28@x>"  # the requester's latest, not our own later mail
    assert len(references) == MAX_REFERENCES
    assert references[0] == "<old@x>" and references[-1] == "<m29@x>"


def test_the_chain_a_message_follows_is_its_references_then_in_reply_to() -> None:
    headers = {"References": "<a@x> <b@x>\r\n <c@x>", "In-Reply-To": "<d@x> (a comment)"}
    assert followed_chain(headers) == ["<a@x>", "<b@x>", "<c@x>", "<d@x>"]
    assert answer_threading([]) == (None, ())


def test_a_requester_is_named_by_address_on_mail_and_as_via_telegram_on_a_chat() -> None:
    label = requester_label
    assert label("Jo Park", "jo@example.org", "email", "en") == "Jo Park <jo@example.org>"
    assert label("", "jo@example.org", "web", "en") == "jo@example.org"
    assert label(" Kim  Park ", "620002", "telegram", "en") == "Kim Park (via Telegram)"
    assert label("", "620002", "telegram", "en") == "someone via Telegram"
    assert "通过 Telegram" in label("Kim Park", "620002", "telegram", "zh_CN")
