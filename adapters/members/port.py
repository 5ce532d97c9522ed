"""Members: following a shop, joining its membership, and friend-assist campaigns.

An assist campaign grants its reward coupon to an initiator once
``required_assists`` distinct other shoppers helped. Helping is one
transaction under the assist's row lock: the help row (unique per helper),
the helper's daily tally, the count (never past the requirement), and, on the
last help, the grant from the reward template's stock (exactly once) -- and
the helper's own reward, once per campaign while its stock lasts.

Errors (each names its UserErrorCode)::

    AssistError
    ├── CAMPAIGN_NOT_ACTIVE, PREREQUISITE_NOT_MET, SELF_ASSIST, ALREADY_ASSISTED,
    │   ASSIST_DAILY_LIMIT, ASSIST_COMPLETED, NOT_FOUND
    └── CampaignExists (INVALID)
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

CAMPAIGN_TIMEZONE = "Asia/Shanghai"  # a helper's "day" for the daily limit


@dataclass(frozen=True, slots=True)
class Membership:
    following: bool = False
    member: bool = False


@dataclass(frozen=True, slots=True)
class CampaignSpec:
    code: str
    title: str
    required_assists: int
    reward_template_id: int
    assister_template_id: int | None
    requires_follow: bool
    requires_membership: bool
    helper_daily_limit: int
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True, slots=True)
class Campaign:
    id: int
    shop_id: int
    spec: CampaignSpec


class AssistState(enum.Enum):
    OPEN = "OPEN"
    GRANTED = "GRANTED"
    SOLD_OUT = "SOLD_OUT"
    EXPIRED = "EXPIRED"


@dataclass(frozen=True, slots=True)
class Assist:
    id: int
    shop_id: int
    campaign_id: int
    initiator_id: int
    state: AssistState
    count: int
    required: int
    coupon_id: int | None


class AssistError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class CampaignExists(AssistError):
    def __init__(self, code: str) -> None:
        super().__init__("INVALID", f"a campaign with code {code!r} exists already")


class Members(Protocol):
    async def follow(self, shop_id: int, shopper_id: int) -> Membership: ...

    async def join(self, shop_id: int, shopper_id: int) -> Membership: ...

    async def memberships(self, shop_id: int, shopper_ids: Sequence[int]) -> list[Membership]: ...

    async def create_campaign(self, shop_id: int, spec: CampaignSpec) -> Campaign: ...

    async def campaigns_by_code(self, shop_id: int, codes: Sequence[str]) -> list[Campaign | None]: ...

    async def campaigns_by_id(self, shop_id: int, ids: Sequence[int]) -> list[Campaign | None]: ...

    async def start_assist(self, shop_id: int, campaign_id: int, shopper_id: int, now: datetime) -> Assist:
        """The shopper's assist in the campaign, made on first call; AssistError when not allowed."""
        ...

    async def help_assist(self, shop_id: int, assist_id: int, helper_id: int, now: datetime) -> Assist:
        """Count one help (and grant when it completes the assist); AssistError when not allowed."""
        ...

    async def assists_by_id(self, shop_id: int, ids: Sequence[int], now: datetime) -> list[Assist | None]: ...

    async def assists_of(self, shop_id: int, shopper_id: int, now: datetime) -> list[Assist]: ...
