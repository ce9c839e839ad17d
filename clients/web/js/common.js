// Shared helpers of the pages: language (中文 by default, English switch), money in 元 from
// integer fen, tokens from "#token=…" or a pasted login, the HTTP API, time formatting.

const DICT = {
  zh: {
    app: "科技成果竞价",
    catalogue: "场次与标的",
    results: "成交公示",
    lang: "English",
    loading: "加载中…",
    none: "暂无",
    session: "场次",
    sessions: "场次",
    lots: "标的",
    lot: "标的",
    mode_live: "现场拍卖",
    mode_timed: "限时竞价",
    st_scheduled: "未开拍",
    st_open: "竞价中",
    st_sold: "成交",
    st_passed: "流拍",
    st_withdrawn: "撤拍",
    st_draft: "筹备中",
    st_closed: "已结束",
    bid_page: "竞买",
    console: "拍卖师控制台",
    screen: "现场大屏",
    start_price: "起拍价",
    increment: "加价幅度",
    current_price: "当前价",
    next_bid: "下一口价",
    leader: "领先号牌",
    bids: "出价次数",
    ladder: "出价记录",
    paddle: "号牌",
    amount: "金额",
    time: "时间",
    countdown: "剩余时间",
    elapsed: "已开拍",
    ends_at: "结束时间",
    live_no_clock: "现场拍卖, 由拍卖师落槌",
    not_open_yet: "尚未开拍",
    ended: "已结束",
    bid_btn: "出价",
    custom_amount: "例如 210000 或 21万",
    quick_bid: "快速出价",
    confirm_title: "确认大额加价",
    confirm_text: "您的出价 {amount} 比下一口价 {next} 高出 {steps} 个加价幅度。确定出价吗?",
    confirm_ok: "确认出价",
    cancel: "取消",
    leading: "您当前领先",
    outbid: "您已被超越",
    not_bidding: "您尚未出价",
    won: "成交 — 恭喜您竞得本标的",
    sold_to: "成交 — 号牌 {paddle}",
    passed_text: "流拍",
    conn_connecting: "连接中…",
    conn_open: "已连接",
    conn_reconnecting: "连接中断, 正在重连…",
    conn_unauthorized: "令牌无效或已过期",
    conn_closed: "已断开",
    conn_idle: "未连接",
    resumed_ok: "连接已恢复, 中断期间的 {n} 条记录已补齐",
    state_replaced: "连接中断期间的记录无法补齐, 已刷新为最新状态",
    login: "登录",
    logout: "退出",
    token_placeholder: "粘贴竞买凭证",
    username_placeholder: "竞买人账号",
    password_placeholder: "密码",
    login_account: "账号登录",
    err_login: "用户名或密码错误, 或请求过于频繁",
    err_no_registration: "本账号在本场次没有已确认保证金的报名",
    staff_token_placeholder: "粘贴拍卖师令牌",
    viewer: "游客 (仅查看)",
    reg_status: "报名与保证金",
    reg_none: "未登录: 报名、审核通过并确认保证金后, 用本人账号领取竞买凭证",
    reg_account: "已登录: 本场次报名审核通过并确认保证金后即可出价",
    reg_ok: "已报名, 保证金已缴, 号牌 {paddle}",
    reg_other: "您的令牌属于其他场次, 不能对本标的出价",
    reg_staff: "工作人员身份, 不能出价",
    sent: "已发送…",
    accepted: "出价成功",
    rejected: "出价未被接受: {message}",
    pending_retry: "等待连接恢复后自动重发",
    server_time: "服务器时间",
    back: "返回",
    open_cmd: "开拍",
    hammer_cmd: "落槌",
    pass_cmd: "流拍",
    warn_cmd: "警告",
    undo_cmd: "撤销上一口",
    floor_cmd: "场内出价",
    phone_cmd: "电话出价",
    inc_half: "幅度减半",
    inc_double: "幅度加倍",
    inc_set: "设定幅度",
    inc_controls: "加价幅度调整",
    floor_phone: "场内 / 电话出价",
    missed_alerts: "迟到的出价 (已结束后到达)",
    not_yet: "引擎暂不支持",
    online_bidders: "在线竞买人",
    current_lot: "当前标的",
    asking: "叫价",
    next_lots: "后续标的",
    all_lots: "本场全部标的",
    shortcuts: "快捷键",
    log: "操作记录",
    ok: "成功",
    select: "选择",
    no_current: "当前没有竞价中的标的",
    title: "名称",
    winner: "买受人号牌",
    hammer_at: "成交时间",
    deal_price: "成交价",
    all_sessions: "全部场次",
    refresh: "刷新",
    field: "技术领域",
    result_type: "成果类型",
    transaction_mode: "交易方式",
    holder: "持有人",
    description: "简介",
    links: "链接",
    welcome_hint: "点击标的进入竞买页面, 报名后即可出价; 现场大屏与成交公示对所有人公开; 市场工作人员请从管理后台进入。",
    you: "您",
    extended: "延时至 {time}",
    r_no_bids: "无人出价",
    r_no_buyers: "挂牌期满无意向受让方",
    r_reserve_not_met: "未达保留价",
    r_auctioneer: "拍卖师宣布流拍",
    console_need_token: "请粘贴本场次的拍卖师令牌 (或在链接中带 #token=)",
    confirm_hammer: "确认落槌?",
    err_amount: "请输入正确的金额",
    history_partial: "(仅显示部分历史)",
    lots_of: "{n} 个标的",
    ss_scheduled: "未开始",
    ss_running: "进行中",
    ss_finished: "已结束",
    now_on: "正在拍卖",
    idle_for: "已 {min} 分钟无新动作 · 中断后可继续",
    idle_console: "本标的自 {time} 起无新动作（可能因服务重启而中断），仍在竞价中：可以继续等待出价，或按 H 落槌、P 流拍。",
    retrying: "无法加载（{message}），{s} 秒后重试…",
    warn_1: "第一次警告",
    warn_2: "第二次警告",
    warn_3: "最后一次警告",
    warn_next: "警告 (第 {n} 次)",
    announce_cmd: "公告",
    announce_ph: "公告内容 (最多 200 字), 回车发布",
    announce_send: "发布",
    pause_cmd: "暂停",
    resume_cmd: "恢复",
    pause_toggle: "暂停 / 恢复",
    paused_banner: "暂停中",
    withdraw_cmd: "撤拍",
    withdraw_ph: "撤拍原因",
    withdrawn_text: "撤拍",
    next_cmd: "开拍下一标的",
    confirm_again: "再按 {key} 确认{label}: {what}",
    confirm_click: "再点一次确认{label}: {what}",
    will_hammer: "以 {amount} 成交给号牌 {paddle}",
    will_pass: "本标的流拍",
    will_withdraw: "撤下本标的, 原因: {reason}",
    need_reason: "请先填写撤拍原因",
    need_text: "请先填写公告内容",
    result_sold: "成交 · {amount} · 号牌 {paddle}",
    result_passed: "流拍 · {reason}",
    result_withdrawn: "撤拍 · {reason}",
    no_more_lots: "本场已无后续标的",
    refused: "{label}未执行: {message}",
    e_lot_paused: "拍卖已暂停",
    e_bad_request: "服务器不支持此操作",
    e_wrong_state: "标的当前状态不允许此操作",
    e_forbidden: "无权执行此操作",
    e_unavailable: "服务器暂时不可用, 请重试",
    e_overloaded: "服务器繁忙, 请稍后重试",
    e_timeout: "服务器无应答",
    e_lot_closed: "本标的已结束",
    e_no_bids: "尚无出价",
    e_wrong_mode: "本标的的竞价方式不支持此操作",
    e_unknown_paddle: "本场次没有这个号牌",
    e_unknown_type: "不支持的消息类型",
    e_bad_amount: "出价金额无效",
    e_unauthorized: "登录已失效或竞买凭证无效, 请重新登录",
    e_unknown_lot: "标的不存在",
    e_lot_not_open: "标的尚未开拍",
    e_below_start: "出价低于起拍价",
    e_too_low: "出价低于当前最低应价",
    e_off_increment: "出价须按加价幅度递增",
    e_already_leading: "您已是最高出价者",
    e_wrong_format: "本标的的竞价形式不支持此操作",
    e_no_revisions_left: "报价修改次数已用完",
    e_not_published: "本场次尚未发布",
    e_listing_period: "挂牌期内不接受出价",
    e_not_yet: "尚未到开拍时间",
    e_idempotency_conflict: "该请求编号已用于其他内容",
    e_rate_limited: "操作过于频繁, 请稍后再试",
    e_deposit_required: "未缴纳足额保证金, 不能出价",
    e_internal_error: "服务器内部错误, 请重试",
    reopen_cmd: "重新开拍",
    floor_key_cmd: "场内 / 电话出价",
    increment_cmd: "加价幅度",
    inc_reset: "恢复幅度表",
    inc_now: "当前加价幅度 {inc}",
    inc_amount: "新幅度 (元)",
    inc_hint: "1 减半 · 2 加倍 · 3 恢复幅度表 · S 输入新幅度后回车",
    inc_changed: "加价幅度调整为 {inc}",
    inc_by_hand: "(拍卖师设定)",
    inc_by_table: "(按幅度表)",
    src_online: "网络",
    src_floor: "场内",
    src_phone: "电话",
    source: "来源",
    retracted: "已撤销",
    will_undo: "撤销号牌 {paddle} 的出价 {amount}",
    your_bid_retracted: "您的出价 {amount}已被拍卖师撤销",
    bid_retracted_note: "拍卖师撤销了号牌 {paddle} 的出价 {amount}",
    retract_log: "撤销 号牌 {paddle} 的出价 {amount}",
    reopened_note: "拍卖师已撤回上次的结果, 本标的重新开拍, 竞价继续",
    reopened_log: "重新开拍 (撤回上次的结果)",
    reopened_banner: "重新开拍",
    floor_submit: "提交出价",
    need_paddle: "请输入号牌 (正整数)",
    need_inc: "请输入新的加价幅度",
    viewers: "围观",
    viewers_n: "围观 {n}",
    registered: "报名人数",
    reserve_label: "保留价",
    amount_yuan: "金额 (元)",
    reserve_met: "已达保留价",
    reserve_not_met: "未达保留价",
    reserve_none: "无保留价",
    progress: "本场进度",
    prog_sold: "已成交",
    prog_passed: "流拍",
    prog_withdrawn: "撤拍",
    prog_to_go: "待拍",
    prog_total: "成交总额",
    missed_line: "号牌 {paddle} · {amount} · 晚 {late} 秒",
    missed_log: "迟到出价: 号牌 {paddle} {amount}, 晚 {late} 秒",
    missed_none: "尚无迟到的出价",
    lot_missing: "标的不存在",
    lot_missing_text: "没有找到这个标的: 链接可能有误, 或标的已不再公开。",
    back_to_catalogue: "返回场次与标的",
    amount_label: "出价金额 (元, 也可写 21万)",
    no_bids_yet: "尚无出价",
    facts_title: "竞价信息",
    details_title: "标的详情",
    media_title: "图片与附件",
    docs_title: "拍卖公告与竞买须知",
    announcement_doc: "拍卖公告",
    terms_doc: "竞买须知",
    not_published: "本场次未发布",
    logout_bidder: "退出竞买",
    minutes_n: "{n} 分钟",
    seconds_n: "{n} 秒",
    band_table: "加价幅度表",
    band_from: "价格区间",
    band_from_value: "{amount} 起",
    band_none: "全程 {inc}",
    increment_table: "加价幅度表",
    deposit: "保证金",
    deposit_none: "无",
    reserve_yes: "有",
    reserve_no: "无",
    appraisal: "评估价",
    mode: "竞价方式",
    start_time: "开始时间",
    planned: "(计划)",
    end_time: "结束时间",
    ends_after_open: "开拍后 {d}",
    extension: "延时规则",
    extension_rule: "结束前 {w}内有人出价, 结束时间延至该出价后 {e}",
    extension_none: "不延时",
    extension_live: "现场拍卖, 不适用",
    extended_times: "已延时",
    times_n: "{n} 次",
    extended_n: "已延时 {n} 次",
    viewers_label: "围观人数",
    contact_phone: "联系电话",
    contract_type: "合同类型",
    closed_at: "结束于 {time}",
    outcome: "竞价结果",
    sent_amount: "已发送 {amount}, 等待确认…",
    after_reconnect: "(连接恢复后确认)",
    link_lost: "连接中断: 价格可能已变化, 暂不能出价; 正在重连…",
    link_lost_pending: "连接中断: 您的出价 {amount} 尚未确认; 恢复连接后将显示它的结果",
    pending_unknown: "出价 {amount} 尚未确认 (连接中断), 恢复后显示结果",
    reconnected: "连接已恢复",
    bid_unknown: "出价 {amount} 的结果未知: 连接中断超过 60 秒, 未再重发; 请以出价记录为准",
    market: "交易市场",
    season: "批次",
    season_spring: "春季",
    season_autumn: "秋季",
    season_special: "专场",
    all: "全部",
    status: "状态",
    search: "搜索",
    search_ph: "标题、持有人或简介",
    filters: "筛选",
    clear_filters: "清除筛选",
    more: "加载更多",
    n_found: "共 {n} 个标的",
    price: "价格",
    price_unknown: "实时价格暂不可用",
    buyer: "受让方",
    publicity_period: "公示期",
    period_value: "{from} 至 {to} ({n} 个工作日)",
    objection: "异议渠道",
    sold_list: "成交标的",
    passed_list: "流拍标的",
    withdrawn_list: "撤拍标的",
    reason: "原因",
    closed_time: "结束时间",
    signup: "注册",
    my_auction: "我的竞拍",
    apply: "报名",
  },
  en: {
    app: "Technology Results Auction",
    catalogue: "Catalogue",
    results: "Results",
    lang: "中文",
    loading: "Loading…",
    none: "None",
    session: "Session",
    sessions: "Sessions",
    lots: "Lots",
    lot: "Lot",
    mode_live: "Live auction",
    mode_timed: "Timed bidding",
    st_scheduled: "Not open",
    st_open: "Open",
    st_sold: "Sold",
    st_passed: "Passed",
    st_withdrawn: "Withdrawn",
    st_draft: "Draft",
    st_closed: "Closed",
    bid_page: "Bid",
    console: "Auctioneer console",
    screen: "Room screen",
    start_price: "Start price",
    increment: "Increment",
    current_price: "Current price",
    next_bid: "Next bid",
    leader: "Leading paddle",
    bids: "Bids",
    ladder: "Bid ladder",
    paddle: "Paddle",
    amount: "Amount",
    time: "Time",
    countdown: "Time left",
    elapsed: "Open for",
    ends_at: "Closes at",
    live_no_clock: "Live sale: the auctioneer hammers",
    not_open_yet: "Not open yet",
    ended: "Ended",
    bid_btn: "Bid",
    custom_amount: "e.g. 210000 or 21万",
    quick_bid: "Quick bid",
    confirm_title: "Confirm a large jump",
    confirm_text: "Your bid {amount} is {steps} increments above the next bid {next}. Bid anyway?",
    confirm_ok: "Confirm bid",
    cancel: "Cancel",
    leading: "You are leading",
    outbid: "You have been outbid",
    not_bidding: "You have not bid yet",
    won: "成交 Sold — you won this lot",
    sold_to: "成交 Sold — paddle {paddle}",
    passed_text: "流拍 Passed",
    conn_connecting: "Connecting…",
    conn_open: "Connected",
    conn_reconnecting: "Connection lost, reconnecting…",
    conn_unauthorized: "Token invalid or expired",
    conn_closed: "Disconnected",
    conn_idle: "Not connected",
    resumed_ok: "Connection restored; the {n} events missed meanwhile were replayed",
    state_replaced: "Missed events could not be replayed; showing the latest state",
    login: "Log in",
    logout: "Log out",
    token_placeholder: "Paste your bid credential",
    username_placeholder: "Bidder account",
    password_placeholder: "Password",
    login_account: "Log in with account",
    err_login: "Wrong username or password, or too many attempts",
    err_no_registration: "This account has no registration with a confirmed deposit in this session",
    staff_token_placeholder: "Paste your auctioneer token",
    viewer: "Guest (view only)",
    reg_status: "Registration & deposit",
    reg_none: "Not logged in: once registered, approved and your deposit confirmed, take your bid credential with your own login",
    reg_account: "Logged in: you can bid once your registration for this session is approved and your deposit confirmed",
    reg_ok: "Registered, deposit paid, paddle {paddle}",
    reg_other: "Your token belongs to another session: you cannot bid on this lot",
    reg_staff: "Staff token: cannot bid",
    sent: "Sent…",
    accepted: "Bid accepted",
    rejected: "Bid not accepted: {message}",
    pending_retry: "Will be resent automatically when the connection is back",
    server_time: "Server time",
    back: "Back",
    open_cmd: "Open",
    hammer_cmd: "Hammer",
    pass_cmd: "Pass",
    warn_cmd: "Fair warning",
    undo_cmd: "Undo last bid",
    floor_cmd: "Floor bid",
    phone_cmd: "Phone bid",
    inc_half: "Halve increment",
    inc_double: "Double increment",
    inc_set: "Set increment",
    inc_controls: "Increment",
    floor_phone: "Floor / phone bids",
    missed_alerts: "Late bids (after the close)",
    not_yet: "not in the engine yet",
    online_bidders: "Bidders online",
    current_lot: "Current lot",
    asking: "Asking",
    next_lots: "Next lots",
    all_lots: "All lots of the session",
    shortcuts: "Shortcuts",
    log: "Log",
    ok: "OK",
    select: "Select",
    no_current: "No lot is open",
    title: "Title",
    winner: "Buyer paddle",
    hammer_at: "Hammer time",
    deal_price: "Hammer price",
    all_sessions: "All sessions",
    refresh: "Refresh",
    field: "Field",
    result_type: "Result type",
    transaction_mode: "Transaction",
    holder: "Holder",
    description: "Description",
    links: "Links",
    welcome_hint: "Open a lot to bid once registered; the room screen and results are public; market staff use the back office.",
    you: "you",
    extended: "Extended to {time}",
    r_no_bids: "no bids",
    r_no_buyers: "listing expired with no qualified buyer",
    r_reserve_not_met: "reserve not met",
    r_auctioneer: "passed by the auctioneer",
    console_need_token: "Paste the session's auctioneer token (or open the link with #token=)",
    confirm_hammer: "Hammer?",
    err_amount: "Enter a valid amount",
    history_partial: "(partial history)",
    lots_of: "{n} lots",
    ss_scheduled: "Not started",
    ss_running: "Running",
    ss_finished: "Finished",
    now_on: "Now selling",
    idle_for: "No activity for {min} min · interrupted, can be resumed",
    idle_console: "Nothing has happened on this lot since {time} (perhaps a server restart interrupted it). It is still open: wait for bids, or press H to hammer, P to pass.",
    retrying: "Could not load ({message}); retrying in {s} s…",
    warn_1: "First warning",
    warn_2: "Second warning",
    warn_3: "Final warning",
    warn_next: "Warning ({n})",
    announce_cmd: "Announce",
    announce_ph: "Announcement (up to 200 characters), Enter to send",
    announce_send: "Send",
    pause_cmd: "Pause",
    resume_cmd: "Resume",
    pause_toggle: "Pause / resume",
    paused_banner: "Paused",
    withdraw_cmd: "Withdraw",
    withdraw_ph: "Reason for withdrawal",
    withdrawn_text: "Withdrawn",
    next_cmd: "Open the next lot",
    confirm_again: "Press {key} again to confirm {label}: {what}",
    confirm_click: "Click again to confirm {label}: {what}",
    will_hammer: "sold at {amount} to paddle {paddle}",
    will_pass: "the lot is passed",
    will_withdraw: "withdraw the lot, reason: {reason}",
    need_reason: "Enter the reason for the withdrawal first",
    need_text: "Enter the announcement first",
    result_sold: "Sold · {amount} · paddle {paddle}",
    result_passed: "Passed · {reason}",
    result_withdrawn: "Withdrawn · {reason}",
    no_more_lots: "No more lots in this session",
    refused: "{label} not done: {message}",
    e_lot_paused: "The sale is paused",
    e_bad_request: "The server does not support this",
    e_wrong_state: "Not possible in the lot's current state",
    e_forbidden: "Not allowed",
    e_unavailable: "Server unavailable, try again",
    e_overloaded: "Server busy, try again shortly",
    e_timeout: "No answer from the server",
    e_lot_closed: "The lot has closed",
    e_no_bids: "No bids yet",
    e_wrong_mode: "Not possible for this lot's mode",
    e_unknown_paddle: "No such paddle in this session",
    e_unknown_type: "Unknown message type",
    e_bad_amount: "Not a valid amount",
    e_unauthorized: "Your login or bidding credential is no longer valid: log in again",
    e_unknown_lot: "No such lot",
    e_lot_not_open: "The lot has not opened yet",
    e_below_start: "Below the starting price",
    e_too_low: "Below the lowest valid bid",
    e_off_increment: "Not a step of the bidding increment",
    e_already_leading: "You are already the highest bidder",
    e_wrong_format: "Not possible in this lot's format",
    e_no_revisions_left: "No quote revisions left",
    e_not_published: "The session is not published yet",
    e_listing_period: "No bids during the listing period",
    e_not_yet: "Not yet time to open this lot",
    e_idempotency_conflict: "This request key was already used for something else",
    e_rate_limited: "Too many requests, try again shortly",
    e_deposit_required: "No confirmed deposit covers this lot",
    e_internal_error: "Server error, try again",
    reopen_cmd: "Reopen",
    floor_key_cmd: "Floor / phone bid",
    increment_cmd: "Increment",
    inc_reset: "Back to the table",
    inc_now: "Current increment {inc}",
    inc_amount: "New increment (yuan)",
    inc_hint: "1 halve · 2 double · 3 back to the table · S type a new one, then Enter",
    inc_changed: "Increment now {inc}",
    inc_by_hand: "(set by the auctioneer)",
    inc_by_table: "(from the table)",
    src_online: "online",
    src_floor: "floor",
    src_phone: "phone",
    source: "Source",
    retracted: "retracted",
    will_undo: "retract paddle {paddle}'s bid of {amount}",
    your_bid_retracted: "Your bid of {amount} was retracted by the auctioneer",
    bid_retracted_note: "The auctioneer retracted paddle {paddle}'s bid of {amount}",
    retract_log: "retracted paddle {paddle}'s bid of {amount}",
    reopened_note: "The auctioneer has undone the result: the lot is open again, bidding continues",
    reopened_log: "reopened (result undone)",
    reopened_banner: "Reopened",
    floor_submit: "Enter bid",
    need_paddle: "Enter a paddle number",
    need_inc: "Enter the new increment",
    viewers: "Watching",
    viewers_n: "{n} watching",
    registered: "Registered",
    reserve_label: "Reserve",
    amount_yuan: "Amount (yuan)",
    reserve_met: "Reserve met",
    reserve_not_met: "Reserve not met",
    reserve_none: "No reserve",
    progress: "Session progress",
    prog_sold: "Sold",
    prog_passed: "Passed",
    prog_withdrawn: "Withdrawn",
    prog_to_go: "To go",
    prog_total: "Total hammer value",
    missed_line: "paddle {paddle} · {amount} · {late} s late",
    missed_log: "late bid: paddle {paddle} {amount}, {late} s late",
    missed_none: "No late bids",
    lot_missing: "Lot not found",
    lot_missing_text: "There is no such lot: the link may be wrong, or the lot is no longer public.",
    back_to_catalogue: "Back to sessions & lots",
    amount_label: "Bid amount (yuan; 21万 works too)",
    no_bids_yet: "No bids yet",
    facts_title: "Bidding facts",
    details_title: "About the lot",
    media_title: "Pictures & attachments",
    docs_title: "Auction notice & bidder terms",
    announcement_doc: "Auction notice (拍卖公告)",
    terms_doc: "Bidder terms (竞买须知)",
    not_published: "Not published for this session",
    logout_bidder: "Stop bidding",
    minutes_n: "{n} min",
    seconds_n: "{n} s",
    band_table: "Increment table",
    band_from: "Price from",
    band_from_value: "from {amount}",
    band_none: "{inc} throughout",
    increment_table: "Increment table",
    deposit: "Deposit",
    deposit_none: "None",
    reserve_yes: "Yes",
    reserve_no: "No",
    appraisal: "Appraised value",
    mode: "Mode",
    start_time: "Starts",
    planned: "(planned)",
    end_time: "Ends",
    ends_after_open: "{d} after opening",
    extension: "Extension rule",
    extension_rule: "a bid in the last {w} moves the close to {e} after it",
    extension_none: "no extension",
    extension_live: "live sale: not applicable",
    extended_times: "Extended",
    times_n: "{n} times",
    extended_n: "extended {n} times",
    viewers_label: "Watching",
    contact_phone: "Contact phone",
    contract_type: "Contract",
    closed_at: "closed {time}",
    outcome: "Result",
    sent_amount: "Sent {amount}, waiting for the answer…",
    after_reconnect: "(answered after the reconnect)",
    link_lost: "Connection lost: the price may have moved, bidding is off; reconnecting…",
    link_lost_pending: "Connection lost: your bid of {amount} is not confirmed yet; its result shows once the connection is back",
    pending_unknown: "Bid of {amount} not confirmed yet (connection lost); its result shows once back",
    reconnected: "Connection restored",
    bid_unknown: "The fate of your bid of {amount} is unknown: the link was down over 60 s and it was not resent; the bid record is what counts",
    market: "Market",
    season: "Season",
    season_spring: "Spring",
    season_autumn: "Autumn",
    season_special: "Special",
    all: "All",
    status: "Status",
    search: "Search",
    search_ph: "title, holder or description",
    filters: "Filters",
    clear_filters: "Clear filters",
    more: "Load more",
    n_found: "{n} lots",
    price: "Price",
    price_unknown: "live price unavailable",
    buyer: "Buyer",
    publicity_period: "Publicity period",
    period_value: "{from} to {to} ({n} working days)",
    objection: "Objections",
    sold_list: "Sold lots",
    passed_list: "Passed lots",
    withdrawn_list: "Withdrawn lots",
    reason: "Reason",
    closed_time: "Closed",
    signup: "Sign up",
    my_auction: "My auctions",
    apply: "Apply",
  },
};

