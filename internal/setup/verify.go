package setup

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // VERIFY_TIMEZONE must load on any base image

	"eventrelay.dev/eventrelay/functions/verify"
	"eventrelay.dev/eventrelay/shared/dfinery"
	"eventrelay.dev/eventrelay/shared/event"
	"eventrelay.dev/eventrelay/shared/ledger"
	"eventrelay.dev/eventrelay/shared/settings"
)

// Verify builds the verify function.
func Verify(ctx context.Context, env *settings.Env, opt Options) (*Function, error) {
	timer := startTimer()
	log, err := logger(env, opt)
	if err != nil {
		return nil, err
	}
	keys := &verify.SecretKeys{
		KeysSecret:  settings.DFINERYKeysSecret.Require(env),
		TokenSecret: settings.VerifyHeaderTokenSecret.Get(env),
		Encoding:    settings.DFINERYKeyEncoding.Get(env),
	}
	recorded, ttl := ledgerTypes(env), ledgerTTL(env)
	fields := dfinery.DefaultFieldMap()
	fields.OrderID = dfinery.OrderIDKeys(settings.VerifyOrderIDKey.Get(env))
	cfg := verify.Config{
		MaxBodyBytes:    int64(settings.VerifyMaxBodyBytes.Get(env)),
		Freshness:       settings.VerifyFreshness.Get(env),
		TimeTolerance:   settings.VerifyTimeTolerance.Get(env),
		LookupRetry:     settings.VerifyLookupRetry.Get(env),
		AmountTolerance: 0.01,
		EventTypes:      eventMap(env, recorded),
		NotRecorded:     notRecorded(recorded),
		Sources:         settings.VerifySources.Get(env),
		MatchDeviceTime: settings.VerifyMatchDeviceTime.Get(env),
		LooseIdentity:   settings.VerifyIdentity.Get(env) == "optional",
		LedgerDeadline:  settings.VerifyLedgerDeadline.Get(env),
		Zone:            zone(env),
		VerdictTTL:      ttl,
		Success:         verify.Answer{Status: settings.VerifySuccessStatus.Get(env), Body: settings.VerifySuccessBody.Get(env)},
		Failure:         verify.Answer{Status: settings.VerifyFailureStatus.Get(env), Body: settings.VerifyFailureBody.Get(env)},
		ClientIPHeader:  settings.VerifyClientIPHeader.Get(env),
		TrustedProxies:  settings.VerifyTrustedProxies.Get(env),
		Fields:          fields,
	}
	if cfg.LookupRetry >= cfg.LedgerDeadline {
		env.Fail(settings.VerifyLookupRetry, "%s is not shorter than VERIFY_LEDGER_DEADLINE (%s): the wait for an event on its way would use up the callback's whole time", cfg.LookupRetry, cfg.LedgerDeadline)
	}
	if cfg.Freshness > ttl {
		env.Fail(settings.VerifyFreshness, "%s is longer than LEDGER_TTL (%s): a callback could ask about an entry already expired", cfg.Freshness, ttl)
	}
	if keys.TokenSecret != "" {
		cfg.TokenHeader = settings.VerifyTokenHeader.Get(env)
	}
	for _, c := range settings.VerifyAllowedIPs.Get(env) {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			if a, aerr := netip.ParseAddr(c); aerr == nil {
				p = netip.PrefixFrom(a, a.BitLen())
			} else {
				env.Fail(settings.VerifyAllowedIPs, "%q is not a CIDR or an IP address", c)
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
	store, closeLedger := ledgerStore(ctx, env, opt)
	timer.phase("ledger")
	if err := env.Err(); err != nil {
		return nil, errors.Join(err, closeAll(closeSecrets, closeLedger))
	}
	f := &Function{closers: []func() error{closeSecrets, closeLedger}}
	vstore, ok := store.(ledger.VerifyStore)
	if !ok {
		return nil, errors.Join(errors.New("config: LEDGER_BACKEND: verify needs a ledger (firestore or dynamodb)"), f.Close())
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
		return nil, errors.Join(err, f.Close())
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
func eventMap(env *settings.Env, recorded map[string]bool) map[string]string {
	m := map[string]string{}
	for name, typ := range dfinery.DefaultEventTypes {
		if recorded[typ] {
			m[name] = typ
		}
	}
	for _, pair := range settings.VerifyEventMap.Get(env) {
		name, typ, ok := strings.Cut(pair, "=")
		name, typ = strings.ToLower(strings.TrimSpace(name)), strings.ToUpper(strings.TrimSpace(typ))
		switch {
		case !ok || name == "" || typ == "":
			env.Fail(settings.VerifyEventMap, "%q is not dfinery_event=EVENT_TYPE", pair)
		case !isEventType(typ):
			env.Fail(settings.VerifyEventMap, "%q: %s is not an event type", pair, typ)
		case !recorded[typ]:
			env.Fail(settings.VerifyEventMap, "%q asks verify to confirm %s, but LEDGER_EVENT_TYPES (%s) does not record it: add %s to LEDGER_EVENT_TYPES or drop the pair",
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
func zone(env *settings.Env) *time.Location {
	name := settings.VerifyTimezone.Get(env)
	loc, err := time.LoadLocation(name)
	if err != nil {
		env.Fail(settings.VerifyTimezone, "%q is not an IANA time zone (e.g. Asia/Seoul)", name)
		return time.UTC
	}
	return loc
}
