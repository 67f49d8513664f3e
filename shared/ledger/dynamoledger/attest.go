package dynamoledger

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"eventrelay.dev/eventrelay/shared/ledger"
)

// The attestation exchange's state shares the ledger table and its TTL on
// expires_at:
//
//	pk = "ac#<challenge>"  sk = "c"   a challenge already spent
//	pk = "ab#<name>"       sk = "b"   a budget and how much of it is used
//	pk = "ak#<key id>"     sk = "k"   an App Attest key and its counter
//
// Spending a challenge and creating a key are one conditional PutItem
// each, taking from a budget and advancing a counter one conditional
// UpdateItem each: atomic across every instance.

type keyItem struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	Source    string `dynamodbav:"source"`
	AppID     string `dynamodbav:"app_id"`
	Env       string `dynamodbav:"env"`
	PublicKey []byte `dynamodbav:"public_key"`
	Counter   uint32 `dynamodbav:"counter"`
	Created   int64  `dynamodbav:"created"`
	ExpiresAt int64  `dynamodbav:"expires_at"`
}

func challengeKey(v string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "ac#" + v}, "sk": &types.AttributeValueMemberS{Value: "c"}}
}

func attestKey(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "ak#" + id}, "sk": &types.AttributeValueMemberS{Value: "k"}}
}

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func conditionFailed(err error) bool {
	var cf *types.ConditionalCheckFailedException
	return errors.As(err, &cf)
}

// SpendChallenge implements ledger.AttestStore. TTL deletion runs late, but
// a challenge's value is never issued twice, so a spent one still in the
// table refuses nothing genuine.
func (s *Store) SpendChallenge(ctx context.Context, value string, expires time.Time) error {
	item := challengeKey(value)
	item["expires_at"] = num(expires.Unix())
	_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item,
		ConditionExpression: aws.String("attribute_not_exists(pk)")})
	if conditionFailed(err) {
		return ledger.ErrExists
	}
	if err != nil {
		return fmt.Errorf("spend challenge: %w", err)
	}
	return nil
}

// TakeBudget implements ledger.AttestStore: an expired budget still in the
// table (TTL deletion runs late) starts again from n.
func (s *Store) TakeBudget(ctx context.Context, name string, n, limit int64, expires time.Time) (int64, error) {
	key := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "ab#" + name}, "sk": &types.AttributeValueMemberS{Value: "b"}}
	vals := map[string]types.AttributeValue{":n": num(n), ":max": num(limit - n), ":e": num(expires.Unix()), ":now": num(s.now().Unix())}
	out, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.table), Key: key,
		UpdateExpression:          aws.String("ADD used :n SET expires_at = :e"),
		ConditionExpression:       aws.String("attribute_not_exists(used) OR (used <= :max AND expires_at > :now)"),
		ExpressionAttributeValues: vals, ReturnValues: types.ReturnValueUpdatedNew})
	if conditionFailed(err) {
		// The only way past a full budget is its expiry: start it again,
		// on the condition that it is still the expired one.
		out, err = s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.table), Key: key,
			UpdateExpression:          aws.String("SET used = :n, expires_at = :e"),
			ConditionExpression:       aws.String("expires_at <= :now AND :n <= :lim"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":n": num(n), ":e": num(expires.Unix()), ":now": num(s.now().Unix()), ":lim": num(limit)},
			ReturnValues:              types.ReturnValueUpdatedNew})
		if conditionFailed(err) {
			return 0, ledger.ErrBudget
		}
	}
	if err != nil {
		return 0, fmt.Errorf("take budget: %w", err)
	}
	var got struct {
		Used int64 `dynamodbav:"used"`
	}
	if err := attributevalue.UnmarshalMap(out.Attributes, &got); err != nil {
		return 0, fmt.Errorf("budget item: %w", err)
	}
	return got.Used, nil
}

// CreateKey implements ledger.AttestStore; an expired key still waiting for
// TTL deletion may be replaced.
func (s *Store) CreateKey(ctx context.Context, k ledger.AttestedKey) error {
	av, err := attributevalue.MarshalMap(keyItem{PK: "ak#" + k.KeyID, SK: "k", Source: k.Source, AppID: k.AppID, Env: k.Env,
		PublicKey: k.PublicKey, Counter: k.Counter, Created: k.Created.Unix(), ExpiresAt: k.ExpiresAt.Unix()})
	if err != nil {
		return err
	}
	_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: av,
		ConditionExpression:       aws.String("attribute_not_exists(pk) OR expires_at <= :now"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": num(s.now().Unix())}})
	if conditionFailed(err) {
		return ledger.ErrExists
	}
	if err != nil {
		return fmt.Errorf("store key: %w", err)
	}
	return nil
}

// GetKey implements ledger.AttestStore.
func (s *Store) GetKey(ctx context.Context, keyID string) (ledger.AttestedKey, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: attestKey(keyID), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return ledger.AttestedKey{}, fmt.Errorf("get key: %w", err)
	}
	if out.Item == nil {
		return ledger.AttestedKey{}, ledger.ErrNotFound
	}
	var it keyItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return ledger.AttestedKey{}, fmt.Errorf("key item: %w", err)
	}
	if it.ExpiresAt <= s.now().Unix() {
		return ledger.AttestedKey{}, ledger.ErrNotFound
	}
	return ledger.AttestedKey{KeyID: keyID, Source: it.Source, AppID: it.AppID, Env: it.Env, PublicKey: it.PublicKey,
		Counter: it.Counter, Created: time.Unix(it.Created, 0), ExpiresAt: time.Unix(it.ExpiresAt, 0)}, nil
}

// AdvanceCounter implements ledger.AttestStore.
func (s *Store) AdvanceCounter(ctx context.Context, keyID string, n uint32, expires time.Time) error {
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.table), Key: attestKey(keyID),
		UpdateExpression:    aws.String("SET #c = :n, expires_at = :e"),
		ConditionExpression: aws.String("attribute_exists(pk) AND expires_at > :now AND #c < :n"),
		// counter is not a reserved word today; the name keeps it safe.
		ExpressionAttributeNames: map[string]string{"#c": "counter"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":n": num(int64(n)), ":e": num(expires.Unix()),
			":now": num(s.now().Unix())},
	})
	if conditionFailed(err) {
		// Tell a missing key from a counter that is not higher with a read
		// on this (rare) path: not every DynamoDB implementation returns the
		// item with the failed condition.
		if _, gerr := s.GetKey(ctx, keyID); gerr != nil {
			return gerr
		}
		return ledger.ErrCounter
	}
	if err != nil {
		return fmt.Errorf("advance counter: %w", err)
	}
	return nil
}
