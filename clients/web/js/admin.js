// The market's back office (/admin/…): shared texts (中文 and English, marked data-a /
// data-a-ph / data-a-aria so common.js and account.js leave them alone), who is logged in
// (GET /auth/me with the cookie login), what each role may see (docs/roles.md), and the
// writes, every one with the CSRF header (docs/http-api.md "Cookie login").
import { el, lang, setupLang, yuan } from "./common.js";
import { call, post } from "./account.js";

export { call, post };

const DICT = {
  zh: {
    admin: "技术市场后台",
    home: "后台首页",
    catalogue: "场次与标的",
    logout: "退出",
    need_login: "请先用技术市场的工作人员账号登录。",
    go_login: "去登录",
    not_staff: "当前登录的不是技术市场工作人员账号, 后台不可用。",
    who: "当前账号",
    role: "角色",
    markets_title: "我的技术市场",
    whoami: "当前账号: {name} · {role} · {market}",
    all_markets: "全部技术市场",
    role_admin: "平台管理员",
    role_market_admin: "市场管理员",
    role_auctioneer: "拍卖师",
    role_finance: "财务",
    role_bidder: "竞买人",
    no_markets: "没有可管理的技术市场",
    no_sessions: "暂无场次",
    no_lots: "暂无标的",
    no_access: "该场次不属于您的技术市场, 无权查看。",
    new_session: "新建场次",
    sessions: "场次",
    session_name: "场次名称",
    starts_at: "开始时间",
    mode: "竞价方式",
    mode_live: "现场竞价",
    mode_timed: "限时竞价",
    season: "季别",
    season_spring: "春季",
    season_autumn: "秋季",
    season_special: "专场",
    status: "状态",
    lot_count: "标的数",
    open: "管理",
    loading: "加载中…",
    err: "请求失败: {message}",
    err_fix: "请按提示修改标出的项目",
    f_required: "请填写{label}",
    f_amount: "请输入金额 (元), 最多两位小数",
    f_int: "请输入整数",
    f_uscc: "统一社会信用代码应为 18 位 (数字和大写字母), 最后一位校验码不符",
    f_bands: "加价幅度表: 第一档须从 0 元起, 各档起点递增, 加价幅度大于 0",
    // session form
    market: "所属技术市场",
    ext_window: "延时触发时段 (秒)",
    ext_window_hint: "限时竞价: 结束前这段时间内有出价即延时",
    ext_s: "每次延时 (秒)",
    increments: "加价幅度表",
    band_from: "价格起点 (元)",
    band_inc: "加价幅度 (元)",
    band_n: "第 {n} 档",
    add_band: "增加一档",
    remove_band: "删除第 {n} 档",
    announcement: "拍卖公告",
    terms: "竞买须知",
    reg_deadline: "报名截止时间",
    contact_phone: "咨询电话",
    payee_name: "保证金收款单位",
    payee_bank: "开户银行",
    payee_account: "收款账号",
    schedule: "限时竞价日程",
    schedule_hint: "填写场次结束时间, 标的即在开始时间自动开拍, 按拍卖顺序依次截止: 第 n 件的截止时间 = 场次结束时间 + (n − 1) × 间隔, 每件各自延时。不填则由工作人员逐件开始竞价。",
    ends_at: "场次结束时间",
    close_gap: "标的截止间隔 (秒)",
    max_ext: "每件标的最多延时次数",
    max_ext_hint: "留空: 不限次数; 0: 不延时",
    hard_end: "最晚结束时间",
    hard_end_hint: "任何标的 (含延时) 都不晚于此时; 留空: 不设",
    relist: "重新挂拍",
    relist_go: "重新挂拍",
    relist_why_passed: "本标的流拍。可重新挂拍到本市场 (或下级市场) 较晚且尚未开始的场次, 起拍价不低于原起拍价的 80%。",
    relist_why_defaulted: "本标的买受人悔拍。可重新挂拍到本市场 (或下级市场) 较晚且尚未开始的场次, 起拍价不低于原起拍价的 80%; 悔拍的竞买人不能报名该场次。",
    relist_session: "挂入场次",
    relist_start: "新起拍价 (元)",
    relist_floor: "不得低于原起拍价的 80%: {amount}",
    relist_no_session: "没有可挂入的场次: 请先新建一个较晚的场次",
    relist_ok: "已重新挂拍为新标的「{title}」",
    relist_public: "公开页面",
    relist_listing_hint: "新挂牌期自新场次开始起算",
    relist_listing_days: "挂牌期 (工作日)",
    relisted_from: "本标的重新挂拍自标的",
    relisted_to: "本标的已重新挂拍为标的",
    create_session: "创建场次",
    session_created: "场次已创建",
    // session page
    session_title: "场次: {name}",
    facts: "场次信息",
    ext_rule: "延时规则",
    ext_rule_text: "结束前 {w} 秒内出价, 延时 {e} 秒",
    lots: "标的",
    new_lot: "新增标的",
    ordinal: "序号",
    title: "标的名称",
    start_price: "起拍价",
    increment: "加价幅度",
    deposit: "保证金",
    progress: "场次进度",
    registered: "报名人数",
    lots_total: "标的总数",
    lots_sold: "已成交",
    lots_passed: "流拍",
    lots_open: "竞价中",
    lots_scheduled: "待拍",
    hammer_total: "成交总额",
    run_sale: "拍卖现场",
    console: "拍卖师控制台",
    screen: "现场大屏",
    mint_console: "打开拍卖师控制台",
    auctioneer_name: "拍卖师姓名",
    console_ready: "已生成本场次的拍卖师令牌 (新窗口打开控制台):",
    console_own: "用本账号登录控制台",
    // issue 12 item 2: drafts and publishing; timed lots opened from the session page
    pub_state: "发布状态",
    pub_draft: "草稿",
    pub_published: "已发布",
    publish: "发布",
    publish_hint: "草稿只有本市场的工作人员能看到; 添加标的后发布, 公众才能看到并报名。",
    published_ok: "场次已发布",
    draft_note: "新建的场次是草稿: 添加标的后在场次页点「发布」, 公众才能看到并报名。",
    timed_open: "限时竞价: 开始竞价",
    start_bidding: "开始竞价",
    start_bidding_n: "开始竞价: {title}",
    opened_ok: "已开始竞价: {title}",
    no_scheduled: "没有待开始的标的",
    open_after_publish: "场次发布后才能开始竞价。",
    w_publish: "发布场次",
    st_scheduled: "待拍",
    st_open: "竞价中",
    st_sold: "已成交",
    st_passed: "流拍",
    st_withdrawn: "撤拍",
    ss_scheduled: "未开始",
    ss_running: "进行中",
    ss_finished: "已结束",
    // registrations
    regs: "报名审核与保证金",
    regs_desk: "报名审核",
    no_regs: "暂无报名",
    bidder: "竞买人",
    uscc: "统一社会信用代码",
    documents: "报名材料",
    agent: "代理人",
    applied_at: "报名时间",
    approve: "通过",
    approve_n: "通过: {name}",
    reject: "驳回",
    reject_n: "驳回: {name}",
    reason: "驳回原因",
    reason_n: "驳回原因: {name}",
    confirm_deposit: "确认保证金",
    confirm_n: "确认保证金: {name}",
    deposit_amount: "到账金额 (元)",
    deposit_amount_n: "到账金额 (元): {name}",
    deposit_required: "应缴 {amount}",
    paddle: "号牌 {paddle}",
    approved_ok: "已通过: {name}",
    rejected_ok: "已驳回: {name}",
    paid_ok: "保证金已确认: {name}, 号牌 {paddle}",
    none: "无",
    // lot form
    lot_new_title: "新增标的: {name}",
    result_type: "成果类型",
    ip_type: "知识产权类别",
    tech_field: "技术领域",
    transaction_mode: "交易方式",
    contract_type: "合同类型",
    holder_name: "持有人 (转让方)",
    holder_uscc: "持有人统一社会信用代码",
    start_price_yuan: "起拍价 (元)",
    increment_yuan: "加价幅度 (元)",
    deposit_yuan: "保证金 (元)",
    deposit_hint: "不填则为起拍价的 10%",
    reserve_yuan: "保留价 (元)",
    reserve_hint: "不填则无保留价; 保留价不公开",
    appraisal_yuan: "评估价 (元)",
    non_tech_yuan: "非技术性费用 (元)",
    non_tech_hint: "设备、原材料等非技术部分, 用于计算技术交易额",
    duration_min: "竞价时长 (分钟)",
    duration_hint: "限时竞价的标的须填写",
    lot_starts_at: "开始时间",
    lot_starts_hint: "北京时间; 须在场次开始与结束之间, 留空则随场次开始",
    lot_starts_listing: "挂牌标的的挂牌期自开始时间起算, 开始时间只能在创建时设置",
    lot_own_start: "本标的开始时间: {at} (北京时间)",
    description: "标的介绍",
    choose: "请选择",
    create_lot: "创建标的",
    lot_created: "标的已创建: {title}",
    guideline: "加价幅度提示",
    another_lot: "继续新增",
    back_session: "返回场次",
    import_none: "表格批量导入尚未上线。",
    import_lots: "表格导入",
    import_title: "表格导入标的: {name}",
    import_hint: "每行一个标的, 列与模板一致; XLSX 或 CSV, 不超过 2 MB。有任何一行出错则不导入任何标的。",
    template: "下载模板 (XLSX)",
    import_file: "表格文件",
    import_check: "检查表格",
    import_go: "导入标的",
    import_none_chosen: "请选择表格文件",
    import_errors: "{n} 处错误, 未导入任何标的",
    import_checked: "检查通过: {n} 个标的可以导入",
    import_done: "已导入 {n} 个标的",
    import_row: "行",
    import_col: "列",
    import_why: "原因",
    // back office: markets and people, finance, ledger, report, hand-off
    nav_markets: "市场与人员",
    nav_finance: "财务",
    nav_ledger: "保证金台账",
    nav_report: "场次报告",
    nav_deals: "成交与付款",
    nav_handoff: "合同登记移交",
    no_right: "当前账号无权使用本页。",
    market_tree: "市场层级",
    level: "层级",
    level_province: "省级",
    level_city: "市级",
    level_county: "县级",
    code: "行政区划代码",
    market_name: "市场名称",
    slug: "网址标识",
    slug_hint: "小写字母、数字和连字符, 如 dezhou-lingcheng",
    parent_market: "上级市场",
    new_market: "新建下级市场",
    create_market: "创建市场",
    market_created: "已创建市场: {name} ({code})",
    staff: "工作人员账号",
    new_account: "新建账号",
    username: "用户名",
    password: "初始密码",
    password_hint: "至少 10 位, 不能与用户名相同, 不能是常见密码",
    person_name: "姓名",
    acct_role: "账号角色",
    acct_market: "所属市场",
    create_account: "创建账号",
    account_created: "已创建账号: {username} ({role})",
    accounts_made: "本次创建的账号",
    account_id: "账号编号",
    disable: "停用",
    disable_n: "停用账号: {name}",
    disable_by_id: "按账号编号停用",
    disabled_ok: "已停用账号 {name}",
    disabled: "已停用",
    active: "正常",
    api_missing: "接口尚未提供: 账号列表、重置他人密码、修改账号角色。此处只列出本页创建的账号; 停用其他账号请输入账号编号。",
    // finance
    fin_title: "财务: {name}",
    deposits: "保证金",
    no_deposits: "暂无保证金",
    dep_state: "状态",
    dep_lot: "适用标的",
    dep_band: "全场",
    total: "合计",
    rs_invited: "待竞买人确认",
    rs_applied: "已报名",
    rs_approved: "已审核通过",
    rs_rejected: "已驳回",
    rs_deposit_paid: "保证金已确认",
    rs_withdrawn: "已撤回",
    rs_forfeited: "保证金已没收",
    no_market_access: "该市场不在您的范围内, 无权查看。",
    paddle_h: "号牌",
    ds_required: "待交纳",
    ds_confirmed: "已到账",
    ds_held: "已冻结",
    ds_released: "已退还",
    ds_applied: "已转为价款",
    ds_forfeited: "已没收",
    settle: "结算保证金",
    settle_hint: "全部标的结束后: 成交人的保证金转为价款, 其余退还。",
    settled_ok: "已结算: {applied} 笔转为价款 ({applied_fen}), {released} 笔退还 ({released_fen})",
    refunds: "退款清单",
    refunds_none: "暂无已交纳保证金的报名",
    forfeit: "没收",
    forfeit_n: "没收保证金: {name}",
    forfeit_reason: "没收原因",
    forfeit_reason_n: "没收原因: {name}",
    forfeited_ok: "已没收保证金: {name}",
    // ledger
    ledger_title: "保证金台账: {name}",
    received: "累计到账",
    conserved: "守恒核对",
    conserved_yes: "守恒: 到账合计 = 各状态余额合计",
    conserved_no: "不守恒: 到账合计与各状态余额合计不符, 请立即核查",
    sum_states: "各状态合计",
    // report
    report_title: "场次报告: {name}",
    download_xlsx: "下载 Excel",
    totals: "汇总",
    t_sold: "成交",
    t_passed: "流拍",
    t_withdrawn: "撤拍",
    t_unsettled: "未结束",
    start_total: "成交标的起拍价合计",
    bid_count: "出价次数",
    with_paddle: "领取号牌",
    deposits_applied: "转为价款",
    deposits_released: "已退还",
    result: "结果",
    price: "成交价",
    buyer: "买受人",
    bidders: "竞买人",
    won_lots: "竞得标的",
    counted: "计入报名人数",
    yes: "是",
    no: "否",
    // hand-off
    handoff: "合同登记移交",
    reg_status: "移交状态",
    attempts: "尝试次数",
    last_error: "最近错误",
    delivered_at: "送达时间",
    retry: "重试",
    retry_n: "重试移交: {title}",
    retried_ok: "已重新排队: {title}",
    no_sold: "暂无成交标的",
    not_queued: "未生成",
    hs_pending: "待移交",
    hs_delivered: "已送达",
    hs_dead: "移交失败",
    hs_filed: "已存档, 待人工上传",
    hs_registered: "已登记",
    hs_refused: "未予登记",
    packet_note: "下载移交数据: 登记材料按移交时的原样下载 (UTF-8 JSON); 更正重发后, 每一版都可下载。",
    // 操作记录, 编辑场次, 图片与附件 (issue 12 items 2, 3, 7)
    nav_audit: "操作记录",
    nav_statistics: "统计",
    audit_title: "操作记录: {name}",
    audit_from: "起始日期",
    audit_to: "截止日期 (不含)",
    audit_actor: "操作人 (用户名或账号编号)",
    audit_filter: "筛选",
    audit_csv: "导出 CSV",
    audit_at: "时间",
    audit_who: "操作人",
    audit_what: "操作",
    audit_ids: "对象编号",
    audit_status: "结果",
    audit_none: "没有符合条件的记录",
    audit_count: "共 {n} 条 (最新在前)",
    edit_session: "编辑场次",
    edit_title: "编辑场次: {name}",
    save: "保存",
    saved_ok: "已保存",
    edit_closed: "本场次已开始竞价, 场次公告、须知和其他信息不能再修改。",
    edit_until: "竞价开始 (任一标的开拍) 后, 场次公告、须知和其他信息不能再修改。",
    back_session: "返回场次",
    files: "图片与附件",
    files_n: "图片与附件: {title}",
    files_title: "图片与附件: {title}",
    file_pick: "选择文件",
    file_label: "说明 (可选)",
    file_limits: "PNG、JPEG、WebP 图片或 PDF, 每个不超过 5 MiB, 每个标的最多 20 个文件。",
    upload: "上传",
    uploaded_ok: "已上传: {name}",
    deleted_ok: "已删除: {name}",
    delete_n: "删除: {name}",
    delete: "删除",
    no_files: "暂无图片与附件",
    f_file: "请选择要上传的文件",
    f_type: "只能上传 PNG、JPEG、WebP 或 PDF 文件",
    f_size: "文件不能超过 5 MiB",
    file_name: "文件名",
    file_type: "类型",
    file_size: "大小",
    uploaded_at: "上传时间",
    w_login: "登录",
    w_logout: "退出登录",
    w_password: "修改密码",
    w_market: "新建市场",
    w_account: "新建账号",
    w_account_disable: "停用账号",
    w_session: "新建场次",
    w_session_edit: "编辑场次",
    w_lot: "新增标的",
    w_lot_import: "表格导入标的",
    w_lot_cmd: "拍卖师指令",
    w_attach: "上传标的附件",
    w_attach_del: "删除标的附件",
    w_staff_token: "生成拍卖师令牌",
    w_reg: "报名",
    w_reg_approve: "通过报名",
    w_reg_reject: "驳回报名",
    w_deposit: "确认保证金",
    w_settle: "保证金结算",
    w_forfeit: "没收保证金",
    w_lot_edit: "编辑标的",
    w_order: "调整标的顺序",
    w_refund_account: "填写退款账户",
    w_ws_cmd: "控制台指令",
    // issue 12 items 3 and 4: lot edits, the running order, refunds
    lot_admin_title: "标的管理: {title}",
    edit_lot: "编辑标的",
    edit: "编辑",
    edit_n: "编辑标的: {title}",
    lot_manage: "编辑与附件",
    save_lot: "保存修改",
    lot_saved: "已保存: {title}",
    lot_locked: "竞价已开始, 标的不能再修改。",
    deposit_edit_hint: "清空则为起拍价的 10%",
    order: "顺序",
    move_up: "上移",
    move_down: "下移",
    move_up_n: "上移: {title}",
    move_down_n: "下移: {title}",
    moved_ok: "已调整顺序: {title} 现为第 {n} 个",
    order_locked: "竞价已开始, 标的顺序不能再调整。",
    refund_due: "退款截止日: {date} (场次结束于 {closed}, 5 个工作日内退还)",
    refund_open: "场次尚未结束: 全部标的结束后计算退款截止日。",
    refund_release: "退还未成交保证金: 点击上方「结算保证金」, 成交人的保证金转为价款, 其余标记为已退还。",
    refund_paid: "已交",
    refund_applied: "转为价款",
    refund_forfeited: "没收",
    refund_to: "应退",
    refund_state: "退还",
    refund_done: "已退还",
    refund_pending: "待退还",
    refund_name: "户名",
    refund_bank: "开户行",
    refund_account: "账号",
    refund_missing: "未填写",
    refunds_csv: "导出退款清单 CSV",
  },
  en: {
    admin: "Market back office",
    home: "Back office",
    catalogue: "Sessions and lots",
    logout: "Log out",
    need_login: "Please log in with a market staff account first.",
    go_login: "Log in",
    not_staff: "This login is not a market staff account; the back office is not available.",
    who: "Account",
    role: "Role",
    markets_title: "My markets",
    whoami: "Logged in: {name} · {role} · {market}",
    all_markets: "all markets",
    role_admin: "Platform admin",
    role_market_admin: "Market admin",
    role_auctioneer: "Auctioneer",
    role_finance: "Finance",
    role_bidder: "Bidder",
    no_markets: "No market to manage",
    no_sessions: "No session yet",
    no_lots: "No lot yet",
    no_access: "This session is not of your markets.",
    new_session: "New session",
    sessions: "Sessions",
    session_name: "Session name",
    starts_at: "Starts at",
    mode: "Mode",
    mode_live: "Live",
    mode_timed: "Timed",
    season: "Season",
    season_spring: "Spring",
    season_autumn: "Autumn",
    season_special: "Special",
    status: "Status",
    lot_count: "Lots",
    open: "Manage",
    loading: "Loading…",
    err: "Request failed: {message}",
    err_fix: "Please correct the marked fields",
    f_required: "Enter the {label}",
    f_amount: "Enter an amount in yuan, at most 2 decimals",
    f_int: "Enter a whole number",
    f_uscc: "A credit code has 18 digits and capital letters; its check character does not match",
    f_bands: "Increment table: the first band starts at 0, starts ascend, increments above 0",
    market: "Market",
    ext_window: "Extension window (s)",
    ext_window_hint: "Timed lots: a bid this close to the end extends it",
    ext_s: "Extension (s)",
    increments: "Increment table",
    band_from: "From (yuan)",
    band_inc: "Increment (yuan)",
    band_n: "Band {n}",
    add_band: "Add a band",
    remove_band: "Remove band {n}",
    announcement: "Auction announcement",
    terms: "Bidding terms",
    reg_deadline: "Registration deadline",
    contact_phone: "Contact phone",
    payee_name: "Deposit payee",
    payee_bank: "Payee bank",
    payee_account: "Payee account",
    schedule: "Timed schedule",
    schedule_hint: "With a session end, the lots open by themselves at the start time and close one after another in running order: lot n closes at the session end + (n − 1) × the gap, each with its own extensions. Without it, staff start each lot.",
    ends_at: "Session end",
    close_gap: "Gap between closes (s)",
    max_ext: "Extensions per lot at most",
    max_ext_hint: "Blank: no limit; 0: never extended",
    hard_end: "Hard end",
    hard_end_hint: "No lot closes later, extensions included; blank: none",
    relist: "Relist",
    relist_go: "Relist",
    relist_why_passed: "This lot passed. It may be relisted into a later session of this market (or one below) that has not started, at a start price of at least 80 % of its own.",
    relist_why_defaulted: "The buyer of this lot defaulted. It may be relisted into a later session of this market (or one below) that has not started, at a start price of at least 80 % of its own; the defaulting bidder cannot register for it.",
    relist_session: "Into session",
    relist_start: "New start price (yuan)",
    relist_floor: "At least 80 % of the old start price: {amount}",
    relist_no_session: "No session to relist into: create a later session first",
    relist_ok: "Relisted as the new lot “{title}”",
    relist_public: "public page",
    relist_listing_hint: "The new listing period runs from the new session's start",
    relist_listing_days: "Listing period (working days)",
    relisted_from: "This lot relists lot",
    relisted_to: "This lot was relisted as lot",
    create_session: "Create session",
    session_created: "Session created",
    session_title: "Session: {name}",
    facts: "Session",
    ext_rule: "Extension rule",
    ext_rule_text: "a bid in the last {w} s extends by {e} s",
    lots: "Lots",
    new_lot: "New lot",
    ordinal: "No.",
    title: "Title",
    start_price: "Start price",
    increment: "Increment",
    deposit: "Deposit",
    progress: "Progress",
    registered: "Registered",
    lots_total: "Lots",
    lots_sold: "Sold",
    lots_passed: "Passed",
    lots_open: "Open",
    lots_scheduled: "To come",
    hammer_total: "Hammer total",
    run_sale: "The sale",
    console: "Auctioneer console",
    screen: "Room screen",
    mint_console: "Open the auctioneer console",
    auctioneer_name: "Auctioneer's name",
    console_ready: "An auctioneer token for this session was made (the console opens in a new window):",
    console_own: "Console with this login",
    pub_state: "Publication",
    pub_draft: "Draft",
    pub_published: "Published",
    publish: "Publish",
    publish_hint: "A draft is seen by this market's staff only; add lots, then publish it for the public to see and apply.",
    published_ok: "Session published",
    draft_note: "A new session is a draft: add its lots, then press Publish on the session page for the public to see it.",
    timed_open: "Timed lots: start bidding",
    start_bidding: "Start bidding",
    start_bidding_n: "Start bidding: {title}",
    opened_ok: "Bidding started: {title}",
    no_scheduled: "No lot left to start",
    open_after_publish: "Bidding can start once the session is published.",
    w_publish: "Publish session",
    st_scheduled: "To come",
    st_open: "Open",
    st_sold: "Sold",
    st_passed: "Passed",
    st_withdrawn: "Withdrawn",
    ss_scheduled: "Not started",
    ss_running: "Running",
    ss_finished: "Finished",
    regs: "Applications and deposits",
    regs_desk: "Applications",
    no_regs: "No application yet",
    bidder: "Bidder",
    uscc: "Credit code",
    documents: "Documents",
    agent: "Agent",
    applied_at: "Applied",
    approve: "Approve",
    approve_n: "Approve: {name}",
    reject: "Reject",
    reject_n: "Reject: {name}",
    reason: "Reason",
    reason_n: "Reason: {name}",
    confirm_deposit: "Confirm deposit",
    confirm_n: "Confirm deposit: {name}",
    deposit_amount: "Amount received (yuan)",
    deposit_amount_n: "Amount received (yuan): {name}",
    deposit_required: "due {amount}",
    paddle: "paddle {paddle}",
    approved_ok: "Approved: {name}",
    rejected_ok: "Rejected: {name}",
    paid_ok: "Deposit confirmed: {name}, paddle {paddle}",
    none: "none",
    rs_invited: "Awaiting the bidder",
    rs_applied: "Applied",
    rs_approved: "Approved",
    rs_rejected: "Rejected",
    rs_deposit_paid: "Deposit confirmed",
    rs_withdrawn: "Withdrawn",
    rs_forfeited: "Deposit forfeited",
    lot_new_title: "New lot: {name}",
    result_type: "Result type",
    ip_type: "IP category",
    tech_field: "Technology field",
    transaction_mode: "Transaction mode",
    contract_type: "Contract type",
    holder_name: "Holder (seller)",
    holder_uscc: "Holder's credit code",
    start_price_yuan: "Start price (yuan)",
    increment_yuan: "Increment (yuan)",
    deposit_yuan: "Deposit (yuan)",
    deposit_hint: "Empty: 10 % of the start price",
    reserve_yuan: "Reserve (yuan)",
    reserve_hint: "Empty: no reserve; never shown",
    appraisal_yuan: "Appraised value (yuan)",
    non_tech_yuan: "Non-technical costs (yuan)",
    non_tech_hint: "Equipment, materials …: the technology amount is the rest",
    duration_min: "Bidding time (minutes)",
    duration_hint: "Required for a timed session",
    lot_starts_at: "Opens at",
    lot_starts_hint: "China Standard Time, within the session; blank: the lot opens with the session",
    lot_starts_listing: "A listing's period runs from its opening: its opening time is set when it is created",
    lot_own_start: "This lot opens at {at} (China Standard Time)",
    description: "Description",
    choose: "Choose",
    create_lot: "Create lot",
    lot_created: "Lot created: {title}",
    guideline: "Increment guideline",
    another_lot: "Add another",
    back_session: "Back to the session",
    import_none: "Spreadsheet import is not available yet.",
    import_lots: "Import",
    import_title: "Import lots: {name}",
    import_hint: "One lot a row, the template's columns; XLSX or CSV, at most 2 MB. One bad row and no lot is imported.",
    template: "Download the template (XLSX)",
    import_file: "Spreadsheet",
    import_check: "Check",
    import_go: "Import lots",
    import_none_chosen: "Choose a spreadsheet",
    import_errors: "{n} errors; no lot imported",
    import_checked: "Checked: {n} lots can be imported",
    import_done: "{n} lots imported",
    import_row: "Row",
    import_col: "Column",
    import_why: "Problem",
    nav_markets: "Markets and people",
    nav_finance: "Finance",
    nav_ledger: "Deposit ledger",
    nav_report: "Session report",
    nav_deals: "Deals & payments",
    nav_handoff: "Registration hand-off",
    no_right: "This account may not use this page.",
    market_tree: "Market tree",
    level: "Level",
    level_province: "Province",
    level_city: "City",
    level_county: "County",
    code: "Division code",
    market_name: "Market name",
    slug: "Slug",
    slug_hint: "lower-case letters, digits and hyphens",
    parent_market: "Parent market",
    new_market: "New child market",
    create_market: "Create market",
    market_created: "Market created: {name} ({code})",
    staff: "Staff accounts",
    new_account: "New account",
    username: "Username",
    password: "Initial password",
    password_hint: "at least 10 characters, not the username, not a common password",
    person_name: "Name",
    acct_role: "Account role",
    acct_market: "Market",
    create_account: "Create account",
    account_created: "Account created: {username} ({role})",
    accounts_made: "Accounts created here",
    account_id: "Account id",
    disable: "Disable",
    disable_n: "Disable account: {name}",
    disable_by_id: "Disable by account id",
    disabled_ok: "Account {name} disabled",
    disabled: "Disabled",
    active: "Active",
    api_missing: "Not in the API yet: an account list, resetting another's password, changing an account's role. Only the accounts created on this page are listed; disable another by its id.",
    fin_title: "Finance: {name}",
    deposits: "Deposits",
    no_deposits: "No deposit yet",
    dep_state: "State",
    dep_lot: "Lot",
    dep_band: "whole session",
    total: "Total",
    no_market_access: "This market is not in your scope.",
    paddle_h: "Paddle",
    ds_required: "Due",
    ds_confirmed: "Received",
    ds_held: "Held",
    ds_released: "Refunded",
    ds_applied: "Applied to price",
    ds_forfeited: "Forfeited",
    settle: "Settle deposits",
    settle_hint: "Once every lot is closed: winners' deposits applied, the others refunded.",
    settled_ok: "Settled: {applied} applied ({applied_fen}), {released} refunded ({released_fen})",
    refunds: "Refund list",
    refunds_none: "No deposit received yet",
    forfeit: "Forfeit",
    forfeit_n: "Forfeit deposit: {name}",
    forfeit_reason: "Reason for forfeit",
    forfeit_reason_n: "Reason for forfeit: {name}",
    forfeited_ok: "Deposit forfeited: {name}",
    ledger_title: "Deposit ledger: {name}",
    received: "Received",
    conserved: "Conservation",
    conserved_yes: "Conserved: received = sum of balances",
    conserved_no: "NOT conserved: received differs from the sum of balances; check now",
    sum_states: "Sum of balances",
    report_title: "Session report: {name}",
    download_xlsx: "Download Excel",
    totals: "Totals",
    t_sold: "Sold",
    t_passed: "Passed",
    t_withdrawn: "Withdrawn",
    t_unsettled: "Not closed",
    start_total: "Start prices of sold lots",
    bid_count: "Bids",
    with_paddle: "With paddle",
    deposits_applied: "Applied",
    deposits_released: "Refunded",
    result: "Result",
    price: "Price",
    buyer: "Buyer",
    bidders: "Bidders",
    won_lots: "Lots won",
    counted: "Counted as registered",
    yes: "yes",
    no: "no",
    handoff: "Registration hand-off",
    reg_status: "Hand-off status",
    attempts: "Attempts",
    last_error: "Last error",
    delivered_at: "Delivered",
    retry: "Retry",
    retry_n: "Retry hand-off: {title}",
    retried_ok: "Queued again: {title}",
    no_sold: "No lot sold yet",
    not_queued: "not queued",
    hs_pending: "Pending",
    hs_delivered: "Delivered",
    hs_dead: "Failed",
    hs_filed: "Filed for manual upload",
    hs_registered: "Registered",
    hs_refused: "Refused",
    packet_note: "Download hand-off data: the registration packet as handed over (UTF-8 JSON); after a correction, every version.",
    nav_audit: "Audit trail",
    nav_statistics: "Statistics",
    audit_title: "Audit trail: {name}",
    audit_from: "From (date)",
    audit_to: "To (date, exclusive)",
    audit_actor: "Actor (username or account id)",
    audit_filter: "Filter",
    audit_csv: "Export CSV",
    audit_at: "Time",
    audit_who: "Actor",
    audit_what: "Action",
    audit_ids: "Ids",
    audit_status: "Status",
    audit_none: "No entries match",
    audit_count: "{n} entries (newest first)",
    edit_session: "Edit session",
    edit_title: "Edit session: {name}",
    save: "Save",
    saved_ok: "Saved",
    edit_closed: "Bidding has started in this session: its texts and facts can no longer change.",
    edit_until: "Once bidding starts (any lot opened), the session's texts and facts can no longer change.",
    back_session: "Back to the session",
    files: "Pictures and attachments",
    files_n: "Pictures and attachments: {title}",
    files_title: "Pictures and attachments: {title}",
    file_pick: "Choose a file",
    file_label: "Label (optional)",
    file_limits: "PNG, JPEG, WebP pictures or PDF, at most 5 MiB each, at most 20 files per lot.",
    upload: "Upload",
    uploaded_ok: "Uploaded: {name}",
    deleted_ok: "Deleted: {name}",
    delete_n: "Delete: {name}",
    delete: "Delete",
    no_files: "No pictures or attachments yet",
    f_file: "Choose a file to upload",
    f_type: "Only PNG, JPEG, WebP or PDF files",
    f_size: "The file must not exceed 5 MiB",
    file_name: "File name",
    file_type: "Type",
    file_size: "Size",
    uploaded_at: "Uploaded",
    w_login: "Log in",
    w_logout: "Log out",
    w_password: "Change password",
    w_market: "New market",
    w_account: "New account",
    w_account_disable: "Disable account",
    w_session: "New session",
    w_session_edit: "Edit session",
    w_lot: "New lot",
    w_lot_import: "Import lots",
    w_lot_cmd: "Console command",
    w_attach: "Upload lot attachment",
    w_attach_del: "Delete lot attachment",
    w_staff_token: "Mint auctioneer token",
    w_reg: "Registration",
    w_reg_approve: "Approve registration",
    w_reg_reject: "Reject registration",
    w_deposit: "Confirm deposit",
    w_settle: "Settle deposits",
    w_forfeit: "Forfeit deposit",
    w_lot_edit: "Edit lot",
    w_order: "Reorder lots",
    w_refund_account: "Refund account",
    w_ws_cmd: "Console command",
    lot_admin_title: "Lot: {title}",
    edit_lot: "Edit lot",
    edit: "Edit",
    edit_n: "Edit lot: {title}",
    lot_manage: "Edit and files",
    save_lot: "Save changes",
    lot_saved: "Saved: {title}",
    lot_locked: "Bidding has started: the lot can no longer change.",
    deposit_edit_hint: "Empty: 10 % of the start price",
    order: "Order",
    move_up: "Up",
    move_down: "Down",
    move_up_n: "Move up: {title}",
    move_down_n: "Move down: {title}",
    moved_ok: "Order changed: {title} is now number {n}",
    order_locked: "Bidding has started: the order of the lots can no longer change.",
    refund_due: "Refund due by {date} (the session ended {closed}; within 5 working days)",
    refund_open: "The session has not ended: the refund due date follows once every lot closed.",
    refund_release: "To refund the unsuccessful deposits: 'Settle deposits' above applies the buyers' deposits and marks the others refunded.",
    refund_paid: "Paid",
    refund_applied: "Applied",
    refund_forfeited: "Forfeited",
    refund_to: "To refund",
    refund_state: "Refund",
    refund_done: "Refunded",
    refund_pending: "To pay",
    refund_name: "Account name",
    refund_bank: "Bank",
    refund_account: "Account number",
    refund_missing: "not given",
    refunds_csv: "Export refund list (CSV)",
  },
};

