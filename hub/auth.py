"""Principals, roles and the FastAPI dependencies that check them. Default deny."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from core.settings import AGENCIES
from core.store import Principal, Store

ROLES: tuple[str, ...] = (
    *(f"agency:{a}" for a in AGENCIES), "consultant", "security_officer", "admin", "governance",
)
TOKEN_PREFIX = "ssp_"  # noqa: S105 - a visible prefix, not a secret


def new_token() -> str:
    """256 random bits, URL-safe."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


_bearer = HTTPBearer(auto_error=False, description="API token from `ssp-hub users add`")


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


StoreDep = Annotated[Store, Depends(get_store)]


def current_principal(
    request: Request, store: StoreDep,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    # request.state names the caller (or why there is none) for the access log and the
    # refusal record (hub.refusals).
    if creds is None or creds.scheme.lower() != "bearer":
        request.state.refusal_reason = "missing_token"
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing bearer token",
                            headers={"WWW-Authenticate": "Bearer"})
    principal = store.principal_by_token(creds.credentials)
    if principal is None:
        request.state.refusal_reason = ("disabled_principal" if store.token_disabled(
            creds.credentials) else "unknown_token")
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "unknown or revoked token",
                            headers={"WWW-Authenticate": "Bearer"})
    request.state.principal = principal.name
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: str) -> object:
    def check(principal: PrincipalDep) -> Principal:
        if principal.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                f"role {principal.role} may not do this")
        return principal
    return Depends(check)


def readable_queues(principal: Principal, all_queues: tuple[str, ...]) -> tuple[str, ...]:
    """Which queues' concerns a principal may read: consultants their own, nobody else."""
    if principal.role == "consultant":
        return tuple(q for q in principal.queues if q in all_queues)
    return ()
