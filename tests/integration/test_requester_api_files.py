"""Files through the JSON API, on the real store (both databases): a new ticket's files
and the requester's message on the ticket link, each file in base64, checked as the pages
check them (count, size, type by content), kept content-addressed and downloadable with
the ticket's key; the Idempotency-Key still makes one ticket (and one file) of a retry."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from connectors.web.app import create_app
from router.vocabulary import Status
from tests.conftest import make_settings
from tests.support.desk import Desk, desk_for
from workers.desk.requester_ports import RequesterPorts
from workers.desk.ticket_status import set_ticket_status

pytestmark = pytest.mark.integration

PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489")
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(200)
REQUEST = {
    "requester": {"name": "Jo Park", "email": "jo@example.org"},
    "subject": "Printer jams",
    "body": "It jams on every page.",
}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture
def files_dir(tmp_path: Path) -> Path:
    return tmp_path / "files"


@pytest.fixture
def desk(database_url: str, files_dir: Path) -> Iterator[Desk]:
    yield from desk_for(
        make_settings(
            database_url,
            relaydesk_email__attachments_dir=str(files_dir),
            relaydesk_web__files_per_message="2",
            relaydesk_web__max_file_bytes="1000",
        )
    )


@pytest.fixture
def client(desk: Desk) -> TestClient:
    app = create_app(
        intake=desk.intake,
        tickets=desk.intake,
        settings=desk.runtime.settings,
        requester=RequesterPorts(desk.runtime),
    )
    return TestClient(app, follow_redirects=False)


def kept_files(files_dir: Path) -> list[str]:
    return sorted(p.name for p in files_dir.rglob("*") if p.is_file())


def test_a_new_ticket_takes_files_in_base64_typed_by_content_and_kept_once(
    desk: Desk, client: TestClient, files_dir: Path
) -> None:
    files = [
        {"filename": "jam.pdf", "content_base64": b64(PNG)},
        {"filename": "notes.txt", "content_base64": b64(b"tray 2")},
    ]
    request = {**REQUEST, "files": files}

    made = client.post("/api/v1/tickets", json=request, headers={"Idempotency-Key": "f1"})
    again = client.post("/api/v1/tickets", json=request, headers={"Idempotency-Key": "f1"})
    desk.settle()

    assert made.status_code == 201, made.text
    assert again.json()["duplicate"] is True
    assert again.json()["ticket_number"] == made.json()["ticket_number"]
    number = made.json()["ticket_number"]
    view = desk.ticket(number)
    (first,) = view.messages
    assert [(a.filename, a.content_type, a.size) for a in first.attachments] == [
        ("jam.pdf", "image/png", len(PNG)),
        ("notes.txt", "text/plain", 6),
    ]
    assert kept_files(files_dir) == sorted(hashlib.sha256(d).hexdigest() for d in (PNG, b"tray 2"))
    with desk.runtime.db.unit_of_work() as uow:
        assert uow.inbox.get(made.json()["submission_id"]) is not None
        assert uow.inbox.get(made.json()["submission_id"] + 1) is None  # one submission
    data = client.get(made.json()["ticket_url"], headers={"Accept": "application/json"}).json()
    url = data["messages"][0]["attachments"][0]["url"]
    download = client.get(url)
    assert download.status_code == 200 and download.content == PNG


def test_refused_files_are_422_naming_each_and_nothing_is_kept(
    desk: Desk, client: TestClient, files_dir: Path
) -> None:
    def send(*files: dict[str, str]) -> list[tuple[str, str]]:
        answer = client.post("/api/v1/tickets", json={**REQUEST, "files": list(files)})
        assert answer.status_code == 422, answer.text
        return [(p["field"], p["type"]) for p in answer.json()["detail"]]

    png = {"filename": "a.png", "content_base64": b64(PNG)}
    assert send({"filename": "report.pdf", "content_base64": b64(ELF)}) == [
        ("files.0", "file_type")
    ]
    assert send(png, {"filename": "big.txt", "content_base64": b64(b"x" * 1001)}) == [
        ("files.1", "file_too_large")
    ]
    assert send({"filename": "x", "content_base64": "not base64!"}) == [
        ("files.0.content_base64", "base64")
    ]
    assert send(png, png, png)[0][0] == "files"  # at most 2
    desk.settle()
    assert kept_files(files_dir) == []
    with desk.runtime.db.unit_of_work() as uow:
        assert uow.inbox.get(1) is None


def test_the_requester_adds_a_message_with_a_file_on_the_ticket_link(
    desk: Desk, client: TestClient
) -> None:
    made = client.post("/api/v1/tickets", json=REQUEST).json()
    desk.settle()
    number, key = made["ticket_number"], made["access_key"]
    path = f"/api/v1/tickets/{number}/messages"
    photo = {"filename": "p.png", "content_base64": b64(PNG)}
    message = {"body": "Here is a photo.", "files": [photo]}
    set_ticket_status(desk.runtime, number, Status.RESOLVED, actor="agent:ana")

    added = client.post(f"{path}?key={key}", json=message, headers={"Idempotency-Key": "m1"})
    twice = client.post(f"{path}?key={key}", json=message, headers={"Idempotency-Key": "m1"})
    changed = client.post(
        f"{path}?key={key}", json={"body": "other"}, headers={"Idempotency-Key": "m1"}
    )
    wrong_key = client.post(f"{path}?key=guess", json=message)
    nothing = client.post(f"{path}?key={key}", json={"body": "  "})
    only_file = client.post(f"{path}?key={key}", json={"body": "-", "files": [photo]})
    bad_file = client.post(
        f"{path}?key={key}",
        json={"body": "x", "files": [{"filename": "a", "content_base64": b64(ELF)}]},
    )
    desk.settle()

    assert added.status_code == 201, added.text
    assert added.json()["ticket_number"] == number
    assert added.headers["location"] == f"/api/v1/tickets/{number}?key={key}"
    assert twice.json()["duplicate"] is True and changed.status_code == 409
    assert wrong_key.status_code == 404 and nothing.status_code == 422
    assert only_file.status_code == 201 and bad_file.status_code == 422
    view = desk.ticket(number)
    assert view.status == Status.OPEN.value  # the message reopened it
    bodies = [(m.body_text, [a.content_type for a in m.attachments]) for m in view.messages]
    assert bodies == [
        ("It jams on every page.", []),
        ("Here is a photo.", ["image/png"]),
        ("-", ["image/png"]),
    ]

    set_ticket_status(desk.runtime, number, Status.CLOSED, actor="agent:ana")
    closed = client.post(f"{path}?key={key}", json={"body": "hello?"})
    assert closed.status_code == 409
