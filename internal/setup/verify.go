package setup

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/google/uuid"

	"eventrelay.dev/eventrelay/functions/verify"
	"eventrelay.dev/eventrelay/shared/config"
	"eventrelay.dev/eventrelay/shared/dfinery"
	"eventrelay.dev/eventrelay/shared/secrets"
)

// Verify builds the verify function.
func Verify(ctx context.Context, env *config.Env, opt Options) (*Function, error) {
	log, err := logger(env, opt)
	if err != nil {
		return nil, err
	}
	keys := &secretKeys{
		keysSecret:  env.Required("DFINERY_KEYS_SECRET", "name of the secret holding the DFINERY HMAC key(s)"),
		tokenSecret: env.String("VERIFY_HEADER_TOKEN_SECRET", ""),
		encoding:    env.OneOf("DFINERY_KEY_ENCODING", "text", "text", "uuid-bytes"),
	}
	cfg := verify.Config{
		MaxBodyBytes:    int64(env.Int("VERIFY_MAX_BODY_BYTES", 64<<10, 1<<10, 1<<20)),
		Freshness:       env.Duration("VERIFY_FRESHNESS", 6*time.Hour, time.Minute, 30*24*time.Hour),
		TimeTolerance:   env.Duration("VERIFY_TIME_TOLERANCE", 10*time.Minute, time.Second, 24*time.Hour),
		LookupRetry:     env.Duration("VERIFY_LOOKUP_RETRY", 300*time.Millisecond, 0, 2*time.Second),
		AmountTolerance: 0.01,
		EventTypes:      eventMap(env),
		Success:         verify.Answer{Status: env.Int("VERIFY_SUCCESS_STATUS", 200, 200, 299), Body: env.String("VERIFY_SUCCESS_BODY", `{"result":"success"}`)},
		Failure:         verify.Answer{Status: env.Int("VERIFY_FAILURE_STATUS", 422, 200, 599), Body: env.String("VERIFY_FAILURE_BODY", `{"result":"failure","reason":"{reason}"}`)},
		ClientIPHeader:  env.String("VERIFY_CLIENT_IP_HEADER", ""),
		Fields:          dfinery.DefaultFieldMap(),
	}
	if keys.tokenSecret != "" {
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
	ttl := secretsTTL(env)
	src, closeSecrets := secretSource(ctx, env, opt)
	store, closeLedger := ledgerStore(ctx, env, opt, "")
	if err := env.Err(); err != nil {
		closeAll(closeSecrets, closeLedger)
		return nil, err
	}
	f := &Function{closers: []func() error{closeSecrets, closeLedger}}
	if store == nil {
		f.Close()
		return nil, fmt.Errorf("config: LEDGER_BACKEND: verify needs a ledger (firestore or dynamodb)")
	}
	keys.src = src
	log = log.With("function", "verify")
	build := func(ctx context.Context) (http.Handler, error) {
		if _, err := keys.HMACKeys(ctx); err != nil {
			return nil, fmt.Errorf("config: DFINERY_KEYS_SECRET: %w", err)
		}
		anon, err := piiCfg.anonymiser(ctx, src)
		if err != nil {
			return nil, err
		}
		return verify.New(cfg, verify.Deps{Keys: keys, Ledger: store, Hasher: verify.PIIHasher{A: anon}, Logger: log})
	}
	gate := &awaitSecrets{src: src, required: named(keys.keysSecret, keys.tokenSecret, piiCfg.saltSecret), build: build,
		refuse: verifyNotConfigured(cfg.Failure, ttl), retry: ttl, log: log}
	if f.Handler, err = gate.start(ctx); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// eventMap reads VERIFY_EVENT_MAP, "dfinery_name=MCM_TYPE,...".
func eventMap(env *config.Env) map[string]string {
	m := map[string]string{}
	for _, pair := range env.List("VERIFY_EVENT_MAP", []string{"purchase=PURCHASE"}) {
		name, typ, ok := strings.Cut(pair, "=")
		if !ok || name == "" || typ == "" {
			env.Fail("VERIFY_EVENT_MAP", "%q is not dfinery_event=EVENT_TYPE", pair)
			continue
		}
		m[strings.ToLower(strings.TrimSpace(name))] = strings.ToUpper(strings.TrimSpace(typ))
	}
	return m
}

// secretKeys reads the DFINERY keys, a JSON list of the issued UUIDs (the
// first is the newest), and the optional static header token.
type secretKeys struct {
	src                               secrets.Source
	keysSecret, tokenSecret, encoding string
}

// HMACKeys implements verify.Keys.
func (k *secretKeys) HMACKeys(ctx context.Context) ([][]byte, error) {
	raw, err := k.src.Get(ctx, k.keysSecret)
	if err != nil {
		return nil, err
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		// One bare key is fine too.
		list = []string{strings.TrimSpace(string(raw))}
	}
	keys := make([][]byte, 0, len(list))
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if k.encoding == "uuid-bytes" {
			u, err := uuid.Parse(s)
			if err != nil {
				return nil, fmt.Errorf("key %d is not a UUID", len(keys))
			}
			keys = append(keys, u[:])
			continue
		}
		keys = append(keys, []byte(s))
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("the secret holds no key")
	}
	return keys, nil
}

// Token implements verify.Keys.
func (k *secretKeys) Token(ctx context.Context) (string, error) {
	if k.tokenSecret == "" {
		return "", nil
	}
	raw, err := k.src.Get(ctx, k.tokenSecret)
	return strings.TrimSpace(string(raw)), err
}
