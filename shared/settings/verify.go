package settings

import (
	"time"

	"eventrelay.dev/eventrelay/shared/dfinery"
)

// verify's settings: DFINERY's keys, matching, and its answers.

var DFINERYKeysSecret = declare(&String{Meta: Meta{Name: "DFINERY_KEYS_SECRET",
	Description: "name of the secret holding the DFINERY HMAC key(s): a JSON list of UUIDs, newest first, or one bare key",
	Functions:   []Function{Verify}, Secret: NamesSecret, Required: "always",
	GCP: From("the dfinery-keys secret"), AWS: From("the dfinery-keys secret")}})

var DFINERYKeyEncoding = declare(&OneOf{Meta: Meta{Name: "DFINERY_KEY_ENCODING",
	Description: "text: the UUID's characters are the key; uuid-bytes: its 16 bytes",
	Functions:   []Function{Verify},
	GCP:         Var("dfinery_key_encoding"), AWS: Var("dfinery_key_encoding")},
	Default: "text", Allowed: []string{"text", "uuid-bytes"}})

var VerifyHeaderTokenSecret = declare(&String{Meta: Meta{Name: "VERIFY_HEADER_TOKEN_SECRET",
	Description: "secret with a static token DFINERY must also send (in VERIFY_TOKEN_HEADER); empty: none",
	Functions:   []Function{Verify}, Secret: NamesSecret,
	GCP: DerivedFrom("verify_header_token", "the verify-header-token secret when true"),
	AWS: DerivedFrom("verify_header_token", "the verify-header-token secret when true")}})

var VerifyTokenHeader = declare(&String{Meta: Meta{Name: "VERIFY_TOKEN_HEADER",
	Description: "the header carrying that token",
	Functions:   []Function{Verify},
	GCP:         Var("verify_token_header"), AWS: Var("verify_token_header")},
	Default: "X-Verify-Token"})

var VerifyOrderIDKey = declare(&String{Meta: Meta{Name: "VERIFY_ORDER_ID_KEY",
	Description: "the param_json key(s) of the order id (our event id), comma separated",
	Functions:   []Function{Verify},
	GCP:         Var("verify_order_id_key"), AWS: Var("verify_order_id_key")},
	Default: dfinery.DefaultOrderIDKey})

var VerifyMaxBodyBytes = declare(&Int{Meta: Meta{Name: "VERIFY_MAX_BODY_BYTES",
	Description: "the largest callback body",
	Functions:   []Function{Verify},
	GCP:         Var("verify_max_body_bytes"), AWS: Var("verify_max_body_bytes")},
	Default: 64 << 10, Min: 1 << 10, Max: 1 << 20})

// The long default: DFINERY asks late (an SDK holds events while a device
// is offline, and DFINERY verifies after its own processing); stored
// verdicts and one claim per event, not this window, stop reuse.
var VerifyFreshness = declare(&Duration{Meta: Meta{Name: "VERIFY_FRESHNESS",
	Description: "how old a callback's event may be; at most LEDGER_TTL",
	Functions:   []Function{Verify},
	GCP:         Var("verify_freshness"), AWS: Var("verify_freshness")},
	Default: 24 * time.Hour, Min: time.Minute, Max: 30 * 24 * time.Hour})

var VerifyTimeTolerance = declare(&Duration{Meta: Meta{Name: "VERIFY_TIME_TOLERANCE",
	Description: "how far a callback's event time may be from the time ingest recorded",
	Functions:   []Function{Verify},
	GCP:         Var("verify_time_tolerance"), AWS: Var("verify_time_tolerance")},
	Default: 10 * time.Minute, Min: time.Second, Max: 24 * time.Hour})

var VerifyLookupRetry = declare(&Duration{Meta: Meta{Name: "VERIFY_LOOKUP_RETRY",
	Description: "how long a miss is retried (a callback may beat ingest's ledger write)",
	Functions:   []Function{Verify},
	GCP:         Var("verify_lookup_retry"), AWS: Var("verify_lookup_retry")},
	Default: 300 * time.Millisecond, Min: 0, Max: 2 * time.Second})

var VerifyEventMap = declare(&List{Meta: Meta{Name: "VERIFY_EVENT_MAP",
	Description: "dfinery_name=EVENT_TYPE pairs added to DFINERY's standard names or overriding them; each type must be in LEDGER_EVENT_TYPES",
	Functions:   []Function{Verify},
	GCP:         Var("verify_event_map"), AWS: Var("verify_event_map")}})

