"""Bearer tokens per role for the action endpoints: sellers, customers, operations staff.

Tokens come from configuration as `NAME=TOKEN` pairs, checked in constant time
(`plumbing.bearer`). The name says who acts: a seller's ID (the seller acts on its own returns
only; `*` for a seller portal acting for every seller), the customer app's name, or an
operations staff ID (recorded in the return's timeline).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from pydantic import SecretStr

from domain.base import OPERATIONS_ACTOR
from plumbing.bearer import TokenConfigError, matching, parse_tokens, presented_token
from plumbing.settings import Settings

ANY_SELLER = "*"


class Role(StrEnum):
    SELLER = "seller"
    CUSTOMER = "customer"
    OPERATIONS = "operations"


@dataclass(frozen=True)
class Principal:
    """Who is calling, from the token they showed."""

    role: Role
    name: str

    @property
    def actor(self) -> str:
        """How the return's timeline names them: `seller`, `customer`, `operations:<id>`."""
        if self.role is Role.OPERATIONS:
            return f"operations:{self.name}"
        return self.role.value

    def may_act_for_seller(self, seller_id: str | None) -> bool:
        return self.role is not Role.SELLER or self.name in (ANY_SELLER, seller_id)


@dataclass(frozen=True)
class _Token:
    principal: Principal
    secret: bytes


class TokenBook:
    """Every configured token, and who each belongs to."""

    def __init__(self, tokens: list[_Token]) -> None:
        self._tokens = tokens

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenBook:
        tokens: list[_Token] = []
        for role, value in (
            (Role.SELLER, settings.gateway_seller_tokens),
            (Role.CUSTOMER, settings.gateway_customer_tokens),
            (Role.OPERATIONS, settings.gateway_operations_tokens),
        ):
            tokens += _parse(role, value)
        return cls(tokens)

    def __len__(self) -> int:
        return len(self._tokens)

    def who(self, authorization: str | None) -> Principal | None:
        """The principal of an `Authorization: Bearer <token>` header, or None."""
        presented = presented_token(authorization)
        if presented is None:
            return None
        return matching([(t.principal, t.secret) for t in self._tokens], presented)


def _parse(role: Role, value: SecretStr | None) -> list[_Token]:
    tokens = []
    for name, secret in parse_tokens(f"RETURNFLOW_GATEWAY_{role.upper()}_TOKENS", value):
        principal = Principal(role, name)
        if role is Role.OPERATIONS and not re.fullmatch(OPERATIONS_ACTOR, principal.actor):
            raise TokenConfigError(
                f"RETURNFLOW_GATEWAY_OPERATIONS_TOKENS: {principal.name!r} is not a staff ID "
                "(letters, digits, '.', '_' or '-', at most 64)"
            )
        tokens.append(_Token(principal, secret))
    return tokens
