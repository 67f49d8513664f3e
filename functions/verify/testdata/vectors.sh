#!/usr/bin/env bash
# Writes callbacks.tsv: DFINERY verification callbacks as DFINERY would send
# them, each signed here with openssl, independently of the Go code:
#
#	ABX-HASH = Base64(HMAC-SHA256(key, raw body)), the key the UUID text
#
# Columns (tab separated): group, config, name, content type, headers
# ("-" or "Name: value" joined by " ; "), status, reason ("-" for success),
# ABX-HASH ("-" for none), body. Rows of one group run in order against one
# fresh verifier; the test (verify_vectors_test.go) records the ledger and
# names the configs. Run from this directory: ./vectors.sh > callbacks.tsv
set -euo pipefail

KEY=3f2b8c1e-6a4d-4e2b-9c1a-7d5e8f0a1b2c
OTHER_KEY=00000000-dead-beef-0000-000000000000
ADID=9f1c2d3e-aaaa-bbbb-cccc-123456789abc
ADID_UPPER=9F1C2D3E-AAAA-BBBB-CCCC-123456789ABC
TS=1795348700000 # 2026-11-22T11:58:20Z; the test's clock is 12:00:00Z
FORM=application/x-www-form-urlencoded
JSON=application/json

enc() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }
jstr() { python3 -c 'import sys, json; print(json.dumps(sys.argv[1]))' "$1"; }
sign() { printf '%s' "$2" | openssl dgst -sha256 -hmac "$1" -binary | base64; }

# row GROUP CONFIG NAME CT HEADERS STATUS REASON BODY [KEY|-]
row() {
	local key=${9:-$KEY} hash=-
	if [ "$key" != - ]; then hash=$(sign "$key" "$8"); fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$7" "$hash" "$8"
}

P77='{"abx:order_id":"ord-77","abx:order_sales":24000,"abx:currency":"KRW"}'
form() { # form NAME TIMESTAMP PARAMS [extra k=v already encoded]
	printf 'adid=%s&event_name=%s&event_timestamp=%s&param_json=%s%s' "$ADID" "$(enc "$1")" "$2" "$(enc "$3")" "${4:-}"
}
A=$(form abx:purchase $TS "$P77")
B=$(form abx:purchase $((TS + 1)) "$P77")
J77="{\"adid\":\"$ADID\",\"event_name\":\"abx:purchase\",\"event_timestamp\":$TS,\"param_json\":$(jstr "$P77")}"

# 1. DFINERY's names by default, any case; the map adds and overrides.
row names default "abx:purchase, form" $FORM - 200 - "$A"
row json default "abx:purchase, JSON" $JSON - 200 - "$J77"
row upper default "name in upper case" $FORM - 200 - "$(form ABX:PURCHASE $TS "$P77")"
row df default "df_purchase (newer SDK), JSON" $JSON - 200 - "{\"adid\":\"$ADID\",\"event_name\":\"df_purchase\",\"event_timestamp\":$TS,\"param_json\":$(jstr "$P77")}"
row unmapped default "unmapped name" $FORM - 422 unsupported_event "$(form abx:level_achieved $TS "$P77")"
row mapadd map "VERIFY_EVENT_MAP adds c:buy" $FORM - 200 - "$(form c:buy $TS "$P77")"
row mapover map "VERIFY_EVENT_MAP overrides abx:product_view" $FORM - 200 - "$(form abx:product_view $TS "$P77")"

# 3. Idempotent: the identical body gets the first verdict again.
row retry default "first" $FORM - 200 - "$A"
row retry default "identical body again (DFINERY retry)" $FORM - 200 - "$A"
row retryjson default "first, JSON" $JSON - 200 - "$J77"
row retryjson default "identical JSON body again" $JSON - 200 - "$J77"
P404='{"abx:order_id":"ord-404","abx:order_sales":24000,"abx:currency":"KRW"}'
row retryfail default "never sent" $FORM - 422 not_found "$(form abx:purchase $TS "$P404")"
row retryfail default "never sent, again: same verdict" $FORM - 422 not_found "$(form abx:purchase $TS "$P404")"

# 4. One real event confirms one callback.
row claim default "first callback for ord-77" $FORM - 200 - "$A"
row claim default "same purchase, timestamp +1 ms" $FORM - 422 already_confirmed "$B"
row claim default "the JSON twin" $JSON - 422 already_confirmed "$J77"
row claim default "the first body again still succeeds" $FORM - 200 - "$A"

