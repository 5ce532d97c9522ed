"""Pure rules of delivery: where a tier goes, what it costs, its slots, and event order."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from adapters.delivery.port import (
    TIER_ORDER,
    EventKind,
    InvalidTransition,
    Offer,
    Quote,
    QuoteLine,
    SlotPlan,
    Tier,
    TierConfig,
)
from adapters.inventory.rules import serves

ID_CHECK = "ID_CHECK"


def quotes(offer: Offer, region: str, lines: Sequence[QuoteLine]) -> list[Quote]:
    """The tiers of ``offer`` that can carry ``lines`` to ``region``, in tier order."""
    found = []
    for tier in TIER_ORDER:
        config = offer.tiers.get(tier)
        fee = None if config is None else fee_for(config, region, lines)
        if config is not None and fee is not None:
            found.append(Quote(tier, config.title, fee, config.features, offer.slots.get(tier, ())))
    return found


def fee_for(config: TierConfig, region: str, lines: Sequence[QuoteLine]) -> int | None:
    """The tier's fee for these lines delivered to region; None when the tier cannot deliver them."""
    if not lines or not serves(config.regions, region):
        return None
    if config.requires_eligible_sku and not all(line.premium_eligible for line in lines):
        return None
    subtotal = sum(line.unit_price * line.quantity for line in lines)
    fee = 0 if config.free_above is not None and subtotal >= config.free_above else config.fee
    # A remote surcharge applies even when the base fee is waived (满额包邮, 偏远地区除外).
    return fee + surcharge(config.remote_surcharge, region)


def surcharge(rules: Sequence[tuple[str, int]], region: str) -> int:
    """The surcharge of the most specific rule covering the region, 0 when none does."""
    covering = [(len(rule.split("_")), amount) for rule, amount in rules if serves([rule], region)]
    return max(covering)[1] if covering else 0


def slot_windows(plan: SlotPlan, now: datetime) -> list[tuple[datetime, datetime]]:
    """Windows of the coming ``plan.days`` days in the shop's time zone that have not started."""
    zone = ZoneInfo(plan.timezone)
    today = now.astimezone(zone).date()
    windows = []
    for offset in range(plan.days):
        day = today + timedelta(days=offset)
        for window in plan.windows:
            starts_at, ends_at = _window_on(day, window, zone)
            if starts_at > now:
                windows.append((starts_at, ends_at))
    return windows


def _window_on(day: date, window: str, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start, end = window.split("-")
    starts_at = datetime.combine(day, time.fromisoformat(start), zone)
    if end == "24:00":
        ends_at = datetime.combine(day + timedelta(days=1), time(0), zone)
    else:
        ends_at = datetime.combine(day, time.fromisoformat(end), zone)
    return starts_at, ends_at


def check_event(
    tier: Tier,
    features: Sequence[str],
    history: Sequence[EventKind],
    kind: EventKind,
    balance_settled: bool,
) -> None:
    """Raise InvalidTransition unless ``kind`` may follow ``history``.

    The road is CREATED -> PICKED -> OUT_FOR_DELIVERY -> (ID_VERIFIED) -> DELIVERED,
    with FAILED after going out and a new OUT_FOR_DELIVERY after a failure.
    Where the delivery checks identity, DELIVERED needs ID_VERIFIED on the same
    trip; for PREMIUM it also needs the balance settled (collected at the door).
    """
    last = history[-1] if history else None
    if last is EventKind.DELIVERED:
        raise InvalidTransition("the order is delivered already")
    allowed_after = {
        EventKind.CREATED: (),
        EventKind.PICKED: (EventKind.CREATED,),
        EventKind.OUT_FOR_DELIVERY: (EventKind.PICKED, EventKind.FAILED),
        EventKind.ID_VERIFIED: (EventKind.OUT_FOR_DELIVERY,),
        EventKind.FAILED: (EventKind.OUT_FOR_DELIVERY, EventKind.ID_VERIFIED),
        EventKind.DELIVERED: (EventKind.OUT_FOR_DELIVERY, EventKind.ID_VERIFIED),
    }[kind]
    if last not in allowed_after:
        after = " or ".join(k.value for k in allowed_after) or "nothing"
        raise InvalidTransition(f"{kind.value} can only follow {after}, not {last.value if last else 'nothing'}")
    if kind is EventKind.ID_VERIFIED and ID_CHECK not in features:
        raise InvalidTransition("this delivery has no identity check")
    if kind is EventKind.DELIVERED:
        if ID_CHECK in features and last is not EventKind.ID_VERIFIED:
            raise InvalidTransition("the recipient's identity must be verified (ID_VERIFIED) before DELIVERED")
        if tier is Tier.PREMIUM and not balance_settled:
            raise InvalidTransition("the balance must be collected before a premium delivery is handed over")
