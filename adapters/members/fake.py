"""In-memory members and assist campaigns for tests."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime

from adapters.coupons.fake import FakeCoupons
from adapters.coupons.port import Disabled, LimitReached, SoldOut
from adapters.members import rules
from adapters.members.port import (
    Assist,
    AssistError,
    AssistState,
    Campaign,
    CampaignChanged,
    CampaignExists,
    CampaignRevisionRefused,
    CampaignSpec,
    Membership,
)


class FakeMembers:
    def __init__(self, coupons: FakeCoupons) -> None:
        self.coupons = coupons
        self.memberships_: dict[tuple[int, int], Membership] = {}
        self.campaigns: dict[int, Campaign] = {}
        self.assists: dict[int, Assist] = {}
        self.helps: set[tuple[int, int]] = set()  # (assist, helper)
        self.days: dict[tuple[int, int, date], int] = {}  # (campaign, helper, day) -> helps
        self.rewarded: set[tuple[int, int]] = set()  # (campaign, helper)
        self._ids = itertools.count(1)

    async def follow(self, shop_id: int, shopper_id: int) -> Membership:
        return self._set(shop_id, shopper_id, following=True)

    async def join(self, shop_id: int, shopper_id: int) -> Membership:
        return self._set(shop_id, shopper_id, member=True)

    def _set(self, shop_id: int, shopper_id: int, **flag: bool) -> Membership:
        key = (shop_id, shopper_id)
        self.memberships_[key] = replace(self.memberships_.get(key, Membership()), **flag)
        return self.memberships_[key]

    async def memberships(self, shop_id: int, shopper_ids: Sequence[int]) -> list[Membership]:
        return [self.memberships_.get((shop_id, i), Membership()) for i in shopper_ids]

    def put_campaign(self, shop_id: int, spec: CampaignSpec) -> tuple[Campaign, bool]:
        old = next((c for c in self.campaigns.values() if c.shop_id == shop_id and c.spec.code == spec.code), None)
        campaign = replace(old, spec=spec) if old else Campaign(next(self._ids), shop_id, spec)
        self.campaigns[campaign.id] = campaign
        return campaign, old is None or old.spec != spec

    async def create_campaign(self, shop_id: int, spec: CampaignSpec) -> Campaign:
        if any(c.shop_id == shop_id and c.spec.code == spec.code for c in self.campaigns.values()):
            raise CampaignExists(spec.code)
        return self.put_campaign(shop_id, spec)[0]

    async def update_campaign(self, shop_id: int, campaign_id: int, base: CampaignSpec, spec: CampaignSpec) -> Campaign | None:
        [old] = await self.campaigns_by_id(shop_id, [campaign_id])
        if old is None:
            return None
        if old.spec != base:
            raise CampaignChanged()
        started = any(a.campaign_id == campaign_id for a in self.assists.values())
        if problems := rules.revision_problems(old, spec, started):
            raise CampaignRevisionRefused(problems)
        self.campaigns[campaign_id] = replace(old, spec=spec)
        return self.campaigns[campaign_id]

    async def end_campaign(self, shop_id: int, campaign_id: int, at: datetime) -> Campaign | None:
        [old] = await self.campaigns_by_id(shop_id, [campaign_id])
        if old is None or old.ended_at is not None:
            return old
        self.campaigns[campaign_id] = replace(old, ended_at=at)
        return self.campaigns[campaign_id]

    async def campaigns_by_code(self, shop_id: int, codes: Sequence[str]) -> list[Campaign | None]:
        by_code = {c.spec.code: c for c in self.campaigns.values() if c.shop_id == shop_id}
        return [by_code.get(code) for code in codes]

    async def campaigns_by_id(self, shop_id: int, ids: Sequence[int]) -> list[Campaign | None]:
        return [c if (c := self.campaigns.get(i)) and c.shop_id == shop_id else None for i in ids]

    def _campaign(self, shop_id: int, campaign_id: int) -> Campaign:
        campaign = self.campaigns.get(campaign_id)
        if campaign is None or campaign.shop_id != shop_id:
            raise AssistError("NOT_FOUND", "no such campaign")
        return campaign

    async def start_assist(self, shop_id: int, campaign_id: int, shopper_id: int, now: datetime) -> Assist:
        campaign = self._campaign(shop_id, campaign_id)
        for assist in self.assists.values():
            if assist.campaign_id == campaign_id and assist.initiator_id == shopper_id:
                return self._shown(assist, now)
        rules.check_active(campaign, now)
        rules.check_prerequisites(campaign, self.memberships_.get((shop_id, shopper_id), Membership()))
        assist = Assist(next(self._ids), shop_id, campaign_id, shopper_id, AssistState.OPEN, 0,
                        campaign.spec.required_assists, None)
        self.assists[assist.id] = assist
        return assist

    async def help_assist(self, shop_id: int, assist_id: int, helper_id: int, now: datetime) -> Assist:
        assist = self.assists.get(assist_id)
        if assist is None or assist.shop_id != shop_id:
            raise AssistError("NOT_FOUND", "no such assist")
        campaign = self._campaign(shop_id, assist.campaign_id)
        rules.check_active(campaign, now)
        if helper_id == assist.initiator_id:
            raise AssistError("SELF_ASSIST", "nobody can help their own assist")
        if assist.state is not AssistState.OPEN or assist.count >= assist.required:
            raise AssistError("ASSIST_COMPLETED", "this assist has all the help it needs")
        if (assist_id, helper_id) in self.helps:
            raise AssistError("ALREADY_ASSISTED", "you have helped this assist already")
        day = (campaign.id, helper_id, rules.helper_day(now))
        if self.days.get(day, 0) >= campaign.spec.helper_daily_limit:
            raise AssistError("ASSIST_DAILY_LIMIT", f"at most {campaign.spec.helper_daily_limit} helps a day")
        self.helps.add((assist_id, helper_id))
        self.days[day] = self.days.get(day, 0) + 1
        assist = replace(assist, count=assist.count + 1)
        if assist.count == assist.required:
            assist = self._granted(assist, campaign, now)
        self.assists[assist_id] = assist
        self._reward_helper(campaign, helper_id, now)
        return self._shown(assist, now)

    def _granted(self, assist: Assist, campaign: Campaign, now: datetime) -> Assist:
        try:
            coupon = self.coupons.issue(self.coupons.templates[campaign.spec.reward_template_id],
                                        assist.initiator_id, now)
        except (SoldOut, LimitReached, Disabled):  # a disabled reward grants no more, as one run out
            return replace(assist, state=AssistState.SOLD_OUT)
        return replace(assist, state=AssistState.GRANTED, coupon_id=coupon.id)

    def _reward_helper(self, campaign: Campaign, helper_id: int, now: datetime) -> None:
        template_id = campaign.spec.assister_template_id
        if template_id is None or (campaign.id, helper_id) in self.rewarded:
            return
        self.rewarded.add((campaign.id, helper_id))
        try:
            self.coupons.issue(self.coupons.templates[template_id], helper_id, now)
        except (SoldOut, LimitReached, Disabled):
            pass

    def _shown(self, assist: Assist, now: datetime) -> Assist:
        campaign = self.campaigns[assist.campaign_id]
        closes_at = rules.closes_at(campaign.spec.ends_at, campaign.ended_at)
        return replace(assist, state=rules.shown_state(assist, closes_at, now))

    async def assists_by_id(self, shop_id: int, ids: Sequence[int], now: datetime) -> list[Assist | None]:
        return [self._shown(a, now) if (a := self.assists.get(i)) and a.shop_id == shop_id else None for i in ids]

    async def assists_of(self, shop_id: int, shopper_id: int, now: datetime) -> list[Assist]:
        return [self._shown(a, now) for a in sorted(self.assists.values(), key=lambda a: a.id)
                if a.shop_id == shop_id and a.initiator_id == shopper_id]
