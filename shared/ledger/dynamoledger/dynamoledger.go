// Package dynamoledger stores the ledger in one DynamoDB table (on-demand,
// with TTL on expires_at).
//
// Layout (partition key pk, sort key sk, both strings; <src> is the source
// name path-escaped, so it holds no '#'):
//
//	pk = "e#<event id>"        sk = "s#<src>"                          the event itself
//	pk = "d#<device id>"       sk = "<t ms, 15 digits>#<src>#<event id>" one per device id
//	pk = "u#<user id>"         sk = "<t ms, 15 digits>#<src>#<event id>"
//	pk = "v#<body hash>"       sk = "v"   verify's first verdict for a body
//	pk = "c#<src>#<event id>"  sk = "c"   the body that claimed an entry
//
// Every entry item carries the whole entry, so a look-up is one Query on a
// partition, never a second read; the same event id from two sources is two
// items of one partition. Zero-padded milliseconds make the string sort key
// sort by time. Verdicts and claims are conditional PutItems, atomic on
// DynamoDB's side, so they hold across instances.
package dynamoledger

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"eventrelay.dev/eventrelay/shared/ledger"
)

// item is an entry as stored.
type item struct {
	PK        string   `dynamodbav:"pk"`
	SK        string   `dynamodbav:"sk"`
	EventID   string   `dynamodbav:"event_id"`
	Source    string   `dynamodbav:"source"`
	EventType string   `dynamodbav:"event_type"`
	TimeMs    int64    `dynamodbav:"t"`
	UserID    string   `dynamodbav:"user_id,omitempty"`
	DeviceIDs []string `dynamodbav:"device_ids,omitempty,stringset"`
	Revenue   *float64 `dynamodbav:"revenue,omitempty"`
	Currency  string   `dynamodbav:"currency,omitempty"`
	ExpiresAt int64    `dynamodbav:"expires_at"` // epoch seconds: DynamoDB TTL's unit
}

// Store is a ledger.Store on DynamoDB.
type Store struct {
	client *dynamodb.Client
	table  string
	now    func() time.Time
}

// New returns a Store on table.
func New(client *dynamodb.Client, table string) *Store {
	return &Store{client: client, table: table, now: time.Now}
}

func sortKey(t time.Time, rest string) string { return fmt.Sprintf("%015d#%s", t.UnixMilli(), rest) }

// keyPart is an entry key as one string: the escaped source holds no '#'.
func keyPart(k ledger.Key) string { return url.PathEscape(k.Source) + "#" + k.EventID }

// Put implements ledger.Store with BatchWriteItem (25 items per call),
// resending unprocessed items with a short bounded backoff.
func (s *Store) Put(ctx context.Context, entries []ledger.Entry) error {
	var reqs []types.WriteRequest
	for _, e := range entries {
		base := item{EventID: e.EventID, Source: e.Source, EventType: e.EventType, TimeMs: e.Time.UnixMilli(),
			UserID: e.UserID, DeviceIDs: e.DeviceIDs, Revenue: e.Revenue, Currency: e.Currency, ExpiresAt: e.ExpiresAt.Unix()}
		keys := [][2]string{{"e#" + e.EventID, "s#" + url.PathEscape(e.Source)}}
		for _, d := range e.DeviceIDs {
			keys = append(keys, [2]string{"d#" + d, sortKey(e.Time, keyPart(e.Key()))})
		}
		if e.UserID != "" {
			keys = append(keys, [2]string{"u#" + e.UserID, sortKey(e.Time, keyPart(e.Key()))})
		}
		for _, k := range keys {
			it := base
			it.PK, it.SK = k[0], k[1]
			av, err := attributevalue.MarshalMap(it)
			if err != nil {
				return fmt.Errorf("ledger item %s: %w", e.EventID, err)
			}
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: av}})
		}
	}
	for len(reqs) > 0 {
		n := min(25, len(reqs))
		if err := s.batch(ctx, reqs[:n]); err != nil {
			return err
		}
		reqs = reqs[n:]
	}
	return nil
}

func (s *Store) batch(ctx context.Context, reqs []types.WriteRequest) error {
	pending := map[string][]types.WriteRequest{s.table: reqs}
	wait := 20 * time.Millisecond
	for attempt := 0; ; attempt++ {
		out, err := s.client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
		if err != nil {
			return fmt.Errorf("ledger write: %w", err)
		}
		if len(out.UnprocessedItems[s.table]) == 0 {
			return nil
		}
		if attempt == 5 {
			return fmt.Errorf("ledger write: %d items still unprocessed after retries", len(out.UnprocessedItems[s.table]))
		}
		pending = out.UnprocessedItems
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return ctx.Err()
		}
		wait *= 2
	}
}

