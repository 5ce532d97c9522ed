"""SQL implementation of members and assist campaigns."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Date, UniqueConstraint, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from adapters.coupons.port import Disabled, LimitReached, SoldOut
from adapters.coupons.sql import issue, template_in
from adapters.db import Database, UtcDateTime, utcnow
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
from adapters.webhooks.payloads import global_id, moment
from adapters.webhooks.port import Topic
from adapters.webhooks.sql import emit


class MemberRow(SQLModel, table=True):
    __tablename__ = "member"
    __table_args__ = (UniqueConstraint("shop_id", "shopper_id"),)
    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shop.id")
    shopper_id: int
    following: bool = False
    member: bool = False


class CampaignRow(SQLModel, table=True):
    __tablename__ = "assist_campaign"
    __table_args__ = (UniqueConstraint("shop_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shop.id")
    code: str = Field(max_length=64)
    title: str = Field(max_length=200)
    required_assists: int
    reward_template_id: int = Field(foreign_key="coupon_template.id")
    assister_template_id: int | None = Field(default=None, foreign_key="coupon_template.id")
    requires_follow: bool = True
    requires_membership: bool = True
    helper_daily_limit: int = 3
    starts_at: datetime = Field(sa_type=UtcDateTime)
    ends_at: datetime = Field(sa_type=UtcDateTime)
    # Ended early by the merchant: no assist starts or helps after it.
    ended_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class AssistRow(SQLModel, table=True):
    __tablename__ = "assist"
    __table_args__ = (
        UniqueConstraint("campaign_id", "initiator_id"),
        CheckConstraint("assist_count >= 0 AND assist_count <= required", name="assist_count_bound"),
    )
    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shop.id")
    campaign_id: int = Field(foreign_key="assist_campaign.id")
    initiator_id: int
    state: str = Field(max_length=16)
    assist_count: int = 0
    required: int
    coupon_id: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class AssistHelpRow(SQLModel, table=True):
    __tablename__ = "assist_help"
    __table_args__ = (UniqueConstraint("assist_id", "helper_id"),)
    id: int | None = Field(default=None, primary_key=True)
    assist_id: int = Field(foreign_key="assist.id")
    helper_id: int
    at: datetime = Field(sa_type=UtcDateTime)


class HelperDayRow(SQLModel, table=True):
    """How often a helper helped in a campaign on one day."""

    __tablename__ = "helper_day"
    __table_args__ = (UniqueConstraint("campaign_id", "helper_id", "day"),)
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="assist_campaign.id")
    helper_id: int
    day: date = Field(sa_type=Date)
    helps: int = 0


class HelperRewardRow(SQLModel, table=True):
    """A helper's reward in a campaign: at most one, ever."""

    __tablename__ = "helper_reward"
    __table_args__ = (UniqueConstraint("campaign_id", "helper_id"),)
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="assist_campaign.id")
    helper_id: int
    coupon_id: int | None = None


_MEM = MemberRow.__table__
_CMP = CampaignRow.__table__
_AST = AssistRow.__table__
_HLP = AssistHelpRow.__table__
_DAY = HelperDayRow.__table__
_RWD = HelperRewardRow.__table__


def campaign_from_row(row: Any) -> Campaign:
    spec = CampaignSpec(
        code=row.code, title=row.title, required_assists=row.required_assists,
        reward_template_id=row.reward_template_id, assister_template_id=row.assister_template_id,
        requires_follow=row.requires_follow, requires_membership=row.requires_membership,
        helper_daily_limit=row.helper_daily_limit, starts_at=row.starts_at, ends_at=row.ends_at,
    )
    return Campaign(id=row.id, shop_id=row.shop_id, spec=spec, ended_at=row.ended_at)


def campaign_values(spec: CampaignSpec) -> dict[str, Any]:
    return {
        "title": spec.title, "required_assists": spec.required_assists,
        "reward_template_id": spec.reward_template_id, "assister_template_id": spec.assister_template_id,
        "requires_follow": spec.requires_follow, "requires_membership": spec.requires_membership,
        "helper_daily_limit": spec.helper_daily_limit, "starts_at": spec.starts_at, "ends_at": spec.ends_at,
    }