export function lang() {
  return localStorage.getItem("auction.lang") === "en" ? "en" : "zh";
}

/** More texts for a page's own module: ``{zh: {key: text}, en: {key: text}}``. */
export function addTexts(texts) {
  Object.assign(DICT.zh, texts.zh || {});
  Object.assign(DICT.en, texts.en || {});
}

export function t(key, vars = {}) {
  const text = DICT[lang()][key] ?? DICT.zh[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, k) => (k in vars ? String(vars[k]) : `{${k}}`));
}

/** Fill every [data-i18n] (text) and [data-i18n-ph] (placeholder) under root. */
export function applyI18n(root = document) {
  document.documentElement.lang = lang() === "en" ? "en" : "zh-CN";
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-ph]")) el.placeholder = t(el.dataset.i18nPh);
}

/** Wire the language switch button; ``rerender`` redraws dynamic parts. */
export function setupLang(button, rerender) {
  const paint = () => {
    applyI18n();
    button.textContent = t("lang");
    if (rerender) rerender();
  };
  button.addEventListener("click", () => {
    localStorage.setItem("auction.lang", lang() === "en" ? "zh" : "en");
    paint();
  });
  paint();
}

// --- money -------------------------------------------------------------------------------------

function group(n) {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** Integer fen → "1,234,000.00 元" (no float arithmetic on the value). */
export function yuan(fen, unit = true) {
  if (fen === null || fen === undefined || Number.isNaN(fen)) return "—";
  const neg = fen < 0;
  const abs = Math.abs(Math.trunc(fen));
  const text = `${neg ? "-" : ""}${group(Math.floor(abs / 100))}.${String(abs % 100).padStart(2, "0")}`;
  return unit ? `${text} ${lang() === "en" ? "yuan" : "元"}` : text;
}

/** Integer fen → "123.45 万元" (short form for big screens); exact to the fen, trailing 0s cut. */
export function wan(fen) {
  if (fen === null || fen === undefined) return "—";
  const abs = Math.abs(Math.trunc(fen));
  const whole = Math.floor(abs / 1000000);
  let frac = String(abs % 1000000).padStart(6, "0").replace(/0+$/, "");
  const text = `${fen < 0 ? "-" : ""}${group(whole)}${frac ? "." + frac : ""}`;
  return `${text} 万元`;
}

/** An amount as people write it → integer fen; null when it is not one. "210000", "210,000",
 * "210000.00", "21万", "21.5万", "21.5万元", "¥210,000", "0.5亿" and full-width digits;
 * at most 2 decimals in 元, 6 in 万, 10 in 亿 (whole fen). No float arithmetic. */
export function parseYuan(text) {
  let s = String(text ?? "")
    .replace(/[０-９]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/．/g, ".")
    .replace(/[,\s，_']/g, "")
    .replace(/^[¥￥]/, "")
    .replace(/(元|圆|rmb|cny|yuan)$/i, "");
  let scale = 2; // decimals of 元 in a fen
  if (/[万萬]$/.test(s)) scale = 6;
  else if (/亿$/.test(s)) scale = 10;
  if (scale !== 2) s = s.slice(0, -1);
  const m = /^(\d{1,13})(?:\.(\d+))?$/.exec(s);
  if (!m || (m[2] || "").length > scale) return null;
  const whole = m[1].replace(/^0+(?=\d)/, "");
  const digits = whole + (m[2] || "").padEnd(scale, "0"); // the amount in fen, as a string
  const fen = Number(digits);
  return digits.length <= 16 && Number.isSafeInteger(fen) ? fen : null;
}

// --- time (China Standard Time, from server milliseconds) --------------------------------------

/** A live lot with no event for this long is shown as interrupted (it can be resumed: its room
 * is still open). Tests shorten it with ``window.AUCTION_IDLE_MS``. */
export function idleMs() {
  return Number(globalThis.AUCTION_IDLE_MS) || 60_000;
}

/** Run ``load`` until it succeeds (the server may be restarting, PostgreSQL briefly away):
 * ``onError(err, seconds)`` says what failed and when the next try is; 1 s, 2 s … up to 10 s.
 * An answer that will not change by waiting (a 4xx other than 429) is thrown at once. */
export async function retrying(load, onError) {
  let wait = 1;
  for (;;) {
    try {
      return await load();
    } catch (err) {
      if (err.status && err.status < 500 && err.status !== 429) throw err;
      onError(err, wait);
      await new Promise((resolve) => setTimeout(resolve, wait * 1000));
      wait = Math.min(wait * 2, 10);
    }
  }
}

export function clock(ms) {
  if (!ms) return "—";
  return new Date(ms).toLocaleTimeString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false });
}

export function dateTime(value) {
  if (!value) return "—";
  const d = typeof value === "number" ? new Date(value) : new Date(value);
  return d.toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false });
}

