"""Following, membership, assist campaigns and assists."""

from __future__ import annotations

import strawberry

from adapters.db import utcnow
from adapters.members.port import AssistError, AssistState, CampaignExists, CampaignSpec
from adapters.members.rules import campaign_problems
from gateway.observe import ASSIST_COUPON_GRANTED, note
from resolvers.shopper_auth import signed_in
from resolvers.user_errors import CODE_PATTERN, user_error
from schema.common import UserError, parse_gid
from schema.members import (
    Assist,
    AssistCampaign,
    AssistCampaignInput,
    AssistCampaignPayload,
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

    @strawberry.mutation(description="Create an assist campaign (secret key).")
    async def assist_campaign_create(self, info: strawberry.Info, input: AssistCampaignInput) -> AssistCampaignPayload:
        shop = await info.context.merchant_shop()
        errors: list[UserError] = []

        def bad(field: str, message: str, code: str = "INVALID") -> None:
            errors.append(user_error(code, ["input", field], message))

        if not CODE_PATTERN.fullmatch(input.code):
            bad("code", "use 1-64 letters, digits, - and _")
        if not input.title.strip() or len(input.title) > 200:
            bad("title", "give 1 to 200 characters")
        for field, reason in campaign_problems(  # the times are aware: the DateTime scalar saw to it
            required_assists=input.required_assists, helper_daily_limit=input.helper_daily_limit,
            starts_at=input.starts_at, ends_at=input.ends_at,
        ):
            bad(field, reason)
        codes = [input.reward_template_code, input.assister_reward_template_code or input.reward_template_code]
        reward, helper = await info.context.adapters.coupons.templates_by_code(shop.id, codes)
        if reward is None:
            bad("rewardTemplateCode", "no coupon template with that code", code="NOT_FOUND")
        if input.assister_reward_template_code and helper is None:
            bad("assisterRewardTemplateCode", "no coupon template with that code", code="NOT_FOUND")
        if errors or reward is None:
            return AssistCampaignPayload(user_errors=errors)
        spec = CampaignSpec(
            code=input.code, title=input.title.strip(), required_assists=input.required_assists,
            reward_template_id=reward.id,
            assister_template_id=helper.id if input.assister_reward_template_code and helper else None,
            requires_follow=input.requires_follow, requires_membership=input.requires_membership,
            helper_daily_limit=input.helper_daily_limit, starts_at=input.starts_at, ends_at=input.ends_at,
        )
        try:
            campaign = await info.context.adapters.members.create_campaign(shop.id, spec)
        except CampaignExists as exc:
            return AssistCampaignPayload(user_errors=[user_error("INVALID", ["input", "code"], str(exc))])
        return AssistCampaignPayload(campaign=AssistCampaign.of(campaign))
