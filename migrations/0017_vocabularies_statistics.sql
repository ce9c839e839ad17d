-- 0017: vocabularies as data, and subsidy rules as data (issue 16 items 1 and 3;
-- docs/formats.md "Vocabularies", "Subsidy rules").
--
-- 1. The classification of a lot (技术领域, 成果类型, 知识产权类别, 合同类型, 交易方式) and a
--    party's 主体性质 come from `vocabulary_terms`: one row per term and version. A term holds from
--    `effective_from` until `effective_to` (exclusive; NULL: still in force); a new edition of a
--    list is new rows with a later `effective_from` (and `effective_to` set on the rows it
--    replaces), never an edit of the old ones, so a lot written under an old list still reads.
--    `source` says where the list comes from. `aliases` are other spellings accepted on input
--    and stored as `label` (the lot keeps the Chinese label: the API and pages show it).
CREATE TABLE vocabulary_terms (
    vocabulary      TEXT    NOT NULL CHECK (vocabulary IN ('technology_field', 'result_type',
                        'ip_type', 'contract_type', 'transaction_mode', 'party_nature')),
    key             TEXT    NOT NULL CHECK (key ~ '^[A-Z0-9_]{1,32}$'),
    label           TEXT    NOT NULL CHECK (length(label) BETWEEN 1 AND 50),
    label_en        TEXT    NOT NULL DEFAULT '',
    aliases         TEXT[]  NOT NULL DEFAULT '{}',
    position        INTEGER NOT NULL,
    effective_from  DATE    NOT NULL,
    effective_to    DATE    CHECK (effective_to IS NULL OR effective_to > effective_from),
    source          TEXT    NOT NULL,
    PRIMARY KEY (vocabulary, key, effective_from)
);

CREATE TABLE vocabulary_names (
    vocabulary  TEXT PRIMARY KEY,
    label       TEXT NOT NULL,
    label_en    TEXT NOT NULL
);
INSERT INTO vocabulary_names VALUES
    ('technology_field', '技术领域', 'Technology field'),
    ('result_type', '成果类型', 'Result type'),
    ('ip_type', '知识产权类别', 'IP category'),
    ('contract_type', '合同类型', 'Contract type'),
    ('transaction_mode', '交易方式', 'Transaction mode'),
    ('party_nature', '主体性质', 'Party nature');

INSERT INTO vocabulary_terms
    (vocabulary, key, label, label_en, aliases, position, effective_from, source) VALUES