/** ms → "1:02:03" / "04:05". */
export function duration(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = String(m).padStart(2, "0");
  const ss = String(sec).padStart(2, "0");
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

// --- tokens --------------------------------------------------------------------------------------

/** A token given as "#token=…" is stored in sessionStorage (per tab) and removed from the URL. */
export function takeToken(kind) {
  const slot = `auction.token.${kind}`;
  const hash = new URLSearchParams(location.hash.replace(/^#/, ""));
  const given = hash.get("token");
  if (given) {
    sessionStorage.setItem(slot, given);
    hash.delete("token");
    const rest = hash.toString();
    history.replaceState(null, "", location.pathname + location.search + (rest ? "#" + rest : ""));
  }
  return sessionStorage.getItem(slot);
}

export function storeToken(kind, token) {
  const slot = `auction.token.${kind}`;
  if (token) sessionStorage.setItem(slot, token);
  else sessionStorage.removeItem(slot);
}

// --- HTTP ----------------------------------------------------------------------------------------

/** Headers of every API request of the pages: JSON, and the page's language, so that error
 * messages come back in it (X-Auction-Lang: docs/http-api.md). */
export function apiHeaders(more = {}) {
  return { Accept: "application/json", "X-Auction-Lang": lang(), ...more };
}

export async function api(path, opts = {}) {
  const r = await fetch(`/api/v1${path}`, { ...opts, headers: apiHeaders(opts.headers || {}) });
  let body = null;
  try {
    body = await r.json();
  } catch {
    body = null;
  }
  if (!r.ok) {
    const err = new Error(body?.error?.message || `HTTP ${r.status}`);
    err.status = r.status;
    err.code = body?.error?.code;
    throw err;
  }
  return body;
}

export function param(name) {
  return new URLSearchParams(location.search).get(name);
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

export function statusText(status) {
  return t(`st_${status}`);
}

export function passReason(reason) {
  return reason ? t(`r_${reason}`) : "";
}

/** A refusal (nack) for people: lot_paused → 拍卖已暂停; the server's own (Chinese) message in
 * Chinese, our text in English; the code only when nothing else is known. */
export function nackText(answer) {
  const code = answer?.code || "";
  const key = `e_${code}`;
  if (code === "lot_paused") return t(key);
  if (lang() === "zh" && answer?.message) return answer.message;
  const mine = t(key);
  return mine !== key ? mine : answer?.message || code;
}

/** 场内 / 电话 for a floor or phone bid, "" for an online one. */
export function sourceText(source) {
  return source === "floor" || source === "phone" ? t(`src_${source}`) : "";
}

/** The fair warning in words: 1 → 第一次警告, 2 → 第二次警告, 3 → 最后一次警告. */
export function warningText(n) {
  return n >= 1 && n <= 3 ? t(`warn_${n}`) : "";
}

/** The connection pill: text and a class per status. */
export function paintConn(node, status) {
  node.textContent = t(`conn_${status}`);
  node.className = `conn conn-${status}`;
  node.dataset.status = status;
}

// --- the site header's account links (登录 / 注册, or 我的竞拍 / 退出) ---------------------------

/** Added to every page's header nav: logged in (the readable CSRF cookie of the cookie login,
 * docs/http-api.md "Cookie login") → 我的竞拍 and 退出, else 登录 and 注册. */
function accountLinks() {
  const nav = document.querySelector("header.bar nav");
  if (!nav || nav.querySelector(".acct")) return;
  const csrf = /(?:^|;\s*)auction_csrf=([^;]*)/.exec(document.cookie);
  const box = el("span", { class: "acct" });
  if (csrf) {
    const out = async () => {
      // read at the click: a password change since the page loaded set a new CSRF value
      const now = /(?:^|;\s*)auction_csrf=([^;]*)/.exec(document.cookie);
      await fetch("/api/v1/auth/logout", {
        method: "POST", headers: { "X-CSRF-Token": decodeURIComponent((now || csrf)[1]) },
      }).catch(() => null);
      document.cookie = "auction_csrf=; Max-Age=0; path=/; SameSite=Strict";
      location.href = "index.html";
    };
    box.append(el("a", { href: "me.html", "data-i18n": "my_auction", text: t("my_auction") }),
      el("button", { type: "button", class: "link", "data-i18n": "logout", text: t("logout"),
        onclick: out }));
  } else {
    box.append(el("a", { href: "login.html", "data-i18n": "login", text: t("login") }),
      el("a", { href: "signup.html", "data-i18n": "signup", text: t("signup") }));
  }
  nav.append(box);
}

accountLinks();
