package setup

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // VERIFY_TIMEZONE must load on any base image

	"eventrelay.dev/eventrelay/functions/verify"
	"eventrelay.dev/eventrelay/shared/config"
	"eventrelay.dev/eventrelay/shared/dfinery"
	"eventrelay.dev/eventrelay/shared/event"
	"eventrelay.dev/eventrelay/shared/ledger"
)

// Verify builds the verify function.
func Verify(ctx context.Context, env *config.Env, opt Options) (*Function, error) {
	timer := startTimer()
	log, err := logger(env, opt)
	if err != nil {
		return nil, err
	}
	keys := &verify.SecretKeys{
		KeysSecret:  env.Required("DFINERY_KEYS_SECRET", "name of the secret holding the DFINERY HMAC key(s)"),
		TokenSecret: env.String("VERIFY_HEADER_TOKEN_SECRET", ""),
		Encoding:    env.OneOf("DFINERY_KEY_ENCODING", verify.EncodingText, verify.EncodingText, verify.EncodingUUIDBytes),
	}
	recorded, ttl := ledgerTypes(env), ledgerTTL(env)
	fields := dfinery.DefaultFieldMap()
	fields.OrderID = dfinery.OrderIDKeys(env.String("VERIFY_ORDER_ID_KEY", dfinery.DefaultOrderIDKey))
	cfg := verify.Config{
		MaxBodyBytes:    int64(env.Int("VERIFY_MAX_BODY_BYTES", 64<<10, 1<<10, 1<<20)),
		Freshness:       env.Duration("VERIFY_FRESHNESS", verify.DefaultFreshness, time.Minute, 30*24*time.Hour),
		TimeTolerance:   env.Duration("VERIFY_TIME_TOLERANCE", 10*time.Minute, time.Second, 24*time.Hour),
		LookupRetry:     env.Duration("VERIFY_LOOKUP_RETRY", 300*time.Millisecond, 0, 2*time.Second),
		AmountTolerance: 0.01,
		EventTypes:      eventMap(env, recorded),
		NotRecorded:     notRecorded(recorded),
		Sources:         env.List("VERIFY_SOURCES", nil),
		MatchDeviceTime: env.OneOf("VERIFY_MATCH_DEVICE_TIME", "false", "true", "false") == "true",
		LooseIdentity:   env.OneOf("VERIFY_IDENTITY", "required", "required", "optional") == "optional",
		LedgerDeadline:  env.Duration("VERIFY_LEDGER_DEADLINE", verify.DefaultLedgerDeadline, 50*time.Millisecond, 4*time.Second),
		Zone:            zone(env),
		VerdictTTL:      ttl,
		Success:         verify.Answer{Status: env.Int("VERIFY_SUCCESS_STATUS", 200, 200, 299), Body: env.String("VERIFY_SUCCESS_BODY", `{"result":"success"}`)},
		Failure:         verify.Answer{Status: env.Int("VERIFY_FAILURE_STATUS", 422, 200, 599), Body: env.String("VERIFY_FAILURE_BODY", `{"result":"failure","reason":"{reason}"}`)},
		ClientIPHeader:  env.String("VERIFY_CLIENT_IP_HEADER", ""),
		TrustedProxies:  env.Int("VERIFY_TRUSTED_PROXIES", 1, 1, 10),
		Fields:          fields,
	}
	if cfg.LookupRetry >= cfg.LedgerDeadline {
		env.Fail("VERIFY_LOOKUP_RETRY", "%s is not shorter than VERIFY_LEDGER_DEADLINE (%s): the wait for an event on its way would use up the callback's whole time", cfg.LookupRetry, cfg.LedgerDeadline)
	}
	if cfg.Freshness > ttl {
		env.Fail("VERIFY_FRESHNESS", "%s is longer than LEDGER_TTL (%s): a callback could ask about an entry already expired", cfg.Freshness, ttl)
	}
	if keys.TokenSecret != "" {
		cfg.TokenHeader = env.String("VERIFY_TOKEN_HEADER", "X-Verify-Token")
	}
	for _, c := range env.List("VERIFY_ALLOWED_IPS", nil) {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			if a, aerr := netip.ParseAddr(c); aerr == nil {
				p = netip.PrefixFrom(a, a.BitLen())
			} else {
				env.Fail("VERIFY_ALLOWED_IPS", "%q is not a CIDR or an IP address", c)
				continue
			}
		}
		cfg.AllowedNets = append(cfg.AllowedNets, p)
	}
	piiCfg := readPII(env)
	cacheTTL := secretsTTL(env)
	timer.phase("config")
	src, closeSecrets := secretSource(ctx, env, opt, log)
	prefetch(ctx, src, keys.KeysSecret, keys.TokenSecret, piiCfg.saltSecret)
	timer.phase("secrets_client")
	store, closeLedger := ledgerStore(ctx, env, opt, "")
	timer.phase("ledger")
	if err := env.Err(); err != nil {
		closeAll(closeSecrets, closeLedger)
		return nil, err
	}
	f := &Function{closers: []func() error{closeSecrets, closeLedger}}
	vstore, ok := store.(ledger.VerifyStore)
	if !ok {
		f.Close()
		return nil, fmt.Errorf("config: LEDGER_BACKEND: verify needs a ledger (firestore or dynamodb)")
	}
	keys.Source = src
	log = log.With("function", "verify")
	build := func(ctx context.Context) (http.Handler, error) {
		if _, err := keys.HMACKeys(ctx); err != nil {
			return nil, fmt.Errorf("config: DFINERY_KEYS_SECRET: %w", err)
		}
		anon, err := piiCfg.anonymiser(ctx, src)
		if err != nil {
			return nil, err
		}
		return verify.New(cfg, verify.Deps{Keys: keys, Ledger: vstore, Hasher: verify.PIIHasher{A: anon}, Logger: log})
	}
	gate := &awaitSecrets{src: src, required: named(keys.KeysSecret, keys.TokenSecret, piiCfg.saltSecret), build: build,
		refuse: verifyNotConfigured(cfg.Failure, cacheTTL), retry: cacheTTL, log: log}
	if f.Handler, err = gate.start(ctx); err != nil {
		f.Close()
		return nil, err
	}
	timer.phase("secrets_and_handler")
	timer.done(ctx, log)
	return f, nil
}

