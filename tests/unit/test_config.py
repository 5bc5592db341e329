from __future__ import annotations

from pathlib import Path

import pytest

from config import ConfigError, load_settings
from config.email_settings import (
    EmailSettings,
    MailboxSettings,
    SmtpInboundSettings,
    unread_reply_address,
)
from config.loader import EXAMPLE_PATH


def test_the_shipped_example_is_valid_and_embedded() -> None:
    settings = load_settings(environ={})
    assert settings.embedded
    assert {a.name for a in settings.agents} == {"ana", "ben", "sam"}


def test_environment_variables_override_the_file_with_double_underscore_nesting() -> None:
    settings = load_settings(
        environ={
            "RELAYDESK_BROKER_URL": "redis://127.0.0.1:6379/0",
            "RELAYDESK_SMTP__PORT": "2525",
            "RELAYDESK_WEB__HOST": "0.0.0.0",
        }
    )
    assert not settings.embedded
    assert settings.smtp.port == 2525
    assert settings.web.host == "0.0.0.0"


def test_the_test_suites_own_variables_are_not_taken_for_settings() -> None:
    settings = load_settings(environ={"RELAYDESK_TEST_REDIS_URL": "redis://127.0.0.1:6379/9"})
    assert settings.embedded


def test_every_problem_is_reported_with_its_key_path(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        'broker_url = "kafka://x"\n[web]\nport = 99999\n[smtp]\nstarttls = true\nssl = true\n'
        '[[teams]]\nname = "support"\n[[agents]]\nname = "ana"\nemail = "ana@x"\n'
        'teams = ["ghost"]\nskills = { billing = 9 }\n'
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    keys = [key for key, _ in caught.value.problems]
    assert "broker_url" in keys
    assert "web.port" in keys
    assert "smtp" in keys
    assert "agents.0.skills" in keys


def test_a_reference_to_an_unknown_team_names_the_agent(tmp_path: Path) -> None:
    path = tmp_path / "refs.toml"
    path.write_text(
        '[helpdesk]\ndefault_team = "support"\n[[teams]]\nname = "support"\n'
        '[[agents]]\nname = "ana"\nemail = "ana@x.org"\nteams = ["ghost"]\n'
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert ("agents.0.teams", "unknown team 'ghost'") in caught.value.problems


def test_an_agents_time_zone_is_utc_unless_set_and_an_unknown_one_is_named(
    tmp_path: Path,
) -> None:
    assert {a.timezone for a in load_settings(environ={}).agents} >= {"UTC"}
    path = tmp_path / "zones.toml"
    path.write_text(
        '[[teams]]\nname = "support"\n[[agents]]\nname = "ana"\nemail = "ana@x.org"\n'
        'timezone = "Europe/Berlin"\n[[agents]]\nname = "bo"\nemail = "bo@x.org"\n'
        'timezone = "Mars/Olympus"\n'
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert caught.value.problems == [("agents.1.timezone", "unknown time zone 'Mars/Olympus'")]


def test_a_missing_file_and_broken_toml_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_settings(tmp_path / "missing.toml", environ={})
    broken = tmp_path / "broken.toml"
    broken.write_text("[web\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(broken, environ={})


def test_settings_are_frozen() -> None:
    settings = load_settings(environ={})
    with pytest.raises(ValueError):
        settings.web.port = 1  # type: ignore[misc]


def test_urls_are_shown_without_passwords_or_query_strings() -> None:
    from config.redact import redact_url

    assert redact_url("redis://:s3cret@127.0.0.1:6379/0") == "redis://:***@127.0.0.1:6379/0"
    assert redact_url("amqp://guest:guest@mq/%2F") == "amqp://guest:***@mq/%2F"
    assert redact_url("postgresql://app@db/desk?password=x") == "postgresql://app@db/desk"
    assert redact_url("sqlite:///relaydesk.db") == "sqlite:///relaydesk.db"


def test_a_reply_address_nothing_here_receives_is_pointed_out() -> None:
    """Mail goes out From and Reply-To helpdesk.address: when the mailboxes and the
    inbound server say what relaydesk receives, that address must be among it."""
    mailbox = MailboxSettings(name="support", username="u", address="help@example.com")
    read = EmailSettings(mailboxes=(mailbox,))
    assert unread_reply_address("help@example.com", read) is None
    assert unread_reply_address("Help@Example.com", read) is None
    problem = unread_reply_address("support@relaydesk.localhost", read)
    assert problem is not None and "help@example.com" in problem and "will not come back" in problem
    by_domain = EmailSettings(inbound_smtp=SmtpInboundSettings(domains=("example.com",)))
    assert unread_reply_address("anyone@example.com", by_domain) is None
    assert unread_reply_address("x@elsewhere.org", by_domain) is not None
    assert unread_reply_address("x@elsewhere.org", EmailSettings()) is None  # nothing to compare
    example = load_settings(EXAMPLE_PATH, environ={})
    assert unread_reply_address(example.helpdesk.address, example.email) is None