/** More back-office texts for a page's own module: ``{zh: {key: text}, en: {key: text}}``. */
export function addA(texts) {
  Object.assign(DICT.zh, texts.zh || {});
  Object.assign(DICT.en, texts.en || {});
}

/** The back office's text for ``key``. */
export function a(key, vars = {}) {
  const text = DICT[lang()][key] ?? DICT.zh[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, k) => (k in vars ? String(vars[k]) : `{${k}}`));
}

/** Fill [data-a] (text), [data-a-ph] (placeholder) and [data-a-aria] (aria-label). */
export function applyA(root = document) {
  for (const node of root.querySelectorAll("[data-a]")) node.textContent = a(node.dataset.a);
  for (const node of root.querySelectorAll("[data-a-ph]")) node.placeholder = a(node.dataset.aPh);
  for (const node of root.querySelectorAll("[data-a-aria]")) {
    node.setAttribute("aria-label", a(node.dataset.aAria));
  }
}

export const $ = (id) => document.getElementById(id);

// --- vocabularies (../shared/DOMAIN.md): what the lot form offers until GET /vocabularies (the
// lists the server checks, versioned in PostgreSQL: issue 16) has answered ----------------------

export const RESULT_TYPES = ["专利", "技术秘密", "计算机软件著作权", "集成电路布图设计", "植物新品种",
  "生物、医药新品种", "其他"];
