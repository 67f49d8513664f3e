package dynamoledger

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// A cursor is one item "c#<key>"/"c" holding the value, under the table's
// TTL on expires_at; a save is one PutItem (atomic).

// Cursor implements ledger.Cursors.
func (s *Store) Cursor(ctx context.Context, k string) (string, error) {
	res, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table),
		Key: key("c#"+k, "c"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return "", fmt.Errorf("cursor get: %w", err)
	}
	var v struct {
		Value     string `dynamodbav:"value"`
		ExpiresAt int64  `dynamodbav:"expires_at"`
	}
	if res.Item == nil {
		return "", nil
	}
	if err := attributevalue.UnmarshalMap(res.Item, &v); err != nil {
		return "", fmt.Errorf("cursor item: %w", err)
	}
	if v.ExpiresAt != 0 && s.now().Unix() >= v.ExpiresAt { // TTL deletes late
		return "", nil
	}
	return v.Value, nil
}

// SaveCursor implements ledger.Cursors.
func (s *Store) SaveCursor(ctx context.Context, k, value string, expires time.Time) error {
	item := key("c#"+k, "c")
	av, err := attributevalue.Marshal(value)
	if err != nil {
		return err
	}
	item["value"] = av
	item["expires_at"] = nowValue(expires)
	if _, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
		return fmt.Errorf("cursor put: %w", err)
	}
	return nil
}
