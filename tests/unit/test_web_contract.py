"""What the OpenAPI document says is what the server does: ids, NUL, blank text, patterns."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from pydantic_core import PydanticCustomError

from connectors.web.text_fields import (
    EMAIL_PATTERN,
    LINE_PATTERN,
    TEXT_PATTERN,
    VALUE_PATTERN,
    WHITESPACE,
    check_email_address,
    check_line,
    check_text,
    check_value,
)
from tests.support.web_fakes import (
    FakeHelpdesk,
    client_for,
    post_form,
    problem_fields,
    ticket_json,
)


@pytest.fixture
def desk() -> FakeHelpdesk:
    return FakeHelpdesk()


@pytest.fixture
def client(desk: FakeHelpdesk) -> TestClient:
    return client_for(desk)


def spec(client: TestClient) -> dict[str, Any]:
    return client.get("/openapi.json").json()


# --- ids ----------------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["9223372036854775808", "2147483648", "0", "-1", "10" * 40])
def test_an_id_out_of_range_is_not_found(client: TestClient, number: str) -> None:
    for path in (f"/api/v1/tickets/{number}", f"/api/v1/submissions/{number}"):
        response = client.get(f"{path}?key=anything")

        assert response.status_code == 404, path
        assert "not found" in response.json()["detail"]


def test_the_document_bounds_ids_and_says_out_of_range_is_404(client: TestClient) -> None:
    paths = spec(client)["paths"]
    for path, name in (
        ("/api/v1/tickets/{number}", "number"),
        ("/api/v1/submissions/{submission_id}", "submission_id"),
    ):
        operation = paths[path]["get"]
        (param,) = [p for p in operation["parameters"] if p["name"] == name]
        assert (param["schema"]["minimum"], param["schema"]["maximum"]) == (1, 2**31 - 1)
        assert "2147483647" in operation["responses"]["404"]["description"]
        assert {"404", "422", "503"} <= set(operation["responses"])


# --- NUL and blank text ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"body": "before\x00after"}, "body"),
        ({"subject": "a\x00b"}, "subject"),
        ({"requester": {"name": "Ana\x00", "email": "ana@example.com"}}, "requester.name"),
        ({"requester": {"name": "Ana", "email": "ana\x00@example.com"}}, "requester.email"),
        ({"custom_fields": {"order": "A-1\x00"}}, "custom_fields.order"),
    ],
)
def test_a_nul_anywhere_is_a_422_naming_the_field_and_nothing_is_accepted(
    desk: FakeHelpdesk, client: TestClient, changes: dict[str, Any], field: str
) -> None:
    response = client.post("/api/v1/tickets", json=ticket_json(**changes))

    assert response.status_code == 422
    assert field in problem_fields(response)
    assert "NUL" in response.text
    assert desk.accepted == {}


def test_a_body_of_only_whitespace_is_refused_as_the_form_refuses_it(
    desk: FakeHelpdesk, client: TestClient
) -> None:
    for body in ("   ", "\n\t\r\n", "\u3000\u00a0"):
        response = client.post("/api/v1/tickets", json=ticket_json(body=body))
        assert response.status_code == 422 and "body" in problem_fields(response)
    assert desk.accepted == {}


def test_the_body_is_kept_exactly_as_written(desk: FakeHelpdesk, client: TestClient) -> None:
    body = "  Line one\n\n\tindented \x01 line\n"

    assert client.post("/api/v1/tickets", json=ticket_json(body=body)).status_code == 201
    assert desk.messages[0].body_text == body


def test_a_float_that_is_not_finite_is_refused(client: TestClient) -> None:
    response = client.post(
        "/api/v1/tickets",
        content=b'{"requester": {"name": "A", "email": "a@b.co"}, "subject": "s", "body": "b",'
        b' "custom_fields": {"x": NaN}}',
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 422


# --- category, priority and email: exactly as documented --------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"category": "AAA"}, "category"),
        ({"category": " billing "}, "category"),
        ({"priority": "HIGH"}, "priority"),
        ({"requester": {"name": "Ana", "email": "000"}}, "requester.email"),
        ({"requester": {"name": "Ana", "email": "ana@example.123"}}, "requester.email"),
    ],
)
def test_values_the_document_does_not_allow_are_refused(
    client: TestClient, changes: dict[str, Any], field: str
) -> None:
    response = client.post("/api/v1/tickets", json=ticket_json(**changes))

    assert response.status_code == 422 and field in problem_fields(response)


def test_the_email_pattern_and_the_address_check_agree_on_examples() -> None:
    pattern = re.compile(EMAIL_PATTERN)
    for good in ("ana@example.com", "a.b+c@x-y.example.org", "a@b.co", "x@example.xn--p1ai"):
        assert pattern.search(good) and check_email_address(good)
    for bad in ("000", "a@b", "a..b@x.org", ".a@x.org", "a@-x.org", "a@x.123", "a b@x.org"):
        assert not pattern.search(bad)
        with pytest.raises(ValueError):
            check_email_address(bad)


def _accepts(check: Any, value: str) -> bool:
    try:
        check(value)
    except (ValueError, PydanticCustomError):
        return False
    return True


# the characters where the rules differ: controls, NUL, every kind of whitespace, letters
_EDGES = st.sampled_from(
    [*map(chr, range(0x21)), "\x7f", "\x85", "a", "Z", "é", "-", "@", ".", *sorted(WHITESPACE)]
)


@given(st.text(alphabet=_EDGES, max_size=6))
def test_the_documented_patterns_accept_exactly_what_the_validators_accept(text: str) -> None:
    for pattern, check in (
        (LINE_PATTERN, check_line),
        (TEXT_PATTERN, check_text),
        (VALUE_PATTERN, check_value),
    ):
        assert bool(re.search(pattern, text)) == _accepts(check, text), (pattern, text)


@given(st.from_regex(EMAIL_PATTERN, fullmatch=True).filter(lambda a: len(a) <= 254))
def test_every_address_the_pattern_allows_is_accepted(address: str) -> None:
    assert check_email_address(address).lower() == address.lower()


# --- other answers the document lists ----------------------------------------------------


def test_a_body_that_is_not_utf8_is_a_documented_400(client: TestClient) -> None:
    response = client.post(
        "/api/v1/tickets",
        content=b'{"requester": {"name": "A", "email": "a@b.co"}, "subject": "s", "body": "\xff"}',
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert "400" in spec(client)["paths"]["/api/v1/tickets"]["post"]["responses"]


def test_a_value_the_store_refuses_is_a_422_never_a_503() -> None:
    client = client_for(FakeHelpdesk(accept_refuses="value too long for type varchar(998)"))

    response = client.post("/api/v1/tickets", json=ticket_json())
    page = post_form(
        client, {"name": "Ana", "email": "ana@example.com", "subject": "s", "message": "m"}
    )

    assert response.status_code == 422 and "retry-after" not in response.headers
    assert "varchar(998)" in response.json()["detail"]
    assert page.status_code == 422 and "could not keep your request" in page.text


def test_the_post_links_its_answer_to_the_reads(client: TestClient) -> None:
    responses = spec(client)["paths"]["/api/v1/tickets"]["post"]["responses"]

    for status in ("201", "202"):
        links = responses[status]["links"]
        assert links["GetTicket"]["operationId"] == "get_ticket"
        assert links["GetTicket"]["parameters"]["number"] == "$response.body#/ticket_number"
        assert links["GetSubmission"]["parameters"]["key"] == "$response.body#/access_key"


# --- the form ----------------------------------------------------------------------------


def test_a_nul_in_the_form_is_a_422_on_its_field_and_never_echoed(
    desk: FakeHelpdesk, client: TestClient
) -> None:
    response = post_form(
        client, {"name": "Ana", "email": "ana@example.com", "subject": "s", "message": "a\x00b"}
    )

    assert response.status_code == 422
    assert re.search(r'id="message-error">This contained a NUL character', response.text)
    assert "\x00" not in response.text
    assert ">ab</textarea>" in response.text
    assert desk.accepted == {}


# --- /docs works offline -----------------------------------------------------------------


def test_the_api_docs_load_their_assets_from_this_server_only(client: TestClient) -> None:
    for page in ("/docs", "/redoc"):
        html = client.get(page).text
        urls = re.findall(r'(?:src|href)=["\']([^"\']+)', html) + re.findall(
            r"url: ?['\"]([^'\"]+)", html
        )
        assert urls, page
        for url in urls:
            assert url.startswith("/"), (page, url)
            assert client.get(url).status_code == 200, url
    assert (
        "SwaggerUIBundle"
        in client.get(
            re.findall(r'src="([^"]+swagger-ui-bundle\.js)"', client.get("/docs").text)[0]
        ).text
    )
