"""Region names jimu knows, keyed by JD-style area codes.

Every province-level area, and the cities and districts the shops' rules name.
Shops' own rules decide where they sell; this list is for showing names.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Region:
    code: str
    name: str
    parent_code: str | None


_PROVINCES = {
    "1": "北京", "2": "上海", "3": "天津", "4": "重庆", "5": "河北", "6": "山西",
    "7": "河南", "8": "辽宁", "9": "吉林", "10": "黑龙江", "11": "内蒙古", "12": "江苏",
    "13": "山东", "14": "安徽", "15": "浙江", "16": "福建", "17": "湖北", "18": "湖南",
    "19": "广东", "20": "广西", "21": "江西", "22": "四川", "23": "海南", "24": "贵州",
    "25": "云南", "26": "西藏", "27": "陕西", "28": "甘肃", "29": "青海", "30": "宁夏",
    "31": "新疆", "32": "台湾", "52993": "港澳", "84": "钓鱼岛",
}
_BELOW = {
    "1_72": "朝阳区", "1_2800": "海淀区", "1_2801": "西城区", "1_2802": "东城区",
    "1_72_2799": "三环以内",
    "19_1601": "广州市", "19_1607": "深圳市",
}

PROVINCE_CODES = frozenset(_PROVINCES)

REGIONS: tuple[Region, ...] = (
    *(Region(code, name, None) for code, name in _PROVINCES.items()),
    *(Region(code, name, code.rsplit("_", 1)[0]) for code, name in _BELOW.items()),
)


def regions_under(parent_code: str | None) -> list[Region]:
    return [r for r in REGIONS if r.parent_code == parent_code]