var VerifySources = declare(&List{Meta: Meta{Name: "VERIFY_SOURCES",
	Description: "the ingest sources whose events verify confirms; empty: all",
	Functions:   []Function{Verify},
	GCP:         Var("verify_sources"), AWS: Var("verify_sources")}})

var VerifyMatchDeviceTime = declare(&Bool{Meta: Meta{Name: "VERIFY_MATCH_DEVICE_TIME",
	Description: "confirm a callback without an order or user id by device id and time alone (whoever knows a device id can then get events near its real ones confirmed)",
	Functions:   []Function{Verify},
	GCP:         Var("verify_match_device_time"), AWS: Var("verify_match_device_time")}})

var VerifyTimezone = declare(&String{Meta: Meta{Name: "VERIFY_TIMEZONE",
	Description: "the zone of an event_datetime without an offset",
	Functions:   []Function{Verify},
	GCP:         Var("verify_timezone"), AWS: Var("verify_timezone")},
	Default: "UTC", Format: "IANA zone name"})

var VerifySuccessStatus = declare(&Int{Meta: Meta{Name: "VERIFY_SUCCESS_STATUS",
	Description: "the HTTP status of a confirmation",
	Functions:   []Function{Verify},
	GCP:         Var("verify_success_status"), AWS: Var("verify_success_status")},
	Default: 200, Min: 200, Max: 299})

var VerifySuccessBody = declare(&String{Meta: Meta{Name: "VERIFY_SUCCESS_BODY",
	Description: "the body of a confirmation",
	Functions:   []Function{Verify},
	GCP:         Var("verify_success_body"), AWS: Var("verify_success_body")},
	Default: `{"result":"success"}`})

var VerifyFailureStatus = declare(&Int{Meta: Meta{Name: "VERIFY_FAILURE_STATUS",
	Description: "the HTTP status of a refusal",
	Functions:   []Function{Verify},
	GCP:         Var("verify_failure_status"), AWS: Var("verify_failure_status")},
	Default: 422, Min: 200, Max: 599})

var VerifyFailureBody = declare(&String{Meta: Meta{Name: "VERIFY_FAILURE_BODY",
	Description: "the body of a refusal; {reason} is replaced by the reason",
	Functions:   []Function{Verify},
	GCP:         Var("verify_failure_body"), AWS: Var("verify_failure_body")},
	Default: `{"result":"failure","reason":"{reason}"}`})

var VerifyAllowedIPs = declare(&List{Meta: Meta{Name: "VERIFY_ALLOWED_IPS",
	Description: "CIDRs or addresses DFINERY calls from; empty: any",
	Functions:   []Function{Verify},
	GCP:         Var("verify_allowed_ips"), AWS: Var("verify_allowed_ips")}})

var VerifyClientIPHeader = declare(&String{Meta: Meta{Name: "VERIFY_CLIENT_IP_HEADER",
	Description: "the header carrying the caller's address (e.g. X-Forwarded-For); empty: the connection's",
	Functions:   []Function{Verify},
	GCP:         Var("verify_client_ip_header"), AWS: Var("verify_client_ip_header")}})

var VerifyTrustedProxies = declare(&Int{Meta: Meta{Name: "VERIFY_TRUSTED_PROXIES",
	Description: "proxies of ours that append to that header: the client is that many entries from the right",
	Functions:   []Function{Verify},
	GCP:         Var("verify_trusted_proxies"), AWS: Var("verify_trusted_proxies")},
	Default: 1, Min: 1, Max: 10})

var VerifyIdentity = declare(&OneOf{Meta: Meta{Name: "VERIFY_IDENTITY",
	Description: "optional: confirm a callback naming a recorded order with its amount and currency even when no identifier matches (a spoof risk; only for a backend that sends ingest no id)",
	Functions:   []Function{Verify},
	GCP:         Var("verify_identity"), AWS: Var("verify_identity")},
	Default: "required", Allowed: []string{"required", "optional"}})

// The deadline is well inside any callback timeout DFINERY is likely to use
// (it documents none; see docs/verify.md), and far above a ledger call's
// normal time (a few to a few dozen milliseconds).
var VerifyLedgerDeadline = declare(&Duration{Meta: Meta{Name: "VERIFY_LEDGER_DEADLINE",
	Description: "how long a callback may wait for the ledger before it is answered 503 unavailable (not stored); above VERIFY_LOOKUP_RETRY",
	Functions:   []Function{Verify},
	GCP:         Var("verify_ledger_deadline"), AWS: Var("verify_ledger_deadline")},
	Default: 2 * time.Second, Min: 50 * time.Millisecond, Max: 4 * time.Second})
