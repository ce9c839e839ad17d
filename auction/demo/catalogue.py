"""Demo data: markets, lots and bidders (realistic, Chinese, with valid credit codes).

Money is integer fen. Increments follow the guideline (≤ 2 % of the start price up to 10万元,
≤ 1 % up to 100万元, ≤ 0.5 % above); :func:`increment_for` computes the largest round increment
that respects it.
"""

from __future__ import annotations

from dataclasses import dataclass

from auction_client import uscc

WAN = 1_000_000  # 1万元 in fen


@dataclass(frozen=True, slots=True)
class MarketSpec:
    code: str
    slug: str
    name: str
    level: str
    parent_code: str | None = None


@dataclass(frozen=True, slots=True)
class HolderSpec:
    name: str
    uscc: str


@dataclass(frozen=True, slots=True)
class LotSpec:
    """One technology result. ``reserve_ratio`` is a percentage of the start (0 = no reserve)."""

    title: str
    result_type: str
    ip_type: str
    technology_field: str
    transaction_mode: str  # 转让 / 许可
    holder: HolderSpec
    start_fen: int
    description: str = ""
    reserve_pct: int = 0
    non_tech_fen: int = 0

    @property
    def contract_type(self) -> str:
        return "技术许可" if self.transaction_mode == "许可" else "技术转让"

    @property
    def increment_fen(self) -> int:
        return increment_for(self.start_fen)

    @property
    def reserve_fen(self) -> int:
        return self.start_fen * self.reserve_pct // 100


@dataclass(frozen=True, slots=True)
class BidderSpec:
    name: str
    uscc: str
    contact: str


def increment_for(start_fen: int) -> int:
    """The largest "round" increment within the guideline for ``start_fen``.

    Round steps are 1/2/5 × 10^n fen; the cap is 2 % (≤ 10万元), 1 % (≤ 100万元), else 0.5 %.
    """
    if start_fen <= 10 * WAN:
        cap = start_fen * 2 // 100
    elif start_fen <= 100 * WAN:
        cap = start_fen // 100
    else:
        cap = start_fen * 5 // 1000
    best = 100  # 1元
    step = 100
    while step <= cap:
        for m in (1, 2, 5):
            if step * m <= cap:
                best = step * m
        step *= 10
    return best


PROVINCE = MarketSpec("370000", "sd", "山东省技术市场", "province")
CITY = MarketSpec("370100", "sd-jinan", "济南市技术市场", "city", "370000")
# 齐河县 belongs to 德州市 (3714xx), not to 济南 (3701xx): a county sits under its own city
DEZHOU = MarketSpec("371400", "sd-dezhou", "德州市技术市场", "city", "370000")
COUNTY = MarketSpec("371425", "sd-qihe", "齐河县技术市场", "county", "371400")
MARKETS = (PROVINCE, CITY, DEZHOU, COUNTY)


def _holder(name: str, prefix: str, division: str) -> HolderSpec:
    return HolderSpec(name, uscc.synthetic(prefix, division, f"holder:{name}"))


SDU = _holder("山东大学", uscc.PUBLIC_INSTITUTION, "370000")
SAAS = _holder("山东省农业科学院", uscc.PUBLIC_INSTITUTION, "370000")
QLU = _holder("齐鲁工业大学（山东省科学院）", uscc.PUBLIC_INSTITUTION, "370100")
ENV_INST = _holder("山东省环境保护科学研究设计院有限公司", uscc.ENTERPRISE, "370100")
SOFT = _holder("济南智维信息技术有限公司", uscc.ENTERPRISE, "370100")
EV = _holder("威海金能汽车零部件有限公司", uscc.ENTERPRISE, "371000")
PV = _holder("德州光合新能源科技有限公司", uscc.ENTERPRISE, "371400")
QIHE_AGRI = _holder("齐河县农业技术推广中心", uscc.PUBLIC_INSTITUTION, "371425")
DZ_UNI = _holder("德州学院", uscc.PUBLIC_INSTITUTION, "371400")

