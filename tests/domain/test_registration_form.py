"""The registration form's derived classifications: contract sub-type, nature and region."""

from __future__ import annotations

import pytest

from auction.domain.registration_form import (
    NATURES,
    SUBTYPES,
    contract_subtype,
    is_registration_no,
    nature_of_uscc,
    region_of_resident_id,
    region_of_uscc,
)


@pytest.mark.parametrize(("contract", "result", "ip", "key"), [
    ("技术转让", "专利", "发明专利", "TRF_PATENT"),
    ("技术转让", "专利", "实用新型专利", "TRF_PATENT"),
    ("技术转让", "专利", "发明专利申请", "TRF_PATENT_APP"),
    ("技术转让", "技术秘密", "技术秘密", "TRF_KNOWHOW"),
    ("技术转让", "计算机软件著作权", "计算机软件著作权", "TRF_OTHER_IP"),
    ("技术转让", "植物新品种", "植物新品种权", "TRF_OTHER_IP"),
    ("技术转让", "集成电路布图设计", "集成电路布图设计专有权", "TRF_OTHER_IP"),
    ("技术转让", "其他", "未涉及知识产权", "TRF_KNOWHOW"),
    ("技术许可", "专利", "发明专利", "LIC_PATENT"),
    ("技术许可", "技术秘密", "技术秘密", "LIC_KNOWHOW"),
    ("技术许可", "植物新品种", "植物新品种", "LIC_OTHER_IP"),
    ("技术许可", "专利", "", "LIC_PATENT"),
    ("技术开发", "其他", "", "DEV_COMMISSIONED"),
    ("技术咨询", "其他", "", "CONSULT"),
    ("技术服务", "其他", "", "SERVICE_GENERAL"),
    ("买卖", "专利", "发明专利", ""),
])
def test_contract_subtype_from_contract_type_and_ip(
    contract: str, result: str, ip: str, key: str
) -> None:
    """Each contract class with each IP group gives its DOMAIN.md sub-type key."""
    assert contract_subtype(contract, result, ip) == key
    if key:
        assert SUBTYPES[key].contract_type == contract


@pytest.mark.parametrize(("uscc", "nature"), [
    ("91350100M000100Y43", "企业"), ("92370100MA00000000", "企业"),
    ("12370000MB1234567X", "其他事业单位"), ("11100000000013127G", "机关"),
    ("51100000500000000X", "社团"), ("52370000MJ0000000X", "其他"),
    ("Y1370000000000000X", "其他"),
])
def test_nature_from_the_first_two_characters_of_the_credit_code(uscc: str, nature: str) -> None:
    """91/92 企业, 12 事业单位 (not told apart from 高等院校 / 科研机构), 11 机关, 51 社团."""
    assert nature_of_uscc(uscc) == nature
    assert nature in NATURES


def test_region_codes_and_registration_numbers() -> None:
    """Region: USCC positions 3–8, resident id 1–6; a registration number is 16 digits."""
    assert region_of_uscc("91350100M000100Y43") == "350100"
    assert region_of_resident_id("11010519491231002X") == "110105"
    assert is_registration_no("2026370100000001")
    for bad in ("202637010000001", "20263701000000012", "2026３70100000001", 2026370100000001,
                "2026-37010000001", None):
        assert not is_registration_no(bad)