export const IP_TYPES = ["发明专利", "实用新型专利", "外观设计专利", "技术秘密", "计算机软件著作权",
  "集成电路布图设计专有权", "植物新品种", "生物、医药新品种", "未涉及知识产权"];
export const TECH_FIELDS = ["电子信息", "航空航天", "先进制造", "生物、医药和医疗器械",
  "新材料及其应用", "新能源与高效节能", "环境保护与资源综合利用", "核应用", "农业", "现代交通",
  "城市建设与社会发展"];
export const TRANSACTION_MODES = ["转让", "许可", "作价投资"];
export const CONTRACT_TYPES = ["技术转让", "技术许可", "技术开发", "技术咨询", "技术服务"];

// --- who may do what (docs/roles.md) -----------------------------------------------------------

const STAFF = new Set(["admin", "market_admin", "auctioneer", "finance"]);

/** What the pages offer to ``role``: the server refuses the rest anyway. */
export function may(role, what) {
  const table = {
    manage: ["admin", "market_admin"], // sessions, lots, staff tokens
    desk: ["admin", "market_admin"], // approve / reject
    regs: ["admin", "market_admin", "finance"], // read registrations
    deposit: ["finance"], // confirm deposits: finance alone (separation of duties)
    run: ["admin", "market_admin", "auctioneer"], // console, room screen, progress
    markets: ["admin", "market_admin"], // child markets, staff accounts
    finance: ["admin", "market_admin", "finance"], // deposits list, settle, forfeit, ledger
    report: ["admin", "market_admin", "finance", "auctioneer"], // session report, hand-off
    retry: ["admin", "market_admin"], // requeue a dead registration hand-off
    audit: ["admin", "market_admin"], // read and export the audit trail
    statistics: ["admin", "market_admin", "finance"], // 技术合同成交统计 and subsidy estimates
  };
  return (table[what] || []).includes(role);
}

