"""Pure rules of assist campaigns."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from zoneinfo import ZoneInfo

from adapters.members.port import (
    CAMPAIGN_TIMEZONE,
    Assist,
    AssistError,
    AssistState,
    Campaign,
    CampaignSpec,
    Membership,
)

MAX_REQUIRED_ASSISTS = 10_000
MAX_HELPER_DAILY_LIMIT = 1_000


def campaign_problems(
    *, required_assists: int, helper_daily_limit: int, starts_at: datetime | None, ends_at: datetime | None
) -> Iterator[tuple[str, str]]:
    """(field, reason) for each rule a campaign breaks: the same for the API and the catalog file."""
    if not 1 <= required_assists <= MAX_REQUIRED_ASSISTS:
        yield "requiredAssists", f"must be from 1 to {MAX_REQUIRED_ASSISTS}"
    if not 1 <= helper_daily_limit <= MAX_HELPER_DAILY_LIMIT:
        yield "helperDailyLimit", f"must be from 1 to {MAX_HELPER_DAILY_LIMIT}"
    if starts_at is not None and ends_at is not None and starts_at >= ends_at:
        yield "endsAt", "must come after startsAt"


def revision_problems(old: Campaign, new: CampaignSpec, started: bool) -> list[tuple[str, str, str]]:
    """What assists already started rely on and ``new`` would change, as (field, code, reason).
    The assists needed are each assist's own (kept from its start), so changing them is free."""
    if not started:
        return []
    fixed = "assists have started: it stays as they were promised"
    problems = []
    if new.reward_template_id != old.spec.reward_template_id:
        problems.append(("rewardTemplateCode", "INVALID_STATE", fixed))
    if new.assister_template_id != old.spec.assister_template_id:
        problems.append(("assisterRewardTemplateCode", "INVALID_STATE", fixed))
    if new.starts_at != old.spec.starts_at:
        problems.append(("startsAt", "INVALID_STATE", fixed))
    if new.ends_at < old.spec.ends_at:
        problems.append(("endsAt", "INVALID_STATE",
                         "assists have started: the end may move later, not earlier (assistCampaignEnd ends it now)"))
    return problems


def closes_at(ends_at: datetime, ended_at: datetime | None) -> datetime:
    """When the campaign stops: its planned end, or earlier when the merchant ended it."""
    return ends_at if ended_at is None else min(ends_at, ended_at)


def helper_day(now: datetime) -> date:
    return now.astimezone(ZoneInfo(CAMPAIGN_TIMEZONE)).date()


def check_active(campaign: Campaign, now: datetime) -> None:
    if campaign.ended_at is not None or not campaign.spec.starts_at <= now < campaign.spec.ends_at:
        raise AssistError("CAMPAIGN_NOT_ACTIVE", "the campaign is not running now")


def check_prerequisites(campaign: Campaign, membership: Membership) -> None:
    missing = []
    if campaign.spec.requires_follow and not membership.following:
        missing.append("follow the shop")
    if campaign.spec.requires_membership and not membership.member:
        missing.append("join the membership")
    if missing:
        raise AssistError("PREREQUISITE_NOT_MET", "first " + " and ".join(missing))


def shown_state(assist: Assist, ends_at: datetime, now: datetime) -> AssistState:
    if assist.state is AssistState.OPEN and now >= ends_at:
        return AssistState.EXPIRED
    return assist.state


def rules_text(campaign: Campaign, reward_title: str, assister_title: str | None) -> str:
    """The rules as shown to shoppers, in Chinese: assists needed, deadline, prerequisites, rewards."""
    spec = campaign.spec
    deadline = spec.ends_at.astimezone(ZoneInfo(CAMPAIGN_TIMEZONE)).strftime("%Y-%m-%d %H:%M")
    parts = [f"邀请 {spec.required_assists} 位好友助力，即可获得「{reward_title}」（数量有限，发完即止）。"]
    parts.append(f"活动截止：{deadline}（北京时间）。")
    needs = [n for n, on in (("关注店铺", spec.requires_follow), ("成为会员", spec.requires_membership)) if on]
    if needs:
        parts.append(f"发起条件：{'并'.join(needs)}。")
    parts.append(f"每位好友对同一发起人只能助力一次，每天最多助力 {spec.helper_daily_limit} 次，不能为自己助力。")
    if assister_title:
        parts.append(f"助力的好友可获得「{assister_title}」一张（每个活动限一张，先到先得）。")
    return "".join(parts)
