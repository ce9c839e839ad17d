"""The vocabularies of a lot's classification, as data (../shared/DOMAIN.md: tables are
versioned data with a source and an effective date, not constants of the rules).

:data:`VOCABULARIES` maps a lot field to its :class:`Vocabulary`. ``closed`` vocabularies are
what the API accepts (``transaction_mode``, ``contract_type``: ``auction.api.admin``); the
others are the customary labels, offered as choices (the spreadsheet template's lists, the
pages' menus) while the API takes any text of up to 50 characters for them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Vocabulary:
    field: str
    label: str
    values: tuple[str, ...]
    source: str
    effective_from: str
    closed: bool = False


VOCABULARIES: dict[str, Vocabulary] = {v.field: v for v in (
    Vocabulary(
        "result_type", "成果类型",
        ("专利", "技术秘密", "计算机软件著作权", "集成电路布图设计", "植物新品种",
         "生物、医药新品种", "其他"),
        "../shared/DOMAIN.md 知识产权类别 (grouped by the kind of result)", "2026-01-01"),
    Vocabulary(
        "ip_type", "知识产权类别",
        ("发明专利", "实用新型专利", "外观设计专利", "技术秘密", "计算机软件著作权",
         "集成电路布图设计专有权", "植物新品种", "生物、医药新品种", "未涉及知识产权"),
        "../shared/DOMAIN.md 知识产权类别", "2026-01-01"),
    Vocabulary(
        "technology_field", "技术领域",
        ("电子信息", "航空航天", "先进制造", "生物、医药和医疗器械", "新材料及其应用",
         "新能源与高效节能", "环境保护与资源综合利用", "核应用", "农业", "现代交通",
         "城市建设与社会发展"),
        "../shared/DOMAIN.md 技术领域 (the 11 statistics fields)", "2026-01-01"),
    Vocabulary(
        "transaction_mode", "交易方式", ("转让", "许可", "作价投资"),
        "auction.api.admin TRANSACTION_MODES", "2026-01-01", closed=True),
    Vocabulary(
        "contract_type", "合同类型", ("技术转让", "技术许可", "技术开发", "技术咨询", "技术服务"),
        "../shared/DOMAIN.md 技术合同类型 (Civil Code 2020 classes)", "2026-01-01", closed=True),
)}
