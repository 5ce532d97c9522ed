"""Following, membership, assists, and the merchant's assist campaigns: created, changed and ended."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import strawberry

from adapters.db import utcnow
from adapters.members.port import (
    AssistError,
    AssistState,
    Campaign,
    CampaignChanged,
    CampaignExists,
    CampaignRevisionRefused,
    CampaignSpec,
)
from adapters.members.rules import campaign_problems
from gateway.observe import ASSIST_COUPON_GRANTED, note
from resolvers.revisions import revised
from resolvers.shopper_auth import signed_in
from resolvers.user_errors import CODE_PATTERN, changes_given, id_of, user_error
from schema.common import UserError, parse_gid
from schema.members import (
    Assist,
    AssistCampaign,
    AssistCampaignEndPayload,
    AssistCampaignInput,
    AssistCampaignPayload,
    AssistCampaignUpdateInput,
    AssistCampaignUpdatePayload,
    AssistPayload,
)
from schema.shops import Shopper, ShopperPayload


@strawberry.type
class MembersQuery:
    @strawberry.field
    async def campaign(self, info: strawberry.Info, code: str) -> AssistCampaign | None:
        shop = await info.context.shop()
        [found] = await info.context.adapters.members.campaigns_by_code(shop.id, [code])
        return AssistCampaign.of(found) if found else None

    @strawberry.field
    async def assist(self, info: strawberry.Info, id: strawberry.ID) -> Assist | None:
        shop = await info.context.shop()
        parsed = parse_gid(str(id))
        if parsed is None or parsed[0] != "Assist":
            return None
        [found] = await info.context.adapters.members.assists_by_id(shop.id, [parsed[1]], utcnow())
        return Assist.of(found) if found else None


async def _shopper_payload(info: strawberry.Info, shop_id: int, shopper_id: int) -> ShopperPayload:
    shopper = await info.context.loaders.shopper_by_id.load((shop_id, shopper_id))
    return ShopperPayload(shopper=Shopper.of(shopper) if shopper else None)


@strawberry.type
class MembersMutation:
    @strawberry.mutation
    async def shop_follow(self, info: strawberry.Info) -> ShopperPayload:
        shop, shopper_id = await signed_in(info)
        await info.context.adapters.members.follow(shop.id, shopper_id)
        return await _shopper_payload(info, shop.id, shopper_id)

    @strawberry.mutation
    async def membership_join(self, info: strawberry.Info) -> ShopperPayload:
        shop, shopper_id = await signed_in(info)
        await info.context.adapters.members.join(shop.id, shopper_id)
        return await _shopper_payload(info, shop.id, shopper_id)

    @strawberry.mutation
    async def assist_start(self, info: strawberry.Info, campaign_code: str) -> AssistPayload:
        shop, shopper_id = await signed_in(info)
        members = info.context.adapters.members
        [campaign] = await members.campaigns_by_code(shop.id, [campaign_code])
        if campaign is None:
            return AssistPayload(user_errors=[user_error("NOT_FOUND", ["campaignCode"], "no such campaign")])
        try:
            assist = await members.start_assist(shop.id, campaign.id, shopper_id, utcnow())
        except AssistError as exc:
            return AssistPayload(user_errors=[user_error(exc.code, ["campaignCode"], str(exc))])
        return AssistPayload(assist=Assist.of(assist))

    @strawberry.mutation
    async def assist_help(self, info: strawberry.Info, assist_id: strawberry.ID) -> AssistPayload:
        shop, shopper_id = await signed_in(info)
        parsed = parse_gid(str(assist_id))
        if parsed is None or parsed[0] != "Assist":
            return AssistPayload(user_errors=[user_error("NOT_FOUND", ["assistId"], "no such assist")])
        try:
            assist = await info.context.adapters.members.help_assist(shop.id, parsed[1], shopper_id, utcnow())
        except AssistError as exc:
            return AssistPayload(user_errors=[user_error(exc.code, ["assistId"], str(exc))])
        if assist.state is AssistState.GRANTED:  # only the help that completes an assist can grant it
            note(ASSIST_COUPON_GRANTED)
        return AssistPayload(assist=Assist.of(assist))

    @strawberry.mutation(description="Create an assist campaign (secret key); a disabled reward template is "
                                     "refused (INVALID_STATE).")
    async def assist_campaign_create(self, info: strawberry.Info, input: AssistCampaignInput) -> AssistCampaignPayload:
        shop = await info.context.merchant_shop()
        errors, spec = await _campaign_spec(info, shop.id, input, kept=frozenset())
        if errors or spec is None:
            return AssistCampaignPayload(user_errors=errors)
        try:
            campaign = await info.context.adapters.members.create_campaign(shop.id, spec)
        except CampaignExists as exc:
            return AssistCampaignPayload(user_errors=[user_error("INVALID", ["input", "code"], str(exc))])
        return AssistCampaignPayload(campaign=AssistCampaign.of(campaign))

    @strawberry.mutation(description=(
        "Change an assist campaign (secret key), checked as assistCampaignCreate checks a new one. Assists "
        "already started keep what they rely on: each the requiredAssists it started with, and, once any "
        "has started, the rewards and startsAt (INVALID_STATE) and an endsAt that may move later only. "
        "Another shop's campaign, or none: NOT_FOUND."))
    async def assist_campaign_update(self, info: strawberry.Info, id: strawberry.ID,
                                     input: AssistCampaignUpdateInput) -> AssistCampaignUpdatePayload:
        ctx = info.context
        shop = await ctx.merchant_shop()
        errors: list[UserError] = []
        number = id_of(str(id), "AssistCampaign", ["id"], errors)
        changes = changes_given(input, errors, {name: name for name in _UPDATABLE},
                                clearable={"assister_reward_template_code"})
        if errors or number is None:
            return AssistCampaignUpdatePayload(user_errors=errors)
        async def load() -> Campaign | None:
            [old] = await ctx.adapters.members.campaigns_by_id(shop.id, [number])
            return old

        async def check(old: Campaign) -> tuple[list[UserError], CampaignSpec | None]:
            kept = frozenset(t for t in (old.spec.reward_template_id, old.spec.assister_template_id) if t is not None)
            return await _campaign_spec(info, shop.id, SimpleNamespace(**{**await _as_input(info, old), **changes}),
                                        kept=kept)

        async def write(old: Campaign, spec: CampaignSpec) -> Campaign | None:
            return await ctx.adapters.members.update_campaign(shop.id, number, old.spec, spec)

        campaign, errors = await revised("campaign", load, check, write, CampaignChanged, CampaignRevisionRefused)
        if campaign is None:
            return AssistCampaignUpdatePayload(user_errors=errors)
        await _changed(info, campaign)
        return AssistCampaignUpdatePayload(campaign=AssistCampaign.of(campaign))

    @strawberry.mutation(description=(
        "End an assist campaign now (secret key): no assist starts and no help counts from then on "
        "(CAMPAIGN_NOT_ACTIVE), open assists show EXPIRED, the coupons granted stay. Ending it again "
        "changes nothing (endedAt stays)."))
    async def assist_campaign_end(self, info: strawberry.Info, id: strawberry.ID) -> AssistCampaignEndPayload:
        ctx = info.context
        shop = await ctx.merchant_shop()
        errors: list[UserError] = []
        number = id_of(str(id), "AssistCampaign", ["id"], errors)
        campaign = None if number is None else await ctx.adapters.members.end_campaign(shop.id, number, utcnow())
        if campaign is None:
            return AssistCampaignEndPayload(user_errors=errors or [user_error("NOT_FOUND", ["id"], "no such campaign in this shop")])
        await _changed(info, campaign)
        return AssistCampaignEndPayload(campaign=AssistCampaign.of(campaign))


_UPDATABLE = ("title", "required_assists", "reward_template_code", "requires_follow", "requires_membership",
              "helper_daily_limit", "starts_at", "ends_at")


async def _changed(info: strawberry.Info, campaign: Campaign) -> None:
    """Drop what holds the campaign: every worker's cached answers, and this request's loaders."""
    await info.context.invalidate(campaign.shop_id)
    info.context.loaders.forget_campaign(campaign.shop_id, campaign.id)


async def _as_input(info: strawberry.Info, c: Campaign) -> dict[str, Any]:
    """The stored campaign as assistCampaignCreate's input would give it: what an update changes."""
    s = c.spec
    ids = [s.reward_template_id, s.assister_template_id or s.reward_template_id]
    reward, helper = await info.context.adapters.coupons.templates_by_id(c.shop_id, ids)
    return {
        "code": s.code, "title": s.title, "required_assists": s.required_assists,
        "reward_template_code": reward.spec.code if reward else "",
        "assister_reward_template_code": helper.spec.code if helper and s.assister_template_id else None,
        "requires_follow": s.requires_follow, "requires_membership": s.requires_membership,
        "helper_daily_limit": s.helper_daily_limit, "starts_at": s.starts_at, "ends_at": s.ends_at,
    }


