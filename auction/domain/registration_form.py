"""The 技术合同认定登记 form's classifications, as versioned data (../shared/DOMAIN.md), and the
pure rules that derive them from what a lot and its parties carry. No I/O.

- :data:`SUBTYPES`: the contract sub-types (合同类别) with their stable keys, each under its
  Civil Code class. :func:`contract_subtype` derives the key from the lot's contract type and
  its IP (``ip_type`` first, being the narrower, then ``result_type``)::

      技术转让 + 专利 (发明/实用新型/外观设计)      → TRF_PATENT
      技术转让 + an IP type naming 专利申请         → TRF_PATENT_APP
      技术转让 + 技术秘密                          → TRF_KNOWHOW
      技术转让 + 软件著作权 / 集成电路布图设计 /
                 植物新品种 / 生物、医药新品种     → TRF_OTHER_IP
      技术转让 + 未涉及知识产权 / anything else     → TRF_KNOWHOW (unprotected technology
                                                     changes hands as know-how)
      技术许可 + the same IP groups               → LIC_PATENT / LIC_KNOWHOW / LIC_OTHER_IP
      技术开发 → DEV_COMMISSIONED · 技术咨询 → CONSULT · 技术服务 → SERVICE_GENERAL

- :data:`NATURES`: a party's nature (主体性质) as statistics count it. :func:`nature_of_uscc`
  reads it from the first two characters of a 统一社会信用代码 (GB 32100-2015 registration
  department + organisation category, :data:`NATURE_BY_USCC_PREFIX`); a natural person is
  个人. ``12`` (事业单位) gives 其他事业单位: 高等院校 and 科研机构 are 事业单位 too and the code
  cannot tell them apart, so the market corrects the nature in a new version of the packet
  (``seller_nature`` / ``buyer_nature``) when the office asks.
- :func:`region_of_uscc` (positions 3–8) and :func:`region_of_resident_id` (positions 1–6):
  the party's 6-digit division code (GB/T 2260). Codes are lifelong: never checked against a
  list.
"""

from __future__ import annotations

from dataclasses import dataclass

#: where these tables come from and since when they hold
SOURCE = "../shared/DOMAIN.md 技术合同类型, 主体性质, 统一社会信用代码 (GB 32100-2015)"
EFFECTIVE_FROM = "2026-01-01"


@dataclass(frozen=True, slots=True)
class Subtype:
    key: str
    contract_type: str
    label: str


SUBTYPES: dict[str, Subtype] = {s.key: s for s in (
    Subtype("DEV_COMMISSIONED", "技术开发", "委托开发"),
    Subtype("DEV_COOPERATIVE", "技术开发", "合作开发"),
    Subtype("TRF_PATENT", "技术转让", "专利权转让"),
    Subtype("TRF_PATENT_APP", "技术转让", "专利申请权转让"),
    Subtype("TRF_KNOWHOW", "技术转让", "技术秘密转让"),
    Subtype("TRF_OTHER_IP", "技术转让", "其他知识产权转让"),
    Subtype("LIC_PATENT", "技术许可", "专利实施许可"),
    Subtype("LIC_KNOWHOW", "技术许可", "技术秘密使用许可"),
    Subtype("LIC_OTHER_IP", "技术许可", "其他知识产权许可"),
    Subtype("CONSULT", "技术咨询", "技术咨询"),
    Subtype("SERVICE_GENERAL", "技术服务", "一般技术服务"),
    Subtype("SERVICE_TRAINING", "技术服务", "技术培训"),
    Subtype("SERVICE_BROKERAGE", "技术服务", "技术中介"),
)}

#: IP words of the "other IP" group (其他知识产权: DOMAIN.md 技术转让 row 4)
_OTHER_IP_WORDS = ("软件", "集成电路", "布图", "植物新品种", "生物、医药新品种", "医药新品种")

