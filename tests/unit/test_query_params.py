"""The staff API's query words: names and configuration versions, refused with a 422 that
names the parameter and the first value that is not one."""

from __future__ import annotations

import pytest
from fastapi import HTTPException

from connectors.web.staff.query_params import checked, versions


def test_names_are_kept_in_order_and_one_with_a_control_character_is_refused() -> None:
    assert checked(["support", "billing"], "team") == ("support", "billing")
    assert checked([], "team") == ()
    with pytest.raises(HTTPException) as refused:
        checked(["support", "bill\x00ing", "x" * 201], "team")
    assert refused.value.status_code == 422
    assert refused.value.detail == "team: 'bill\\x00ing' is not a name (1-200 characters)"
    with pytest.raises(HTTPException):
        checked(["x" * 201], "team")


def test_versions_are_hex_digits_and_anything_else_is_refused_by_name() -> None:
    assert versions(["0a1b2c", "ff"]) == ("0a1b2c", "ff")
    with pytest.raises(HTTPException) as refused:
        versions(["0a1b2c", "support"])
    assert refused.value.status_code == 422
    assert refused.value.detail == "config_version: 'support' is not a configuration version"
    with pytest.raises(HTTPException) as refused:
        versions(["0" * 17], "first")
    assert str(refused.value.detail).startswith("first: ")
