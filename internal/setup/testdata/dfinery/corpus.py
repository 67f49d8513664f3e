#!/usr/bin/env python3
"""Writes corpus.tsv: DFINERY Fraud Kill-Chain verification callbacks for
purchases from real iOS, Android and web apps, and the events their
backends send to ingest, built from DFINERY's documentation (README.md in
this directory says which page says what), not from what eventrelay does.

Each row is one step, run in order by TestDFINERYCorpus (verify_corpus_test.go):
  step  kind      name  truth  content-type  want  body
kind is "ingest" (the backend's event, POSTed to ingest's public API) or
"callback" (DFINERY's request to verify, signed by the test with
Base64(HMAC-SHA256(key, raw body)) as DFINERY documents). truth is "real"
(DFINERY's callback for a purchase that happened) or "spoof" (made by an
attacker who reuses a real order id). want is the answer DFINERY must get:
success, failure, or not_found (a callback ahead of the backend's ingest,
which DFINERY's retry then turns into success). Bodies carry {ts} (the
purchase time in ms, as the backend saw it), {sdk_ts} (1.5 s later, as the
device's SDK saw it) and {sdk_dt} (the same as "YYYY-MM-DD HH:MM:SS" UTC),
filled in by the test at its run time.

Run from this directory: ./corpus.py > corpus.tsv
"""
import itertools
import json
import urllib.parse

ZERO = "00000000-0000-0000-0000-000000000000"  # the advertising id without consent (Apple, Google)

rows = []


def row(kind, name, truth, ctype, want, body):
    assert "\t" not in body and "\n" not in body
    rows.append((kind, name, truth, ctype, want, body))


def ingest(order, user, device, amount, currency, channel="APP"):
    ev = {"id": order, "event_type": "PURCHASE", "timestamp": "TS", "channel_type": channel}
    if user:
        ev["user_id"] = user
    if device:
        ev["device"] = device
    money = {"currency": currency, "amount": amount}
    ev["items"] = [{"id": "sku-1", "price": money, "quantity": 1}]
    ev["revenue"] = money
    body = json.dumps(ev, separators=(",", ":")).replace('"TS"', "{ts}")
    row("ingest", order, "-", "application/json", "accepted", body)


# Templates: the operator writes DFINERY's body with its macros. Three
# shapes: a form body with short keys, a flat JSON body, and a JSON body
# keyed by the macro names themselves (req.common.identity.adid ...).
def form(fields, param):
    parts = []
    for k, v in fields:
        if v is None:
            continue
        if v == "SDK_TS":
            parts.append(k + "={sdk_ts}")
        else:
            parts.append(k + "=" + urllib.parse.quote(v, safe=""))
    parts.append("param_json=" + urllib.parse.quote(json.dumps(param, separators=(",", ":")), safe=""))
    return "&".join(parts)


def flat_json(fields, param):
    obj = {k: v for k, v in fields if v is not None}
    obj["param_json"] = json.dumps(param, separators=(",", ":"))
    return json.dumps(obj, separators=(",", ":")).replace('"SDK_TS"', "{sdk_ts}").replace('"SDK_DT"', '"{sdk_dt}"')


def macro_json(fields, param):
    identity = {k: v for k, v in fields if v is not None and k in ("adid", "gaid", "idfa", "idfv", "user_id")}
    evt = {"event_name": dict(fields)["event_name"], "event_timestamp": "SDK_TS", "param_json": param}
    obj = {"req": {"common": {"identity": identity, "appkey": "6aE6E7OO5EOsw35P8vCHtQ"}, "evt": evt}}
    return json.dumps(obj, separators=(",", ":")).replace('"SDK_TS"', "{sdk_ts}")


TEMPLATES = {
    "form": ("application/x-www-form-urlencoded", form),
    "json": ("application/json", flat_json),
    "macro-json": ("application/json", macro_json),
}