export function roleText(role) {
  return a(`role_${role}`);
}

/** Who is logged in, or null (the need-login notice is shown). Staff only. */
export async function whoAmI() {
  try {
    const me = await call("/auth/me");
    if (!STAFF.has(me.role)) {
      notice("not_staff");
      return null;
    }
    return me;
  } catch (err) {
    if (err.status === 401) {
      notice("need_login", true);
      return null;
    }
    throw err;
  }
}

function notice(key, withLink = false) {
  const box = $("gate");
  box.replaceChildren(document.createTextNode(a(key) + " "));
  if (withLink) {
    const link = document.createElement("a");
    link.href = "../login.html";
    link.textContent = a("go_login");
    box.append(link);
  }
  box.classList.remove("hidden");
  $("content")?.classList.add("hidden");
}

/** The markets of ``me``'s scope (codes from GET /auth/me), from the public market list. */
export async function myMarkets(me) {
  const all = (await call("/markets")).markets;
  if (me.role === "admin") return all;
  const scope = new Set(me.scope || []);
  return all.filter((m) => scope.has(m.code));
}

/** The page's language switch and 退出; ``rerender`` redraws what scripts wrote. */
export function setupPage(rerender) {
  setupLang($("lang"), () => {
    applyA();
    rerender();
    resay();
  });
  $("logout")?.addEventListener("click", async () => {
    await post("/auth/logout").catch(() => null);
    document.cookie = "auction_csrf=; Max-Age=0; path=/; SameSite=Strict";
    location.href = "../login.html";
  });
}

