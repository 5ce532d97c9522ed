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
    ├── CampaignExists (INVALID)
    ├── CampaignChanged (INVALID_STATE): changed by another writer since it was read
    └── CampaignRevisionRefused: what started assists rely on, with (field, code, reason) each

A campaign the merchant ended (``ended_at``) is not active from then on: no assist
starts, no help counts; the coupons granted stay. A revision leaves started assists
what they rely on: each keeps the assists it needed when it started, and once one
has started the rewards and the start are fixed and the end may move later only.
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
    ended_at: datetime | None = None  # ended early by the merchant


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


class CampaignChanged(AssistError):
    def __init__(self) -> None:
        super().__init__("INVALID_STATE", "the campaign was changed meanwhile: read it again")


class CampaignRevisionRefused(AssistError):
    def __init__(self, problems: list[tuple[str, str, str]]) -> None:
        super().__init__("INVALID_STATE", "; ".join(reason for _, _, reason in problems))
        self.problems = problems  # (field, code, reason), fields named as in the API


class Members(Protocol):
    async def follow(self, shop_id: int, shopper_id: int) -> Membership: ...

    async def join(self, shop_id: int, shopper_id: int) -> Membership: ...

    async def memberships(self, shop_id: int, shopper_ids: Sequence[int]) -> list[Membership]: ...

    async def create_campaign(self, shop_id: int, spec: CampaignSpec) -> Campaign: ...

    async def update_campaign(self, shop_id: int, campaign_id: int, base: CampaignSpec, spec: CampaignSpec) -> Campaign | None:
        """Replace the campaign's spec ``base`` (as the caller read it) with ``spec`` under its row
        lock, which assists starting take too; None when the shop has no such campaign.
        CampaignChanged when the stored spec is no longer ``base``; CampaignRevisionRefused when
        started assists rely on what it changes (``rules.revision_problems``)."""
        ...

    async def end_campaign(self, shop_id: int, campaign_id: int, at: datetime) -> Campaign | None:
        """End it at ``at``: no assist starts or help counts after; an ended one keeps its first
        time. None when the shop has no such campaign."""
        ...

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