class Purchase:
    """A purchase as the app, its backend and DFINERY each see it."""

    def __init__(self, order, platform, template, backend_device, backend_user, dfinery_ids, amount, currency,
                 sdk_amount, channel="APP", other_device=None):
        self.order, self.platform, self.template = order, platform, template
        self.backend_device, self.backend_user = backend_device, backend_user
        self.ids = dfinery_ids  # DFINERY's identity macros for this device, as it fills them
        self.amount, self.currency, self.sdk_amount = amount, currency, sdk_amount
        self.channel = channel
        self.other_device = other_device  # another device's ids, of the same platform

    def ingest(self):
        ingest(self.order, self.backend_user, self.backend_device, self.amount, self.currency, self.channel)

    def body(self, device="R", user="R", amount="R", currency="R", sdk_time="ts"):
        """DFINERY's callback; each of device/user/amount/currency is
        R(ight), M(issing) or W(rong)."""
        ids = {"R": self.ids, "M": {}, "W": self.other_device}[device]
        fields = [("event_name", "abx:purchase")]
        for k in ("adid", "gaid", "idfa", "idfv"):
            if device == "M" and k in self.ids and self.template == "form":
                fields.append((k, ""))  # the macro rendered empty
            elif k in ids:
                fields.append((k, ids[k]))
        real_user = self.ids.get("user_id")
        if user == "R" and real_user:
            fields.append(("user_id", real_user))
        elif user == "W":
            fields.append(("user_id", "member-9999"))
        if sdk_time == "dt":
            fields.append(("event_datetime", "SDK_DT"))
        else:
            fields.append(("event_timestamp", "SDK_TS"))
        param = {"abx:order_id": self.order}
        if amount == "R":
            param["abx:order_sales"] = self.sdk_amount
        elif amount == "W":
            param["abx:order_sales"] = wrong_amount(self.sdk_amount)
        if currency == "R":
            param["abx:currency"] = self.currency.lower() if self.platform == "android" else self.currency
        elif currency == "W":
            param["abx:currency"] = "USD" if self.currency != "USD" else "KRW"
        ctype, render = TEMPLATES[self.template]
        if sdk_time == "dt" and self.template != "json":
            raise ValueError("event_datetime only in the flat JSON template")
        return ctype, render(fields, param)


_wrong = itertools.cycle(["shift", "nan", "plus1"])


def wrong_amount(a):
    kind = next(_wrong)
    if kind == "nan":
        return "NaN"
    n = float(a)
    return str(n / 10) if isinstance(a, str) and kind == "shift" else (n / 10 if kind == "shift" else n + 1)


IDFA_1, IDFV_1 = "6D92078A-8246-4BA4-AE5B-76104861E7DC", "E621E1F8-C36C-495A-93FC-0C247A3E6E5F"
IDFV_2 = "8C0F3D2A-1B4E-4F6A-9D7C-2E5B8A1F0C3D"
IDFA_3 = "1E2D3C4B-5A69-4788-9A0B-C1D2E3F4A5B6"
GAID_1 = "38400000-8cf0-11bd-b23e-10b96e40000d"
OTHER_IOS = {"adid": "A1B2C3D4-E5F6-4A7B-8C9D-0E1F2A3B4C5D", "idfa": "A1B2C3D4-E5F6-4A7B-8C9D-0E1F2A3B4C5D",
             "idfv": "F0E1D2C3-B4A5-4968-8776-5A4B3C2D1E0F"}
OTHER_ANDROID = {"adid": "7c9e6679-7425-40de-944b-e07fc1f90ae7", "gaid": "7c9e6679-7425-40de-944b-e07fc1f90ae7"}

purchases = [
    # iOS, App Tracking Transparency allowed: DFINERY has the IDFA (adid,
    # idfa) and the IDFV; the backend sends the IDFV as persistent_id and
    # the IDFA as advertising_id, and the signed-in user.
    Purchase("ios-att-1001", "ios", "form", {"os": "ios", "persistent_id": IDFV_1, "advertising_id": IDFA_1},
             "member-1001", {"adid": IDFA_1, "idfa": IDFA_1, "idfv": IDFV_1, "user_id": "member-1001"},
             24000, "KRW", 24000, other_device=OTHER_IOS),
    # iOS, ATT denied: the IDFA is the zero UUID (DFINERY sends it as it
    # is); the backend has the IDFV only (ingest refuses the zero IDFA).
    Purchase("ios-noatt-1002", "ios", "json", {"os": "ios", "persistent_id": IDFV_2}, None,
             {"adid": ZERO, "idfa": ZERO, "idfv": IDFV_2}, 12900, "KRW", "12900", other_device=OTHER_IOS),
    # iOS, ATT allowed, a backend that records only the IDFA, as
    # persistent_id, the amount as DFINERY's string with decimals.
    Purchase("ios-idfa-1003", "ios", "macro-json", {"os": "ios", "persistent_id": IDFA_3}, None,
             {"adid": IDFA_3, "idfa": IDFA_3, "idfv": "0A1B2C3D-4E5F-4061-8293-A4B5C6D7E8F9"}, 19.99, "USD", "19.99",
             other_device=OTHER_IOS),
    # Android with the advertising id: DFINERY has the GAID (adid, gaid);
    # the backend sends its own install id as persistent_id and the GAID
    # as advertising_id.
    Purchase("and-gaid-1004", "android", "macro-json", {"os": "android", "persistent_id": "inst-5f1d0c2e9a",
             "advertising_id": GAID_1}, None, {"adid": GAID_1, "gaid": GAID_1}, 33000, "KRW", 33000,
             other_device=OTHER_ANDROID),
    # Android without the advertising id (deleted or limited: the zero
    # UUID): only the user id is shared; the backend records its install id
    # and the signed-in user.
    Purchase("and-nogaid-1005", "android", "form", {"os": "android", "persistent_id": "inst-88c2e7b1d0"},
             "member-1005", {"adid": ZERO, "gaid": ZERO, "user_id": "member-1005"}, 5500, "KRW", "5500",
             other_device=OTHER_ANDROID),
    # Web: no device id at all on DFINERY's side; the signed-in user.
    Purchase("web-1006", "web", "json", None, "member-1006", {"user_id": "member-1006"}, 45000, "KRW", 45000,
             channel="SITE", other_device=OTHER_ANDROID),
]