/** An error for people: the server's own (Chinese) message, ours in English. */
export function errText(err) {
  return a("err", { message: err.message });
}

/** Show a status message in ``box``. ``text`` may be a function giving it: then the message is
 * written again in the other language when the language switch is pressed (setupPage). */
export function say(box, text, kind) {
  if (!box) return;
  box._retext = typeof text === "function" ? text : null;
  box.textContent = typeof text === "function" ? text() : text;
  box.className = `form-msg ${kind || ""}`;
}

/** Rewrite every status message said with a text function, in the current language. */
function resay() {
  for (const box of document.querySelectorAll(".form-msg")) {
    if (typeof box._retext === "function") box.textContent = box._retext();
  }
}

export function money(fen) {
  return yuan(fen);
}

/** Fen → the 元 text an input shows ("1000.5" style, no grouping). */
export function fenToInput(fen) {
  const whole = Math.floor(fen / 100);
  const cents = fen % 100;
  return cents ? `${whole}.${String(cents).padStart(2, "0").replace(/0$/, "")}` : String(whole);
}

/** The datetime-local value (China Standard Time) → RFC 3339 with +08:00; "" → null. */
export function cstToRfc(value) {
  if (!value) return null;
  return `${value.length === 16 ? value + ":00" : value}+08:00`;
}

