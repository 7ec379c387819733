"""Logging in to the service: one function for the command line and the desk alike.

The password and the authenticator code go to the server once and are not kept; what is
kept is the session token the server gives back, in the home folder (config.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from caseworker_client import pins
from caseworker_client.api import Api, ApiError
from caseworker_client.config import Session
from caseworker_client.context import Context


@dataclass(frozen=True)
class LoggedIn:
    server: str
    username: str
    idle_minutes: int | None  # the session ends after this long without use
    ends_at: str  # and at this time at the latest
    has_key: bool  # whether the server knows this caseworker's public key yet


def log_in(
    ctx: Context, server_url: str, organisation: str, username: str, password: str, code: str
) -> LoggedIn:
    """Log in and keep the session for every later command (and this Context)."""
    api = Api(server_url)
    body = {"organisation": organisation, "username": username, "password": password}
    answer = api.post("/login", {**body, "code": code})
    if not isinstance(answer, dict) or not isinstance(answer.get("token"), str):
        raise ApiError(f"{api.server} gave an unexpected login answer; is it this service?")
    expires = str(answer.get("expires_at") or "")
    ctx.start_session(Session(api.server, username, str(answer["token"]), expires))
    idle = answer.get("idle_seconds")
    return LoggedIn(
        server=api.server,
        username=username,
        idle_minutes=idle // 60 if isinstance(idle, int) else None,
        ends_at=str(answer.get("ends_at") or expires),
        has_key=bool((answer.get("caseworker") or {}).get("recipient")),
    )


def register_own_key(ctx: Context) -> str:
    """Give the server this caseworker's public key (the first of the identity file), so
    new reports are encrypted to it; keeps the organisation's pin in step. Returns the key."""
    recipient = str(ctx.identities[0].recipient)  # type: ignore[attr-defined]
    before = ctx.api.get("/me")
    ctx.api.put("/me/recipient", {"recipient": recipient})
    replaced = before.get("recipient") if isinstance(before, dict) else None
    pins.own_key_registered(ctx, recipient, replaced)
    return recipient