// Find implements ledger.Store.
func (s *Store) Find(ctx context.Context, q ledger.Query) ([]ledger.Entry, error) {
	var items []item
	switch {
	case q.EventID != "":
		out, err := s.client.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(s.table), ConsistentRead: aws.Bool(true),
			KeyConditionExpression:    aws.String("pk = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "e#" + q.EventID}},
			Limit:                     aws.Int32(50)})
		if err != nil {
			return nil, fmt.Errorf("ledger get %s: %w", q.EventID, err)
		}
		if err := attributevalue.UnmarshalListOfMaps(out.Items, &items); err != nil {
			return nil, fmt.Errorf("ledger items %s: %w", q.EventID, err)
		}
	case q.DeviceID != "" || q.UserID != "":
		pk := "d#" + q.DeviceID
		if q.DeviceID == "" {
			pk = "u#" + q.UserID
		}
		from, to := q.From, q.To
		if to.IsZero() {
			to = s.now().Add(24 * time.Hour)
		}
		out, err := s.client.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(s.table), ConsistentRead: aws.Bool(true),
			KeyConditionExpression: aws.String("pk = :pk AND sk BETWEEN :from AND :to"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk":   &types.AttributeValueMemberS{Value: pk},
				":from": &types.AttributeValueMemberS{Value: sortKey(from, "")},
				":to":   &types.AttributeValueMemberS{Value: sortKey(to, "\xff")},
			}, Limit: aws.Int32(50)})
		if err != nil {
			return nil, fmt.Errorf("ledger query: %w", err)
		}
		if err := attributevalue.UnmarshalListOfMaps(out.Items, &items); err != nil {
			return nil, fmt.Errorf("ledger items: %w", err)
		}
	default:
		return nil, ledger.ErrBadQuery
	}
	var out []ledger.Entry
	now := s.now()
	for _, it := range items {
		// TTL deletion runs late (up to days), so expiry is checked here too.
		e := ledger.Entry{EventID: it.EventID, Source: it.Source, EventType: it.EventType, Time: time.UnixMilli(it.TimeMs).UTC(),
			UserID: it.UserID, DeviceIDs: it.DeviceIDs, Revenue: it.Revenue, Currency: it.Currency, ExpiresAt: time.Unix(it.ExpiresAt, 0)}
		if ledger.Matches(e, q, now) {
			out = append(out, e)
		}
	}
	return out, nil
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: sk}}
}

func nowValue(t time.Time) *types.AttributeValueMemberN {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(t.Unix(), 10)}
}

// Verdict implements ledger.Verdicts.
func (s *Store) Verdict(ctx context.Context, bodyHash string) (ledger.Verdict, bool, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), ConsistentRead: aws.Bool(true),
		Key: key("v#"+bodyHash, "v")})
	if err != nil {
		return ledger.Verdict{}, false, fmt.Errorf("verdict get: %w", err)
	}
	if out.Item == nil {
		return ledger.Verdict{}, false, nil
	}
	var it struct {
		Reason    string `dynamodbav:"reason"`
		ExpiresAt int64  `dynamodbav:"expires_at"`
	}
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return ledger.Verdict{}, false, fmt.Errorf("verdict item: %w", err)
	}
	if s.now().Unix() >= it.ExpiresAt {
		return ledger.Verdict{}, false, nil
	}
	return ledger.Verdict{Reason: it.Reason}, true, nil
}

// SaveVerdict implements ledger.Verdicts: a PutItem on the condition that no
// live verdict is there; when one is, that one is the answer.
func (s *Store) SaveVerdict(ctx context.Context, bodyHash string, v ledger.Verdict, expires time.Time) (ledger.Verdict, error) {
	item := key("v#"+bodyHash, "v")
	item["reason"] = &types.AttributeValueMemberS{Value: v.Reason}
	item["expires_at"] = nowValue(expires)
	for range 3 {
		_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item,
			ConditionExpression:       aws.String("attribute_not_exists(pk) OR expires_at <= :now"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":now": nowValue(s.now())}})
		var failed *types.ConditionalCheckFailedException
		if err == nil {
			return v, nil
		}
		if !errors.As(err, &failed) {
			return ledger.Verdict{}, fmt.Errorf("verdict put: %w", err)
		}
		stored, ok, err := s.Verdict(ctx, bodyHash)
		if err != nil || ok {
			return stored, err
		}
		// It expired between the two calls: try again.
	}
	return ledger.Verdict{}, errors.New("verdict put: contended on every attempt")
}

// Claim implements ledger.Verdicts: one conditional PutItem that succeeds
// when the entry is unclaimed, claimed by the same body, or its claim has
// expired.
func (s *Store) Claim(ctx context.Context, k ledger.Key, bodyHash string, expires time.Time) (bool, error) {
	item := key("c#"+keyPart(k), "c")
	item["body_hash"] = &types.AttributeValueMemberS{Value: bodyHash}
	item["expires_at"] = nowValue(expires)
	_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item,
		ConditionExpression: aws.String("attribute_not_exists(pk) OR body_hash = :h OR expires_at <= :now"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":h": &types.AttributeValueMemberS{Value: bodyHash},
			":now": nowValue(s.now())}})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("claim put: %w", err)
	}
	return true, nil
}

// CreateTable makes the table as Terraform declares it; for local runs and
// tests.
func CreateTable(ctx context.Context, c *dynamodb.Client, table string) error {
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(table),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
		},
	})
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return err
	}
	// A new table takes writes only once ACTIVE (dynalite too, a moment
	// after it answers).
	return dynamodb.NewTableExistsWaiter(c, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 10*time.Millisecond, 500*time.Millisecond
	}).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, 30*time.Second)
}
