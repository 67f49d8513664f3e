package dynamoledger

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"eventrelay.dev/eventrelay/shared/ledger"
)

// Erasure suppressions are items pk = "x#<key>", sk = "x" with expires_at,
// under the table's TTL; the key is already a hash.

func suppressionKey(k string) map[string]types.AttributeValue { return key("x#"+k, "x") }

// Suppressed implements ledger.Suppressions with eventually consistent
// BatchGetItem calls (100 keys each): half a read unit an item where a
// strongly consistent read costs one. A suppression written by Erase is
// seen by such a read within about a second; the checker already keeps a
// "not erased" answer for up to SUPPRESSION_CACHE (30 s), a far longer
// staleness docs/data-governance.md promises, and an erasure is to be
// repeated after it anyway.
func (s *Store) Suppressed(ctx context.Context, keys []string) (map[string]bool, error) {
	out := map[string]bool{}
	now := s.now().Unix()
	for len(keys) > 0 {
		chunk := keys[:min(100, len(keys))]
		keys = keys[len(chunk):]
		seen := map[string]bool{}
		var ks []map[string]types.AttributeValue
		for _, k := range chunk {
			if !seen[k] {
				seen[k] = true
				ks = append(ks, suppressionKey(k))
			}
		}
		pending := map[string]types.KeysAndAttributes{s.table: {Keys: ks}}
		for attempt := 0; len(pending[s.table].Keys) > 0; attempt++ {
			if attempt == 5 {
				return nil, fmt.Errorf("suppression get: keys still unprocessed after retries")
			}
			res, err := s.client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: pending})
			if err != nil {
				return nil, fmt.Errorf("suppression get: %w", err)
			}
			for _, it := range res.Responses[s.table] {
				var v struct {
					PK        string `dynamodbav:"pk"`
					ExpiresAt int64  `dynamodbav:"expires_at"`
				}
				if err := attributevalue.UnmarshalMap(it, &v); err != nil {
					return nil, fmt.Errorf("suppression item: %w", err)
				}
				if now < v.ExpiresAt && len(v.PK) > 2 {
					out[v.PK[2:]] = true
				}
			}
			pending = res.UnprocessedKeys
		}
	}
	return out, nil
}

// Erase implements ledger.Eraser. The suppressions go first, each a
// PutItem that keeps the later expiry (atomic per item, so a key is
// suppressed on every instance the moment its write returns); then every
// item of each matching entry (its e#, d# and u# copies), its claim and
// the claiming body's verdict are deleted.
func (s *Store) Erase(ctx context.Context, ids, keys []string, until time.Time) (ledger.Erased, error) {
	for _, k := range keys {
		item := suppressionKey(k)
		item["expires_at"] = nowValue(until)
		_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item,
			ConditionExpression:       aws.String("attribute_not_exists(pk) OR expires_at < :until"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":until": nowValue(until)}})
		var failed *types.ConditionalCheckFailedException
		if err != nil && !errors.As(err, &failed) {
			return ledger.Erased{}, fmt.Errorf("suppression put: %w", err)
		}
	}
	entries := map[ledger.Key]item{}
	for _, id := range ids {
		for _, pk := range []string{"u#" + id, "d#" + id} {
			if err := s.queryAll(ctx, pk, func(it item) { entries[ledger.Key{Source: it.Source, EventID: it.EventID}] = it }); err != nil {
				return ledger.Erased{}, err
			}
		}
	}
	var out ledger.Erased
	var dels []types.WriteRequest
	del := func(k map[string]types.AttributeValue) {
		dels = append(dels, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k}})
	}
	for k, it := range entries {
		t := time.UnixMilli(it.TimeMs)
		del(key("e#"+it.EventID, "s#"+url.PathEscape(it.Source)))
		for _, d := range it.DeviceIDs {
			del(key("d#"+d, sortKey(t, keyPart(k))))
		}
		if it.UserID != "" {
			del(key("u#"+it.UserID, sortKey(t, keyPart(k))))
		}
		out.Entries++
		claim, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table),
			Key: key("c#"+keyPart(k), "c"), ReturnValues: types.ReturnValueAllOld})
		if err != nil {
			return out, fmt.Errorf("claim delete: %w", err)
		}
		if h, ok := claim.Attributes["body_hash"].(*types.AttributeValueMemberS); ok {
			out.Claims++
			v, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table),
				Key: key("v#"+h.Value, "v"), ReturnValues: types.ReturnValueAllOld})
			if err != nil {
				return out, fmt.Errorf("verdict delete: %w", err)
			}
			if len(v.Attributes) > 0 {
				out.Verdicts++
			}
		}
	}
	for len(dels) > 0 {
		n := min(25, len(dels))
		if err := s.batch(ctx, dels[:n]); err != nil {
			return out, fmt.Errorf("ledger erase: %w", err)
		}
		dels = dels[n:]
	}
	return out, nil
}

// queryAll calls f for every item of partition pk, page by page.
func (s *Store) queryAll(ctx context.Context, pk string, f func(item)) error {
	var start map[string]types.AttributeValue
	for {
		out, err := s.client.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(s.table), ConsistentRead: aws.Bool(true),
			KeyConditionExpression:    aws.String("pk = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}},
			ExclusiveStartKey:         start})
		if err != nil {
			return fmt.Errorf("ledger query %s: %w", pk[:2], err)
		}
		var items []item
		if err := attributevalue.UnmarshalListOfMaps(out.Items, &items); err != nil {
			return fmt.Errorf("ledger items: %w", err)
		}
		for _, it := range items {
			f(it)
		}
		if len(out.LastEvaluatedKey) == 0 {
			return nil
		}
		start = out.LastEvaluatedKey
	}
}