-- ../shared/DOMAIN.md 技术领域: the 11 statistics fields, in their customary order
('technology_field', '01', '电子信息', 'Electronic information', '{电子信息技术}', 1, '2026-01-01', 'DOMAIN.md 技术领域 (统计口径 11 类)'),
('technology_field', '02', '航空航天', 'Aerospace', '{航空航天技术}', 2, '2026-01-01', 'DOMAIN.md 技术领域 (统计口径 11 类)'),
('technology_field', '03', '先进制造', 'Advanced manufacturing', '{先进制造技术}', 3, '2026-01-01', 'DOMAIN.md 技术领域 (统计口径 11 类)'),
('technology_field', '04', '生物、医药和医疗器械', 'Biology, medicine and medical devices', '{生物医药,生物、医药,生物医药和医疗器械,生物医药与医疗器械}', 4, '2026-01-01', 'DOMAIN.md 技术领域 (统计口径 11 类)'),
('technology_field', '05', '新材料及其应用', 'New materials', '{新材料,新材料技术}', 5, '2026-01-01', 'DOMAIN.md 技术领域 (统计口径 11 类)'),
('technology_field', '06', '新能源与高效节能', 'New energy and energy efficiency', '{新能源,新能源及高效节能,节能}', 6, '2026-01-01', 'DOMAIN.md 技术领域 (统计口径 11 类)'),
('technology_field', '07', '环境保护与资源综合利用', 'Environment and resource use', '{环境保护,环保,资源综合利用,环境保护与资源综合利用技术}', 7, '2026-01-01', 'DOMAIN.md 技术领域 (统计口径 11 类)'),
('technology_field', '08', '核应用', 'Nuclear applications', '{核应用技术}', 8, '2026-01-01', 'DOMAIN.md 技术领域 (统计口径 11 类)'),
('technology_field', '09', '农业', 'Agriculture', '{农业技术,现代农业}', 9, '2026-01-01', 'DOMAIN.md 技术领域 (统计口径 11 类)'),
('technology_field', '10', '现代交通', 'Modern transport', '{交通,现代交通技术}', 10, '2026-01-01', 'DOMAIN.md 技术领域 (统计口径 11 类)'),
('technology_field', '11', '城市建设与社会发展', 'Urban construction and social development', '{城市建设,社会发展}', 11, '2026-01-01', 'DOMAIN.md 技术领域 (统计口径 11 类)'),
-- 成果类型: the kind of result, grouped by its IP (DOMAIN.md 知识产权类别)
('result_type', 'PATENT', '专利', 'Patent', '{发明专利,实用新型,实用新型专利,外观设计,外观设计专利}', 1, '2026-01-01', 'DOMAIN.md 知识产权类别 (按成果归类)'),
('result_type', 'KNOWHOW', '技术秘密', 'Know-how', '{专有技术,非专利技术}', 2, '2026-01-01', 'DOMAIN.md 知识产权类别 (按成果归类)'),
('result_type', 'SOFTWARE', '计算机软件著作权', 'Software copyright', '{软件著作权,软著,软件}', 3, '2026-01-01', 'DOMAIN.md 知识产权类别 (按成果归类)'),
('result_type', 'IC_LAYOUT', '集成电路布图设计', 'IC layout design', '{集成电路布图设计专有权}', 4, '2026-01-01', 'DOMAIN.md 知识产权类别 (按成果归类)'),
('result_type', 'PLANT_VARIETY', '植物新品种', 'Plant variety', '{植物新品种权}', 5, '2026-01-01', 'DOMAIN.md 知识产权类别 (按成果归类)'),
('result_type', 'BIOMED_VARIETY', '生物、医药新品种', 'Biological or medical variety', '{生物医药新品种}', 6, '2026-01-01', 'DOMAIN.md 知识产权类别 (按成果归类)'),
('result_type', 'OTHER', '其他', 'Other', '{}', 7, '2026-01-01', 'DOMAIN.md 知识产权类别 (按成果归类)'),
-- 知识产权类别
('ip_type', 'INVENTION', '发明专利', 'Invention patent', '{发明}', 1, '2026-01-01', 'DOMAIN.md 知识产权类别'),
('ip_type', 'UTILITY_MODEL', '实用新型专利', 'Utility model', '{实用新型}', 2, '2026-01-01', 'DOMAIN.md 知识产权类别'),
('ip_type', 'DESIGN', '外观设计专利', 'Design patent', '{外观设计}', 3, '2026-01-01', 'DOMAIN.md 知识产权类别'),
('ip_type', 'KNOWHOW', '技术秘密', 'Know-how', '{专有技术,非专利技术}', 4, '2026-01-01', 'DOMAIN.md 知识产权类别'),
('ip_type', 'SOFTWARE', '计算机软件著作权', 'Software copyright', '{软件著作权,软著}', 5, '2026-01-01', 'DOMAIN.md 知识产权类别'),
('ip_type', 'IC_LAYOUT', '集成电路布图设计专有权', 'IC layout design right', '{集成电路布图设计}', 6, '2026-01-01', 'DOMAIN.md 知识产权类别'),
('ip_type', 'PLANT_VARIETY', '植物新品种', 'Plant variety right', '{植物新品种权}', 7, '2026-01-01', 'DOMAIN.md 知识产权类别'),
('ip_type', 'BIOMED_VARIETY', '生物、医药新品种', 'Biological or medical variety', '{生物医药新品种}', 8, '2026-01-01', 'DOMAIN.md 知识产权类别'),
('ip_type', 'NONE', '未涉及知识产权', 'No IP involved', '{无,不涉及知识产权}', 9, '2026-01-01', 'DOMAIN.md 知识产权类别'),
-- 合同类型 (Civil Code 2020 classes; the sub-types are auction/domain/registration_form.py)
('contract_type', 'TRANSFER', '技术转让', 'Technology transfer', '{}', 1, '2026-01-01', 'DOMAIN.md 技术合同类型 (民法典 2020)'),
('contract_type', 'LICENCE', '技术许可', 'Technology licence', '{}', 2, '2026-01-01', 'DOMAIN.md 技术合同类型 (民法典 2020)'),
('contract_type', 'DEVELOPMENT', '技术开发', 'Technology development', '{}', 3, '2026-01-01', 'DOMAIN.md 技术合同类型 (民法典 2020)'),
('contract_type', 'CONSULTING', '技术咨询', 'Technology consulting', '{}', 4, '2026-01-01', 'DOMAIN.md 技术合同类型 (民法典 2020)'),
('contract_type', 'SERVICE', '技术服务', 'Technology service', '{}', 5, '2026-01-01', 'DOMAIN.md 技术合同类型 (民法典 2020)'),
-- 交易方式 (the lots table's CHECK holds the same three)
('transaction_mode', 'TRANSFER', '转让', 'Transfer', '{}', 1, '2026-01-01', 'migrations/0001 lots.transaction_mode'),
('transaction_mode', 'LICENCE', '许可', 'Licence', '{}', 2, '2026-01-01', 'migrations/0001 lots.transaction_mode'),
('transaction_mode', 'EQUITY', '作价投资', 'Contribution as equity', '{技术入股}', 3, '2026-01-01', 'migrations/0001 lots.transaction_mode'),
-- 主体性质 as statistics count it
('party_nature', 'ENTERPRISE', '企业', 'Enterprise', '{}', 1, '2026-01-01', 'DOMAIN.md 主体性质'),
('party_nature', 'UNIVERSITY', '高等院校', 'University', '{高校}', 2, '2026-01-01', 'DOMAIN.md 主体性质'),
('party_nature', 'RESEARCH', '科研机构', 'Research institute', '{科研院所,新型研发机构}', 3, '2026-01-01', 'DOMAIN.md 主体性质'),
('party_nature', 'PUBLIC_INSTITUTION', '其他事业单位', 'Other public institution', '{事业单位}', 4, '2026-01-01', 'DOMAIN.md 主体性质'),
('party_nature', 'GOVERNMENT', '机关', 'Government body', '{}', 5, '2026-01-01', 'DOMAIN.md 主体性质'),
('party_nature', 'ASSOCIATION', '社团', 'Association', '{}', 6, '2026-01-01', 'DOMAIN.md 主体性质'),
('party_nature', 'PERSON', '个人', 'Natural person', '{自然人}', 7, '2026-01-01', 'DOMAIN.md 主体性质'),
('party_nature', 'OTHER', '其他', 'Other', '{}', 8, '2026-01-01', 'DOMAIN.md 主体性质');

-- 2. Existing lots: a value that is a term's label, key or alias becomes the term's label. What
--    cannot be mapped stays as written and is listed by the view `vocabulary_unmapped` (one row
--    per lot and field, always current: `SELECT * FROM vocabulary_unmapped`; docs/operations.md
--    "Vocabularies"). Such a lot must be given a listed value before it can be edited.
UPDATE lots l SET technology_field = t.label FROM vocabulary_terms t
WHERE t.vocabulary = 'technology_field' AND t.effective_to IS NULL
  AND l.technology_field <> t.label
  AND (l.technology_field = t.key OR btrim(l.technology_field) = ANY (t.aliases)
       OR btrim(l.technology_field) = t.label);
UPDATE lots l SET result_type = t.label FROM vocabulary_terms t
WHERE t.vocabulary = 'result_type' AND t.effective_to IS NULL
  AND l.result_type <> t.label
  AND (l.result_type = t.key OR btrim(l.result_type) = ANY (t.aliases)
       OR btrim(l.result_type) = t.label);
UPDATE lots l SET ip_type = t.label FROM vocabulary_terms t
WHERE t.vocabulary = 'ip_type' AND t.effective_to IS NULL
  AND l.ip_type <> t.label
  AND (l.ip_type = t.key OR btrim(l.ip_type) = ANY (t.aliases) OR btrim(l.ip_type) = t.label);

CREATE VIEW vocabulary_unmapped AS
SELECT l.id AS lot_id, l.session_id, f.field, f.value
FROM lots l
CROSS JOIN LATERAL (VALUES ('technology_field', l.technology_field),
                           ('result_type', l.result_type),
                           ('ip_type', l.ip_type)) AS f (field, value)
WHERE NOT EXISTS (
    SELECT 1 FROM vocabulary_terms t
    WHERE t.vocabulary = f.field AND t.label = f.value
);

-- 3. Subsidy rules (补贴规则), per market code and version: a market without rules of its own
--    uses its nearest ancestor's. `rules` is a JSON list of
--    {name, side: seller|buyer, natures: [主体性质], contract_types: [合同类型],
--     rate_bp (basis points of the base), base: paid|total|tech, cap_fen (per party and year)}
--    (auction/domain/subsidy.py reads it). The first example: 威海市's draft (seed 002).
CREATE TABLE subsidy_rules (
    market_code     CHAR(6) NOT NULL CHECK (market_code ~ '^[0-9]{6}$'),
    effective_from  DATE    NOT NULL,
    effective_to    DATE    CHECK (effective_to IS NULL OR effective_to > effective_from),
    name            TEXT    NOT NULL,
    source          TEXT    NOT NULL,
    rules           JSONB   NOT NULL CHECK (jsonb_typeof(rules) = 'array'),
    PRIMARY KEY (market_code, effective_from)
);
INSERT INTO subsidy_rules (market_code, effective_from, name, source, rules) VALUES
('371000', '2026-01-01', '威海市技术交易补贴 (征求意见稿)',
 'seed 002: 威海市促进技术转移转化若干措施 (征求意见稿) 技术合同登记补贴',
 '[{"name": "企业吸纳技术", "side": "buyer", "natures": ["企业"],
    "contract_types": ["技术开发", "技术转让"], "rate_bp": 500, "base": "paid",
    "cap_fen": 30000000},
   {"name": "高校、新型研发机构输出技术", "side": "seller", "natures": ["高等院校", "科研机构"],
    "contract_types": ["技术开发", "技术转让"], "rate_bp": 100, "base": "paid",
    "cap_fen": 200000000}]');
