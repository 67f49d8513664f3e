// Package dynamocatalog reads the item catalog from a DynamoDB table with
// the partition key item_id (a string) and the attributes of
// catalog.Record (price a number, currency, item_group_id, seller_id).
// The functions only read it; the operator keeps it.
package dynamocatalog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"eventrelay.dev/eventrelay/shared/catalog"
)

// KeyAttribute is the table's partition key.
const KeyAttribute = "item_id"

// Source is a catalog.Source on DynamoDB.
type Source struct {
	client *dynamodb.Client
	table  string
	log    *slog.Logger
}

// New returns a Source on table; log may be nil.
func New(client *dynamodb.Client, table string, log *slog.Logger) *Source {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Source{client: client, table: table, log: log}
}

// record is an item as stored; the dynamodbav names are catalog.Record's.
type record struct {
	ItemID      string   `dynamodbav:"item_id"`
	Price       *float64 `dynamodbav:"price"`
	Currency    string   `dynamodbav:"currency"`
	ItemGroupID string   `dynamodbav:"item_group_id"`
	SellerID    string   `dynamodbav:"seller_id"`
}

// Lookup implements catalog.Source with BatchGetItem (100 keys a call;
// eventually consistent reads, which a catalog the operator updates now and
// then can afford at half the cost).
func (s *Source) Lookup(ctx context.Context, ids []string) (map[string]catalog.Item, error) {
	out := map[string]catalog.Item{}
	seen := map[string]bool{}
	var keys []map[string]types.AttributeValue
	for _, id := range ids {
		if id != "" && !seen[id] {
			seen[id] = true
			keys = append(keys, map[string]types.AttributeValue{KeyAttribute: &types.AttributeValueMemberS{Value: id}})
		}
	}
	for len(keys) > 0 {
		chunk := keys[:min(100, len(keys))]
		keys = keys[len(chunk):]
		pending := map[string]types.KeysAndAttributes{s.table: {Keys: chunk}}
		for attempt := 0; len(pending[s.table].Keys) > 0; attempt++ {
			if attempt == 5 {
				return nil, errors.New("catalog get: keys still unprocessed after retries")
			}
			res, err := s.client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: pending})
			if err != nil {
				return nil, fmt.Errorf("catalog get: %w", err)
			}
			for _, av := range res.Responses[s.table] {
				var r record
				err := attributevalue.UnmarshalMap(av, &r)
				var it catalog.Item
				if err == nil {
					it, err = catalog.Record{Price: r.Price, Currency: r.Currency, ItemGroupID: r.ItemGroupID, SellerID: r.SellerID}.Item()
				}
				if err != nil {
					id := ""
					if v, ok := av[KeyAttribute].(*types.AttributeValueMemberS); ok {
						id = v.Value
					}
					catalog.Malformed(s.log, id, err)
					continue
				}
				out[r.ItemID] = it
			}
			pending = res.UnprocessedKeys
		}
	}
	return out, nil
}

// CreateTable makes the table as Terraform declares it; for local runs and
// tests.
func CreateTable(ctx context.Context, c *dynamodb.Client, table string) error {
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(KeyAttribute), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(KeyAttribute), KeyType: types.KeyTypeHash}},
	})
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return err
	}
	return dynamodb.NewTableExistsWaiter(c, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 10*time.Millisecond, 500*time.Millisecond
	}).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, 30*time.Second)
}
