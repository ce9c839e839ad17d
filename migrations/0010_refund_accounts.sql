-- 0010: the bidder's refund account (issue 12 item 4: "the refund list after the session with
-- amounts and the bidder's bank details"; docs/http-api.md "Refunds").
--
-- Given by the bidder when applying (optional) and changeable by its own login until the
-- registration is forfeited (PUT /api/v1/registrations/{id}/refund-account); read by finance
-- on GET /api/v1/sessions/{id}/refunds. '' while not given: finance then pays back to the
-- account the deposit came from, as before.
ALTER TABLE registrations
    ADD COLUMN refund_name     TEXT NOT NULL DEFAULT '',  -- 户名
    ADD COLUMN refund_bank     TEXT NOT NULL DEFAULT '',  -- 开户行
    ADD COLUMN refund_account  TEXT NOT NULL DEFAULT '';  -- 账号