def _assist(row: Any, closes_at: datetime, now: datetime) -> Assist:
    stored = Assist(row.id, row.shop_id, row.campaign_id, row.initiator_id, AssistState(row.state),
                    row.assist_count, row.required, row.coupon_id)
    state = rules.shown_state(stored, closes_at, now)
    return Assist(stored.id, stored.shop_id, stored.campaign_id, stored.initiator_id, state, stored.count,
                  stored.required, stored.coupon_id)


class SqlMembers:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def follow(self, shop_id: int, shopper_id: int) -> Membership:
        return await self._set(shop_id, shopper_id, "following")

    async def join(self, shop_id: int, shopper_id: int) -> Membership:
        return await self._set(shop_id, shopper_id, "member")

    async def _set(self, shop_id: int, shopper_id: int, flag: str) -> Membership:
        async with self._db.write() as session:
            await session.execute(
                self._db.insert(_MEM).values(shop_id=shop_id, shopper_id=shopper_id, following=False, member=False)
                .on_conflict_do_nothing(index_elements=["shop_id", "shopper_id"])
            )
            await session.execute(
                update(_MEM).where(_MEM.c.shop_id == shop_id, _MEM.c.shopper_id == shopper_id).values({flag: True})
            )
            return await self._membership(session, shop_id, shopper_id)

    async def _membership(self, session: AsyncSession, shop_id: int, shopper_id: int) -> Membership:
        row = (await session.execute(
            select(_MEM).where(_MEM.c.shop_id == shop_id, _MEM.c.shopper_id == shopper_id))).first()
        return Membership(row.following, row.member) if row else Membership()

    async def memberships(self, shop_id: int, shopper_ids: Sequence[int]) -> list[Membership]:
        rows = await self._db.rows(select(_MEM).where(_MEM.c.shop_id == shop_id, _MEM.c.shopper_id.in_(shopper_ids)))
        found = {r.shopper_id: Membership(r.following, r.member) for r in rows}
        return [found.get(i, Membership()) for i in shopper_ids]

    async def create_campaign(self, shop_id: int, spec: CampaignSpec) -> Campaign:
        try:
            async with self._db.write() as session:
                campaign_id = (await session.execute(
                    _CMP.insert().values(shop_id=shop_id, code=spec.code, **campaign_values(spec)).returning(_CMP.c.id)
                )).scalar_one()
        except IntegrityError as exc:
            raise CampaignExists(spec.code) from exc
        return Campaign(campaign_id, shop_id, spec)

    async def update_campaign(self, shop_id: int, campaign_id: int, base: CampaignSpec, spec: CampaignSpec) -> Campaign | None:
        async with self._db.write() as session:
            old = await self._campaign_or_none(session, shop_id, campaign_id, lock="update")
            if old is None:
                return None
            if old.spec != base:
                raise CampaignChanged()
            started = (await session.execute(select(_AST.c.id).where(_AST.c.campaign_id == campaign_id).limit(1))).first()
            if problems := rules.revision_problems(old, spec, started is not None):
                raise CampaignRevisionRefused(problems)
            await session.execute(update(_CMP).where(_CMP.c.id == campaign_id).values(**campaign_values(spec)))
            return Campaign(old.id, shop_id, spec, old.ended_at)

    async def end_campaign(self, shop_id: int, campaign_id: int, at: datetime) -> Campaign | None:
        async with self._db.write() as session:
            old = await self._campaign_or_none(session, shop_id, campaign_id, lock="update")
            if old is None or old.ended_at is not None:
                return old  # ending again keeps the first time
            await session.execute(update(_CMP).where(_CMP.c.id == campaign_id).values(ended_at=at))
            return Campaign(old.id, shop_id, old.spec, at)

    async def campaigns_by_code(self, shop_id: int, codes: Sequence[str]) -> list[Campaign | None]:
        rows = await self._db.rows(select(_CMP).where(_CMP.c.shop_id == shop_id, _CMP.c.code.in_(codes)))
        found = {r.code: campaign_from_row(r) for r in rows}
        return [found.get(c) for c in codes]

    async def campaigns_by_id(self, shop_id: int, ids: Sequence[int]) -> list[Campaign | None]:
        rows = await self._db.rows(select(_CMP).where(_CMP.c.shop_id == shop_id, _CMP.c.id.in_(ids)))
        found = {r.id: campaign_from_row(r) for r in rows}
        return [found.get(i) for i in ids]

    async def start_assist(self, shop_id: int, campaign_id: int, shopper_id: int, now: datetime) -> Assist:
        async with self._db.write() as session:
            campaign = await self._campaign(session, shop_id, campaign_id)  # shared lock: a revision waits
            existing = await self._assist_of(session, campaign, shopper_id, now)
            if existing is not None:
                return existing  # starting again returns the same assist
            rules.check_active(campaign, now)
            rules.check_prerequisites(campaign, await self._membership(session, shop_id, shopper_id))
            await session.execute(
                self._db.insert(_AST)
                .values(shop_id=shop_id, campaign_id=campaign_id, initiator_id=shopper_id,
                        state=AssistState.OPEN.value, assist_count=0, required=campaign.spec.required_assists,
                        created_at=now)
                .on_conflict_do_nothing(index_elements=["campaign_id", "initiator_id"])
            )
            found = await self._assist_of(session, campaign, shopper_id, now)
        assert found is not None
        return found

    async def help_assist(self, shop_id: int, assist_id: int, helper_id: int, now: datetime) -> Assist:
        async with self._db.write() as session:
            # The assist's row lock puts rival helpers in a queue: each sees the count the last one left.
            row = (await session.execute(
                select(_AST).where(_AST.c.id == assist_id, _AST.c.shop_id == shop_id).with_for_update())).first()
            if row is None:
                raise AssistError("NOT_FOUND", "no such assist")
            campaign = await self._campaign(session, shop_id, row.campaign_id)
            rules.check_active(campaign, now)
            if helper_id == row.initiator_id:
                raise AssistError("SELF_ASSIST", "nobody can help their own assist")
            if row.state != AssistState.OPEN.value or row.assist_count >= row.required:
                raise AssistError("ASSIST_COMPLETED", "this assist has all the help it needs")
            helped = await session.execute(
                self._db.insert(_HLP).values(assist_id=assist_id, helper_id=helper_id, at=now)
                .on_conflict_do_nothing(index_elements=["assist_id", "helper_id"])
            )
            if helped.rowcount != 1:
                raise AssistError("ALREADY_ASSISTED", "you have helped this assist already")
            await self._count_helper_day(session, campaign, helper_id, now)
            counted = await session.execute(
                update(_AST).where(_AST.c.id == assist_id, _AST.c.assist_count < _AST.c.required)
                .values(assist_count=_AST.c.assist_count + 1)
            )
            if counted.rowcount != 1:
                raise AssistError("ASSIST_COMPLETED", "this assist has all the help it needs")
            if row.assist_count + 1 == row.required:
                await self._grant(session, shop_id, campaign, assist_id, row.initiator_id, now)
            await self._reward_helper(session, shop_id, campaign, helper_id, now)
            return _assist((await session.execute(select(_AST).where(_AST.c.id == assist_id))).one(),
                           rules.closes_at(campaign.spec.ends_at, campaign.ended_at), now)

    async def _count_helper_day(self, session: AsyncSession, campaign: Campaign, helper_id: int, now: datetime) -> None:
        day = rules.helper_day(now)
        await session.execute(
            self._db.insert(_DAY).values(campaign_id=campaign.id, helper_id=helper_id, day=day, helps=0)
            .on_conflict_do_nothing(index_elements=["campaign_id", "helper_id", "day"])
        )
        counted = await session.execute(
            update(_DAY)
            .where(_DAY.c.campaign_id == campaign.id, _DAY.c.helper_id == helper_id, _DAY.c.day == day,
                   _DAY.c.helps < campaign.spec.helper_daily_limit)
            .values(helps=_DAY.c.helps + 1)
        )
        if counted.rowcount != 1:
            raise AssistError("ASSIST_DAILY_LIMIT", f"at most {campaign.spec.helper_daily_limit} helps a day")

    async def _grant(
        self, session: AsyncSession, shop_id: int, campaign: Campaign, assist_id: int, initiator_id: int, now: datetime
    ) -> None:
        template = await template_in(session, shop_id, campaign.spec.reward_template_id)
        assert template is not None
        try:
            async with session.begin_nested():  # a sold-out reward must not undo the help itself
                coupon = await issue(session, self._db, shop_id, template, initiator_id, now)
        except (SoldOut, LimitReached, Disabled):  # a disabled reward grants no more, as one run out
            state, coupon_id = AssistState.SOLD_OUT, None
        else:
            state, coupon_id = AssistState.GRANTED, coupon.id
        granted = await session.execute(
            update(_AST).where(_AST.c.id == assist_id, _AST.c.state == AssistState.OPEN.value)
            .values(state=state.value, coupon_id=coupon_id)
        )
        if granted.rowcount == 1 and state is AssistState.GRANTED:
            await emit(session, shop_id, Topic.ASSIST_GRANTED, {"assist": {
                "id": global_id("Assist", assist_id), "campaignCode": campaign.spec.code,
                "initiatorId": global_id("Shopper", initiator_id), "assists": campaign.spec.required_assists,
                "couponId": global_id("Coupon", coupon.id), "couponTemplateCode": template.spec.code,
                "grantedAt": moment(now)}}, now)

    async def _reward_helper(
        self, session: AsyncSession, shop_id: int, campaign: Campaign, helper_id: int, now: datetime
    ) -> None:
        if campaign.spec.assister_template_id is None:
            return
        first = await session.execute(
            self._db.insert(_RWD).values(campaign_id=campaign.id, helper_id=helper_id)
            .on_conflict_do_nothing(index_elements=["campaign_id", "helper_id"])
        )
        if first.rowcount != 1:
            return  # rewarded (or out of luck) once already in this campaign
        template = await template_in(session, shop_id, campaign.spec.assister_template_id)
        assert template is not None
        try:
            async with session.begin_nested():
                coupon = await issue(session, self._db, shop_id, template, helper_id, now)
        except (SoldOut, LimitReached, Disabled):
            return
        await session.execute(
            update(_RWD).where(_RWD.c.campaign_id == campaign.id, _RWD.c.helper_id == helper_id)
            .values(coupon_id=coupon.id)
        )

    async def assists_by_id(self, shop_id: int, ids: Sequence[int], now: datetime) -> list[Assist | None]:
        stmt = (select(_AST, _CMP.c.ends_at, _CMP.c.ended_at).join(_CMP, _CMP.c.id == _AST.c.campaign_id)
                .where(_AST.c.shop_id == shop_id, _AST.c.id.in_(ids)))
        found = {r.id: _assist(r, rules.closes_at(r.ends_at, r.ended_at), now) for r in await self._db.rows(stmt)}
        return [found.get(i) for i in ids]

    async def assists_of(self, shop_id: int, shopper_id: int, now: datetime) -> list[Assist]:
        stmt = (select(_AST, _CMP.c.ends_at, _CMP.c.ended_at).join(_CMP, _CMP.c.id == _AST.c.campaign_id)
                .where(_AST.c.shop_id == shop_id, _AST.c.initiator_id == shopper_id).order_by(_AST.c.id))
        return [_assist(r, rules.closes_at(r.ends_at, r.ended_at), now) for r in await self._db.rows(stmt)]

    async def _campaign(self, session: AsyncSession, shop_id: int, campaign_id: int) -> Campaign:
        """The campaign under a shared row lock: starts and helps go side by side, while a
        revision or an end (which take it exclusively) waits for them, and they for it."""
        campaign = await self._campaign_or_none(session, shop_id, campaign_id, lock="share")
        if campaign is None:
            raise AssistError("NOT_FOUND", "no such campaign")
        return campaign

    async def _campaign_or_none(self, session: AsyncSession, shop_id: int, campaign_id: int, lock: str) -> Campaign | None:
        stmt = select(_CMP).where(_CMP.c.id == campaign_id, _CMP.c.shop_id == shop_id)
        row = (await session.execute(stmt.with_for_update(read=lock == "share"))).first()
        return campaign_from_row(row) if row else None

    async def _assist_of(self, session: AsyncSession, campaign: Campaign, shopper_id: int, now: datetime) -> Assist | None:
        row = (await session.execute(
            select(_AST).where(_AST.c.campaign_id == campaign.id, _AST.c.initiator_id == shopper_id))).first()
        return _assist(row, rules.closes_at(campaign.spec.ends_at, campaign.ended_at), now) if row else None
