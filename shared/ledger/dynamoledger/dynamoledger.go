// Package dynamoledger stores the ledger in one DynamoDB table (on-demand,
// with TTL on expires_at).
//
// Layout (partition key pk, sort key sk, both strings):
//
//	pk = "e#<event id>"   sk = "e"                          the event itself
//	pk = "d#<device id>"  sk = "<t ms, 15 digits>#<event id>" one per device id
//	pk = "u#<user id>"    sk = "<t ms, 15 digits>#<event id>"
//
// Every item carries the whole entry, so a look-up is one GetItem or one
// Query on a time range, never a second read. Zero-padded milliseconds
// make the string sort key sort by time.
package dynamoledger

import (
	"context"
	"errors"
	"fmt"
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

func sortKey(t time.Time, id string) string { return fmt.Sprintf("%015d#%s", t.UnixMilli(), id) }

// Put implements ledger.Store with BatchWriteItem (25 items per call),
// resending unprocessed items with a short bounded backoff.
func (s *Store) Put(ctx context.Context, entries []ledger.Entry) error {
	var reqs []types.WriteRequest
	for _, e := range entries {
		base := item{EventID: e.EventID, Source: e.Source, EventType: e.EventType, TimeMs: e.Time.UnixMilli(),
			UserID: e.UserID, DeviceIDs: e.DeviceIDs, Revenue: e.Revenue, Currency: e.Currency, ExpiresAt: e.ExpiresAt.Unix()}
		keys := [][2]string{{"e#" + e.EventID, "e"}}
		for _, d := range e.DeviceIDs {
			keys = append(keys, [2]string{"d#" + d, sortKey(e.Time, e.EventID)})
		}
		if e.UserID != "" {
			keys = append(keys, [2]string{"u#" + e.UserID, sortKey(e.Time, e.EventID)})
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
		out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "e#" + q.EventID}, "sk": &types.AttributeValueMemberS{Value: "e"}}})
		if err != nil {
			return nil, fmt.Errorf("ledger get %s: %w", q.EventID, err)
		}
		if out.Item != nil {
			var it item
			if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
				return nil, fmt.Errorf("ledger item %s: %w", q.EventID, err)
			}
			items = append(items, it)
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
	if errors.As(err, &inUse) {
		return nil
	}
	return err
}