// eventMap is DFINERY's standard names (dfinery.DefaultEventTypes) for the
// types the ledger records, plus VERIFY_EVENT_MAP, "dfinery_name=TYPE,...",
// which adds names or overrides the defaults. A pair whose type ingest does
// not record (LEDGER_EVENT_TYPES) could only ever answer not_found, so it
// stops the start.
func eventMap(env *config.Env, recorded map[string]bool) map[string]string {
	m := map[string]string{}
	for name, typ := range dfinery.DefaultEventTypes {
		if recorded[typ] {
			m[name] = typ
		}
	}
	for _, pair := range env.List("VERIFY_EVENT_MAP", nil) {
		name, typ, ok := strings.Cut(pair, "=")
		name, typ = strings.ToLower(strings.TrimSpace(name)), strings.ToUpper(strings.TrimSpace(typ))
		switch {
		case !ok || name == "" || typ == "":
			env.Fail("VERIFY_EVENT_MAP", "%q is not dfinery_event=EVENT_TYPE", pair)
		case !isEventType(typ):
			env.Fail("VERIFY_EVENT_MAP", "%q: %s is not an event type", pair, typ)
		case !recorded[typ]:
			env.Fail("VERIFY_EVENT_MAP", "%q asks verify to confirm %s, but LEDGER_EVENT_TYPES (%s) does not record it: add %s to LEDGER_EVENT_TYPES or drop the pair",
				pair, typ, strings.Join(slices.Sorted(maps.Keys(recorded)), ","), typ)
		default:
			m[name] = typ
		}
	}
	return m
}

// notRecorded is DFINERY's standard names whose type the ledger does not
// record, so the warning for such a callback can say what to change.
func notRecorded(recorded map[string]bool) map[string]string {
	m := map[string]string{}
	for name, typ := range dfinery.DefaultEventTypes {
		if !recorded[typ] {
			m[name] = typ
		}
	}
	return m
}

func isEventType(t string) bool { _, ok := event.EventTypes[t]; return ok }

// zone reads VERIFY_TIMEZONE, the zone of an event_datetime without an
// offset (an IANA name; the binary embeds the zone database).
func zone(env *config.Env) *time.Location {
	name := env.String("VERIFY_TIMEZONE", "UTC")
	loc, err := time.LoadLocation(name)
	if err != nil {
		env.Fail("VERIFY_TIMEZONE", "%q is not an IANA time zone (e.g. Asia/Seoul)", name)
		return time.UTC
	}
	return loc
}