LEVELS = ("R", "M", "W")


def spoof_combinations(p):
    """Every combination of right, missing and wrong fields an attacker who
    reuses p's order id can send, less the ones no verifier can tell from
    DFINERY's real callback (README.md: the attacker model)."""
    has_device = any(p.ids.get(k, ZERO) != ZERO for k in ("adid", "gaid", "idfa", "idfv"))
    has_user = "user_id" in p.ids
    for d, u, a, c in itertools.product(LEVELS, LEVELS, LEVELS, LEVELS):
        if d == "R" and not has_device or u == "R" and not has_user:
            continue  # no such right value to send
        if d == "W" and not p.other_device:
            continue
        known = d == "R" or u == "R"
        if u == "W" and d == "R":
            # The buyer's device with another user: refused when the backend
            # recorded the user; when it did not, no verifier can tell it
            # from a buyer signed in to DFINERY's SDK only.
            if p.backend_user:
                yield d, u, a, c
            continue
        if u == "R" and d == "W":
            continue  # the user's own login on another of their devices: not a spoof we can tell
        if known and a == "R" and c == "R":
            continue  # the real callback's content
        yield d, u, a, c


def name(p, d, u, a, c):
    return "%s %s: device %s, user %s, amount %s, currency %s" % (p.platform, p.order, d, u, a, c)


for p in purchases:
    p.ingest()
    spoofs = list(spoof_combinations(p))
    # Spoofs first: none may claim the order.
    for combo in spoofs:
        ctype, body = p.body(*combo)
        row("callback", "spoof " + name(p, *combo), "spoof", ctype, "failure", body)
    ctype, real = p.body()
    row("callback", "real " + p.order, "real", ctype, "success", real)
    row("callback", "real " + p.order + " (DFINERY retry)", "real", ctype, "success", real)
    # A spoof retried after the real callback keeps its failure.
    for combo in spoofs[:3]:
        ctype, body = p.body(*combo)
        row("callback", "spoof retry " + name(p, *combo), "spoof", ctype, "failure", body)

# The flat JSON template with {req.evt.event_datetime} instead of the
# timestamp.
dt = Purchase("ios-dt-1007", "ios", "json", {"os": "ios", "persistent_id": "B7E5D3C1-A9F8-4E6D-8C4B-2A0F1E3D5C7B"}, None,
              {"adid": ZERO, "idfa": ZERO, "idfv": "B7E5D3C1-A9F8-4E6D-8C4B-2A0F1E3D5C7B"}, 8800, "KRW", 8800)
dt.ingest()
ctype, body = dt.body(sdk_time="dt")
row("callback", "real ios-dt-1007 (event_datetime)", "real", ctype, "success", body)

# Races with ingest: the SDK's event reaches DFINERY, and DFINERY asks,
# before the backend's ingest call lands. The callback gets not_found, which
# is not stored; DFINERY's retry after the ingest is confirmed. A spoof that
# raced ahead the same way still fails after the ingest.
race = Purchase("and-race-1008", "android", "form", {"os": "android", "persistent_id": "inst-race-0001",
                "advertising_id": "0f8fad5b-d9cb-469f-a165-70867728950e"}, None,
                {"adid": "0f8fad5b-d9cb-469f-a165-70867728950e", "gaid": "0f8fad5b-d9cb-469f-a165-70867728950e"},
                15000, "KRW", "15000", other_device=OTHER_ANDROID)
ctype, real = race.body()
ctype, spoof = race.body("M", "M", "R", "R")
row("callback", "spoof and-race-1008 ahead of ingest: device M, user M", "spoof", ctype, "not_found", spoof)
row("callback", "real and-race-1008 ahead of ingest", "real", ctype, "not_found", real)
race.ingest()
row("callback", "spoof and-race-1008 retried after ingest", "spoof", ctype, "failure", spoof)
row("callback", "real and-race-1008 (DFINERY retry after ingest)", "real", ctype, "success", real)
row("callback", "real and-race-1008 (retry again)", "real", ctype, "success", real)

race2 = Purchase("ios-race-1009", "ios", "json", {"os": "ios", "persistent_id": "3F2504E0-4F89-41D3-9A0C-0305E82C3301"}, None,
                 {"adid": ZERO, "idfa": ZERO, "idfv": "3F2504E0-4F89-41D3-9A0C-0305E82C3301"}, 2500, "KRW", 2500)
ctype, real = race2.body()
row("callback", "real ios-race-1009 ahead of ingest", "real", ctype, "not_found", real)
race2.ingest()
row("callback", "real ios-race-1009 (DFINERY retry after ingest)", "real", ctype, "success", real)

for i, r in enumerate(rows, 1):
    print("\t".join((str(i),) + r))
