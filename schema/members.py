"""Member, campaign and assist types."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry

from adapters.members import port
from adapters.members.rules import rules_text
from schema.common import Node, UserError, gid
from schema.coupons import Coupon, CouponTemplate


@strawberry.type
class AssistCampaign(Node):
    code: str
    title: str
    required_assists: int
    requires_follow: bool
    requires_membership: bool
    starts_at: datetime
    ends_at: datetime
    helper_daily_limit: int
    ended_at: datetime | None = strawberry.field(description=(
        "When the merchant ended it early: no assist starts and no help counts since (CAMPAIGN_NOT_ACTIVE); "
        "the coupons granted stay."))
    campaign: strawberry.Private[port.Campaign]

    async def _template(self, info: strawberry.Info, template_id: int) -> CouponTemplate:
        found = await info.context.loaders.template_by_id.load((self.campaign.shop_id, template_id))
        assert found is not None, "a campaign's templates stay"
        return CouponTemplate.of(found)

    @strawberry.field(description="The full rules as shown to shoppers: assists needed, deadline, rewards.")
    async def rules(self, info: strawberry.Info) -> str:
        reward = await self._template(info, self.campaign.spec.reward_template_id)
        helper_id = self.campaign.spec.assister_template_id
        helper = await self._template(info, helper_id) if helper_id is not None else None
        return rules_text(self.campaign, reward.title, helper.title if helper else None)

    @strawberry.field
    async def reward(self, info: strawberry.Info) -> CouponTemplate:
        return await self._template(info, self.campaign.spec.reward_template_id)

    @strawberry.field
    async def assister_reward(self, info: strawberry.Info) -> CouponTemplate | None:
        helper_id = self.campaign.spec.assister_template_id
        return await self._template(info, helper_id) if helper_id is not None else None

    @classmethod
    def of(cls, c: port.Campaign) -> AssistCampaign:
        s = c.spec
        return cls(id=gid("AssistCampaign", c.id), code=s.code, title=s.title, required_assists=s.required_assists,
                   requires_follow=s.requires_follow, requires_membership=s.requires_membership,
                   starts_at=s.starts_at, ends_at=s.ends_at, helper_daily_limit=s.helper_daily_limit,
                   ended_at=c.ended_at, campaign=c)


@strawberry.enum
class AssistState(enum.Enum):
    OPEN = "OPEN"
    GRANTED = "GRANTED"
    SOLD_OUT = "SOLD_OUT"
    EXPIRED = "EXPIRED"


@strawberry.type
class Assist(Node):
    state: AssistState
    assist_count: int
    required_assists: int
    record: strawberry.Private[port.Assist]

    @strawberry.field
    async def campaign(self, info: strawberry.Info) -> AssistCampaign:
        found = await info.context.loaders.campaign_by_id.load((self.record.shop_id, self.record.campaign_id))
        assert found is not None
        return AssistCampaign.of(found)

    @strawberry.field(description="The coupon granted to the initiator once the assists are complete.")
    async def coupon(self, info: strawberry.Info) -> Coupon | None:
        if self.record.coupon_id is None:
            return None
        found = await info.context.loaders.coupon_by_id.load((self.record.shop_id, self.record.coupon_id))
        return Coupon.of(found) if found else None

    @classmethod
    def of(cls, a: port.Assist) -> Assist:
        return cls(id=gid("Assist", a.id), state=AssistState(a.state.value), assist_count=a.count,
                   required_assists=a.required, record=a)


@strawberry.type
class AssistPayload:
    assist: Assist | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AssistCampaignPayload:
    campaign: AssistCampaign | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class AssistCampaignInput:
    code: str
    title: str
    required_assists: int
    reward_template_code: str
    assister_reward_template_code: str | None = None
    requires_follow: bool = True
    requires_membership: bool = True
    helper_daily_limit: int = 3
    starts_at: datetime
    ends_at: datetime


_FIXED_ONCE_STARTED = "Fixed once any assist has started (INVALID_STATE): it is what initiators were promised."


@strawberry.input(description=(
    "What to change of an assist campaign; a field left out stays as it is. Checked by the rules of "
    "assistCampaignCreate, on the campaign as it would be. Each assist keeps the requiredAssists it "
    "started with: a new number applies to assists started after. Once any assist has started, the "
    "rewards and startsAt are fixed and endsAt may move later only (INVALID_STATE; assistCampaignEnd "
    "ends it now). The code is the campaign's key: it stays."))
class AssistCampaignUpdateInput:
    title: str | None = strawberry.UNSET
    required_assists: int | None = strawberry.field(
        default=strawberry.UNSET, description="For assists started from now on; those started keep theirs.")
    reward_template_code: str | None = strawberry.field(default=strawberry.UNSET, description=_FIXED_ONCE_STARTED)
    assister_reward_template_code: str | None = strawberry.field(
        default=strawberry.UNSET, description="null: no reward for helpers. " + _FIXED_ONCE_STARTED)
    requires_follow: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Checked when an assist starts.")
    requires_membership: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Checked when an assist starts.")
    helper_daily_limit: int | None = strawberry.UNSET
    starts_at: datetime | None = strawberry.field(default=strawberry.UNSET, description=_FIXED_ONCE_STARTED)
    ends_at: datetime | None = strawberry.field(
        default=strawberry.UNSET, description="Once any assist has started, it may move later only.")


@strawberry.type
class AssistCampaignUpdatePayload:
    campaign: AssistCampaign | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AssistCampaignEndPayload:
    campaign: AssistCampaign | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
