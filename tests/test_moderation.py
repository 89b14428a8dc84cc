from __future__ import annotations

from bot.domain.moderation import is_moderator

ROLE = 55


def test_manage_server_is_a_moderator() -> None:
    assert is_moderator(manage_guild=True, administrator=False, role_ids=[], moderator_role_id=None)


def test_administrator_is_a_moderator() -> None:
    assert is_moderator(manage_guild=False, administrator=True, role_ids=[], moderator_role_id=ROLE)


def test_the_configured_role_makes_a_moderator() -> None:
    assert is_moderator(
        manage_guild=False, administrator=False, role_ids=[1, ROLE], moderator_role_id=ROLE
    )


def test_plain_member_is_not() -> None:
    assert not is_moderator(
        manage_guild=False, administrator=False, role_ids=[1, 2], moderator_role_id=ROLE
    )


def test_no_role_configured_means_only_manage_server() -> None:
    assert not is_moderator(
        manage_guild=False, administrator=False, role_ids=[ROLE], moderator_role_id=None
    )