# 5. Strict matching.
# No check is skipped for a field left out (issue 23, point 3).
row bare default "order id and nothing else" $FORM - 422 missing:identity "event_name=abx%3Apurchase&event_timestamp=$TS&param_json=$(enc '{"abx:order_id":"ord-77"}')"
row bareamount default "order id and device, no amount" $FORM - 422 missing:amount "$(form abx:purchase $TS '{"abx:order_id":"ord-77","abx:currency":"KRW"}')"
row barecurrency default "order id, device and amount, no currency" $FORM - 422 missing:currency "$(form abx:purchase $TS '{"abx:order_id":"ord-77","abx:order_sales":24000}')"
PNOID='{"abx:order_sales":24000,"abx:currency":"KRW"}'
row noid default "device and time, no order id" $FORM - 422 no_identifier "$(form abx:purchase $TS "$PNOID")"
row devtime devicetime "device and time, opted in" $FORM - 200 - "$(form abx:purchase $TS "$PNOID")"
row device default "other device" $FORM - 422 mismatch:device "adid=00000000-1111-2222-3333-444444444444&event_name=abx%3Apurchase&event_timestamp=$TS&param_json=$(enc "$P77")"
row amount default "other amount" $FORM - 422 mismatch:amount "$(form abx:purchase $TS '{"abx:order_id":"ord-77","abx:order_sales":99000,"abx:currency":"KRW"}')"
row currency default "other currency" $FORM - 422 mismatch:currency "$(form abx:purchase $TS '{"abx:order_id":"ord-77","abx:order_sales":24000,"abx:currency":"USD"}')"
row user default "other user" $FORM - 422 mismatch:user "$(form abx:purchase $TS "$P77" '&user_id=mallory')"
row time default "time 90 min from ours" $FORM - 422 mismatch:time "$(form abx:purchase $((TS - 5400000)) "$P77")"
row signup map "sign-up by user id" $FORM - 200 - "event_name=abx%3Asign_up&event_timestamp=1795348500000&user_id=carol"
row signup map "the same sign-up, another body" $JSON - 422 already_confirmed "{\"event_name\":\"abx:sign_up\",\"event_timestamp\":1795348500000,\"user_id\":\"carol\"}"
row signupnoid map "sign-up without a user id" $FORM - 422 no_identifier "adid=$ADID&event_name=abx%3Asign_up&event_timestamp=1795348500000"
row signupother map "sign-up of another user" $FORM - 422 not_found "event_name=abx%3Asign_up&event_timestamp=1795348500000&user_id=dave"
row orderkey orderkey "configured order id key" $FORM - 200 - "$(form abx:purchase $TS '{"merchant_uid":"ord-77","abx:order_sales":24000,"abx:currency":"KRW"}')"

# 6. Formats.
row upperadid default "ADID in upper case" $FORM - 200 - "adid=$ADID_UPPER&event_name=abx%3Apurchase&event_timestamp=$TS&param_json=$(enc "$P77")"
row nested default "param_json as a nested object" $JSON - 200 - "{\"adid\":\"$ADID\",\"event_name\":\"abx:purchase\",\"event_timestamp\":\"$TS\",\"param_json\":$P77}"
row macro default "macro names, param_json nested" $JSON - 200 - "{\"req\":{\"common\":{\"identity\":{\"adid\":\"$ADID_UPPER\"}},\"evt\":{\"event_name\":\"abx:purchase\",\"event_timestamp\":$TS,\"param_json\":$P77}}}"
row tswins default "event_timestamp wins over event_datetime" $FORM - 200 - "$(form abx:purchase $TS "$P77" "&event_datetime=$(enc '2020-01-01 00:00:00')")"
row seoul seoul "zone-less datetime, zone Asia/Seoul" $FORM - 200 - "adid=$ADID&event_name=abx%3Apurchase&event_datetime=$(enc '2026-11-22 20:58:20')&param_json=$(enc "$P77")"
row utc default "the same datetime read as UTC" $FORM - 422 stale "adid=$ADID&event_name=abx%3Apurchase&event_datetime=$(enc '2026-11-22 20:58:20')&param_json=$(enc "$P77")"
row late default "20 h late: inside the default window" $FORM - 200 - "$(form abx:purchase 1795276800000 '{"abx:order_id":"ord-late","abx:order_sales":5000,"abx:currency":"KRW"}')"
row stale default "25 h old" $FORM - 422 stale "$(form abx:purchase 1795258800000 "$P77")"
row notime default "no event time" $FORM - 422 no_event_time "adid=$ADID&event_name=abx%3Apurchase&param_json=$(enc "$P77")"

# 7. Keys by source.
POTHER='{"abx:order_id":"ord-other","abx:order_sales":100,"abx:currency":"USD"}'
row srcany default "another source's order, any source" $FORM - 200 - "event_name=abx%3Apurchase&event_timestamp=$TS&user_id=bob&param_json=$(enc "$POTHER")"
row srcours sources "another source's order, sources=shop" $FORM - 422 not_found "event_name=abx%3Apurchase&event_timestamp=$TS&user_id=bob&param_json=$(enc "$POTHER")"
row srcboth sources "id in two sources: ours matches" $FORM - 200 - "event_name=abx%3Apurchase&event_timestamp=$TS&user_id=erin&param_json=$(enc '{"abx:order_id":"ord-both","abx:order_sales":24000,"abx:currency":"KRW"}')"
row srcboth sources "the other source's amount is not ours" $FORM - 422 mismatch:amount "event_name=abx%3Apurchase&event_timestamp=$TS&user_id=erin&param_json=$(enc '{"abx:order_id":"ord-both","abx:order_sales":100,"abx:currency":"USD"}')"

# 8. IP allow-list behind one trusted proxy.
row xffok xff "client appended by our proxy" $FORM "X-Forwarded-For: 198.51.100.1, 203.0.113.9" 200 - "$A"
row xffspoof xff "allowed address written by the caller" $FORM "X-Forwarded-For: 203.0.113.9, 198.51.100.1" 403 ip_not_allowed "$A"

# Signatures.
row unsigned default "unsigned" $FORM - 401 unsigned "$A" -
row forged default "signed with another key" $FORM - 401 bad_signature "$A" "$OTHER_KEY"
row malformed default "neither form nor JSON" text/plain - 422 malformed "%zz%%"