export function sessionLink(id) {
  return `session.html?id=${id}`;
}

/** Show ``key``'s notice in place of the page (no right, not of my markets). */
export function gate(key) {
  notice(key);
}

/** The page's session (``?session=``) if it is of ``me``'s markets, else null (gate shown). */
export async function scopedSession(me, id) {
  let session = null;
  try {
    session = await call(`/sessions/${id}`);
  } catch (err) {
    if (err.status !== 404) throw err;
  }
  if (!session || (me.role !== "admin" && !(me.scope || []).includes(session.market_code))) {
    gate("no_access");
    return null;
  }
  $("content").classList.remove("hidden");
  return session;
}

/** A table of ``head`` keys (texts) and ``rows`` (arrays of cells: nodes or text). With
 * ``stack`` in ``cls`` it is one card per row on a phone (see stackable). */
export function table(head, rows, cls = "") {
  const cell = (c) => (c instanceof Node ? el("td", {}, c) : el("td", { text: c ?? "—" }));
  const made = el("table", { class: `admin-table ${cls}` },
    el("thead", {}, el("tr", {}, ...head.map((k) => el("th", { text: k ? a(k) : "" })))),
    el("tbody", {}, ...rows.map((r) => (r instanceof Node ? r : el("tr", {}, ...r.map(cell))))));
  if (cls.split(" ").includes("stack")) stackable(made);
  return el("div", { class: "scroll-x" }, made);
}

/** Let a wide table be read on a 375 px phone without scrolling sideways: each cell carries its
 * column's heading (``data-label``, shown before it by admin.css under 600 px, where each row is
 * a card). The roles are said explicitly because a table laid out as blocks loses them. */
export function stackable(tableEl) {
  tableEl.classList.add("stack");
  tableEl.setAttribute("role", "table");
  const heads = [...tableEl.querySelectorAll("thead th")].map((th) => th.textContent || "");
  for (const group of tableEl.querySelectorAll("thead, tbody")) group.setAttribute("role", "rowgroup");
  for (const th of tableEl.querySelectorAll("thead th")) th.setAttribute("role", "columnheader");
  for (const tr of tableEl.querySelectorAll("tr")) {
    tr.setAttribute("role", "row");
    [...tr.children].forEach((c, i) => {
      if (c.tagName === "TD") {
        c.setAttribute("role", "cell");
        if (heads[i]) c.dataset.label = heads[i];
      }
    });
  }
  return tableEl;
}
