"""What a catalog file may not change of coupon templates and campaigns that have a history:
the rules couponTemplateUpdate and assistCampaignUpdate apply (adapters/coupons/rules.py,
adapters/members/rules.py), applied to an import too, so no path rewrites what a coupon
issued is worth or what a started assist was promised."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime

from adapters.catalog.entries import CatalogFile
from adapters.catalog.rows import campaign_spec, template_spec
from adapters.coupons import rules as coupon_rules
from adapters.coupons.port import Template
from adapters.members import rules as campaign_rules
from adapters.members.port import Campaign


def history_conflicts(
    c: CatalogFile,
    now: datetime,
    templates: Mapping[str, Template],
    campaigns: Mapping[str, Campaign],
    started: Collection[int],
    sku_ids: Mapping[str, int],
    category_ids: Mapping[str, int],
) -> list[tuple[str, str]]:
    """(path, reason) for each change the file makes that a stored template's issued coupons or a
    stored campaign's ``started`` assists forbid. ``templates`` and ``campaigns`` are the shop's
    by code; the id maps hold what is stored (anything the file adds is new, so it differs)."""
    conflicts: list[tuple[str, str]] = []
    skus = _with_new(sku_ids, (code for entry in c.coupons for code in entry.skuCodes or ()))
    categories = _with_new(category_ids, (entry.categoryHandle for entry in c.coupons if entry.categoryHandle))
    for n, entry in enumerate(c.coupons):
        old = templates.get(entry.code)
        if old is not None:
            spec = template_spec(entry, now, skus, categories, old.spec)
            conflicts += [(f"coupons[{n}].{field}", reason)
                          for field, _, reason in coupon_rules.revision_problems(old, spec)]
    template_ids = _with_new({code: t.id for code, t in templates.items()},
                             (code for entry in c.campaigns
                              for code in (entry.rewardTemplateCode, entry.assisterRewardTemplateCode) if code))
    for n, entry in enumerate(c.campaigns):
        old_campaign = campaigns.get(entry.code)
        if old_campaign is not None and old_campaign.id in started:
            spec = campaign_spec(entry, now, template_ids, old_campaign.spec)
            conflicts += [(f"campaigns[{n}].{field}", reason)
                          for field, _, reason in campaign_rules.revision_problems(old_campaign, spec, True)]
    return conflicts


def _with_new(known: Mapping[str, int], codes: Iterable[str]) -> dict[str, int]:
    """``known``, and an id no stored row has for each code it lacks."""
    ids = dict(known)
    for code in codes:
        ids.setdefault(code, -1 - len(ids))
    return ids