#: per contract class: (patent, patent application, know-how, other IP, fallback)
_BY_CLASS: dict[str, tuple[str, str, str, str, str]] = {
    "技术转让": ("TRF_PATENT", "TRF_PATENT_APP", "TRF_KNOWHOW", "TRF_OTHER_IP", "TRF_KNOWHOW"),
    "技术许可": ("LIC_PATENT", "LIC_PATENT", "LIC_KNOWHOW", "LIC_OTHER_IP", "LIC_KNOWHOW"),
}
_SINGLE: dict[str, str] = {
    "技术开发": "DEV_COMMISSIONED", "技术咨询": "CONSULT", "技术服务": "SERVICE_GENERAL",
}

NATURES = ("企业", "高等院校", "科研机构", "其他事业单位", "机关", "社团", "个人", "其他")
PERSON = "个人"

#: first two characters of a credit code → nature; any other prefix is 其他
NATURE_BY_USCC_PREFIX: dict[str, str] = {
    "11": "机关",          # 机构编制: 机关
    "12": "其他事业单位",  # 机构编制: 事业单位 (universities, research institutes among them)
    "13": "社团",          # 机构编制: 群众团体
    "51": "社团",          # 民政: 社会团体
    "53": "社团",          # 民政: 基金会
    "52": "其他",          # 民政: 民办非企业单位
    "91": "企业",          # 工商: 企业
    "92": "企业",          # 工商: 个体工商户 (a business with a licence)
    "93": "其他",          # 工商: 农民专业合作社
}


def contract_subtype(contract_type: str, result_type: str, ip_type: str) -> str:
    """The sub-type key for a lot (module docstring); ``""`` for a contract type outside the
    Civil Code classes (the API accepts none such)."""
    if contract_type in _SINGLE:
        return _SINGLE[contract_type]
    keys = _BY_CLASS.get(contract_type)
    if keys is None:
        return ""
    patent, application, knowhow, other, fallback = keys
    for text in (ip_type, result_type):
        if "专利" in text:
            return application if "申请" in text else patent
        if "技术秘密" in text:
            return knowhow
        if any(word in text for word in _OTHER_IP_WORDS):
            return other
    return fallback


def subtype_label(key: str) -> str:
    found = SUBTYPES.get(key)
    return found.label if found is not None else ""


def nature_of_uscc(uscc: str) -> str:
    """The nature a credit code's first two characters give (其他 when unknown)."""
    return NATURE_BY_USCC_PREFIX.get(uscc[:2], "其他")


def region_of_uscc(uscc: str) -> str:
    """Positions 3–8 of a credit code: the division code where it was registered."""
    return uscc[2:8]


def region_of_resident_id(resident_id: str) -> str:
    """Positions 1–6 of a resident identity number: the address code."""
    return resident_id[:6]


def is_region_code(text: str) -> bool:
    """Six ASCII digits (GB/T 2260 layout; not checked against a list: codes are lifelong)."""
    return len(text) == 6 and text.isascii() and text.isdigit()


# -- the office's answer ------------------------------------------------------------------------

#: a 合同登记编号: 16 digits (layout 4|4|2|6, not checked beyond the digits: DOMAIN.md)
REGISTRATION_NO_DIGITS = 16

#: the hand-off's status as people read it: 待登记 until the office answers
STATUS_WORDS: dict[str, str] = {
    "pending": "待登记", "delivered": "待登记", "filed": "待登记",
    "registered": "已登记", "rejected": "未予登记", "dead": "移交失败",
}
#: what the status shown is, for pages: pending (待登记), registered, rejected, dead
STATUS_SHOWN: dict[str, str] = {
    "pending": "pending", "delivered": "pending", "filed": "pending",
    "registered": "registered", "rejected": "rejected", "dead": "dead",
}


def is_registration_no(text: object) -> bool:
    """``^\\d{16}$`` in ASCII digits."""
    return (isinstance(text, str) and len(text) == REGISTRATION_NO_DIGITS and text.isascii()
            and text.isdigit())