SPRING_LOTS = (
    LotSpec(
        "一种高效锂电池正极材料制备方法 发明专利",
        "专利",
        "发明专利",
        "新材料及其应用",
        "转让",
        SDU,
        120 * WAN,
        "高镍三元正极材料共沉淀制备工艺，首次放电比容量 ≥ 205 mAh/g，已完成中试。",
        reserve_pct=105,
    ),
    LotSpec(
        "耐盐碱小麦新品种“鲁麦盐1号” 植物新品种权",
        "植物新品种",
        "植物新品种权",
        "农业",
        "转让",
        SAAS,
        80 * WAN,
        "在含盐量 0.3% 的盐碱地亩产 450 公斤以上，已通过山东省审定。",
    ),
    LotSpec(
        "工业设备预测性维护平台 V2.0 计算机软件著作权",
        "计算机软件著作权",
        "软件著作权",
        "电子信息",
        "许可",
        SOFT,
        45 * WAN,
        "基于振动与温度数据的故障预警，普通许可，许可期 5 年。",
    ),
    LotSpec(
        "低功耗窄带物联网传感芯片 集成电路布图设计",
        "集成电路布图设计",
        "集成电路布图设计专有权",
        "电子信息",
        "转让",
        QLU,
        300 * WAN,
        "55nm 工艺，待机电流 < 1 μA，含流片验证报告。",
        reserve_pct=200,  # above every bidder's private maximum: this lot passes (流拍)
    ),
    LotSpec(
        "高盐有机废水催化湿式氧化处理工艺 技术秘密",
        "技术秘密",
        "技术秘密",
        "环境保护与资源综合利用",
        "许可",
        ENV_INST,
        60 * WAN,
        "COD 去除率 ≥ 90%，独占许可，含工艺包与操作规程。",
        reserve_pct=110,
        non_tech_fen=5 * WAN,
    ),
    LotSpec(
        "一种新能源汽车电池包液冷热管理装置 实用新型专利",
        "专利",
        "实用新型",
        "现代交通",
        "转让",
        EV,
        20 * WAN,
        "电芯温差控制在 3℃ 以内，已小批量装车。",
    ),
    LotSpec(
        "一种光伏组件自动清洗机器人及其控制方法 发明专利",
        "专利",
        "发明专利",
        "新能源与高效节能",
        "许可",
        PV,
        150 * WAN,
        "无水清洗，单台日清洗 2 MW，普通许可。",
    ),
)

QIHE_LOTS = (
    LotSpec(
        "黄河滩区高蛋白大豆高产栽培技术 技术秘密",
        "技术秘密",
        "技术秘密",
        "农业",
        "许可",
        QIHE_AGRI,
        25 * WAN,
        "亩产提高 15% 以上，含配套种植规程与培训。",
    ),
    LotSpec(
        "设施蔬菜水肥一体化智能控制系统 V1.0 计算机软件著作权",
        "计算机软件著作权",
        "软件著作权",
        "农业",
        "转让",
        SOFT,
        38 * WAN,
        "按作物生育期自动配肥灌溉，节水 30%。",
    ),
    LotSpec(
        "一种玉米秸秆快速腐熟菌剂及其制备方法 发明专利",
        "专利",
        "发明专利",
        "农业",
        "转让",
        DZ_UNI,
        52 * WAN,
        "秸秆还田 30 天腐熟率 ≥ 80%。",
        reserve_pct=105,
    ),
)


def _bidder(name: str, division: str, contact: str) -> BidderSpec:
    return BidderSpec(name, uscc.synthetic(uscc.ENTERPRISE, division, f"bidder:{name}"), contact)


BIDDERS = (
    _bidder("山东鲁信新材料科技有限公司", "370100", "王经理 0531-88000001"),
    _bidder("青岛海澜智能装备有限公司", "370200", "李工 0532-88000002"),
    _bidder("淄博齐润化工环保科技有限公司", "370300", "张总 0533-88000003"),
    _bidder("威海蓝湾生物科技有限公司", "371000", "刘经理 0631-88000004"),
    _bidder("德州华禾农业发展有限公司", "371400", "陈总 0534-88000005"),
    _bidder("齐河县黄河沿农业科技有限公司", "371425", "赵经理 0534-88000006"),
    _bidder("平顶山中原储能技术有限公司", "410400", "孙工 0375-88000007"),
    _bidder("福州闽江电子信息有限公司", "350100", "周经理 0591-88000008"),
)

SPRING_NAME = "2026年春季科技成果竞价(拍卖)会"
QIHE_NAME = "齐河县2026年特色农业技术网络竞价专场"
HANDS_ON_NAME = "济南市科技成果竞价体验专场"