async def _campaign_spec(
    info: strawberry.Info, shop_id: int, i: Any, kept: frozenset[int]
) -> tuple[list[UserError], CampaignSpec | None]:
    """The campaign ``i`` describes (an AssistCampaignInput, or a stored campaign with an update's
    changes), or every fault of it: the one check of assistCampaignCreate and assistCampaignUpdate.
    A template newly chosen (not in ``kept``) must not be disabled."""
    errors: list[UserError] = []

    def bad(field: str, message: str, code: str = "INVALID") -> None:
        errors.append(user_error(code, ["input", field], message))

    if not CODE_PATTERN.fullmatch(i.code):
        bad("code", "use 1-64 letters, digits, - and _")
    if not i.title.strip() or len(i.title) > 200:
        bad("title", "give 1 to 200 characters")
    for field, reason in campaign_problems(  # the times are aware: the DateTime scalar saw to it
        required_assists=i.required_assists, helper_daily_limit=i.helper_daily_limit,
        starts_at=i.starts_at, ends_at=i.ends_at,
    ):
        bad(field, reason)
    codes = [i.reward_template_code, i.assister_reward_template_code or i.reward_template_code]
    reward, helper = await info.context.adapters.coupons.templates_by_code(shop_id, codes)
    if reward is None:
        bad("rewardTemplateCode", "no coupon template with that code", code="NOT_FOUND")
    if i.assister_reward_template_code and helper is None:
        bad("assisterRewardTemplateCode", "no coupon template with that code", code="NOT_FOUND")
    for field, chosen in (("rewardTemplateCode", reward),
                          ("assisterRewardTemplateCode", helper if i.assister_reward_template_code else None)):
        if chosen is not None and chosen.disabled_at is not None and chosen.id not in kept:
            bad(field, "that coupon template is disabled: it grants nothing", code="INVALID_STATE")
    if errors or reward is None:
        return errors, None
    return [], CampaignSpec(
        code=i.code, title=i.title.strip(), required_assists=i.required_assists,
        reward_template_id=reward.id,
        assister_template_id=helper.id if i.assister_reward_template_code and helper else None,
        requires_follow=i.requires_follow, requires_membership=i.requires_membership,
        helper_daily_limit=i.helper_daily_limit, starts_at=i.starts_at, ends_at=i.ends_at,
    )
