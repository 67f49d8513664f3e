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
//	pk = "ac#<challenge>"  sk = "c"   a one-time challenge
//	pk = "ak#<key id>"     sk = "k"   an App Attest key and its counter
//
// Taking a challenge is one conditional DeleteItem, creating a key one
// conditional PutItem, advancing a counter one conditional UpdateItem: each
// atomic across every instance.

type challengeItem struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	Source    string `dynamodbav:"source"`
	ExpiresAt int64  `dynamodbav:"expires_at"`
}

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

// PutChallenge implements ledger.AttestStore.
func (s *Store) PutChallenge(ctx context.Context, c ledger.Challenge) error {
	av, err := attributevalue.MarshalMap(challengeItem{PK: "ac#" + c.Value, SK: "c", Source: c.Source, ExpiresAt: c.ExpiresAt.Unix()})
	if err != nil {
		return err
	}
	if _, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: av}); err != nil {
		return fmt.Errorf("store challenge: %w", err)
	}
	return nil
}

// TakeChallenge implements ledger.AttestStore. TTL deletion runs late, so
// the condition also refuses an expired challenge still in the table.
func (s *Store) TakeChallenge(ctx context.Context, value string) (ledger.Challenge, error) {
	out, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: challengeKey(value),
		ConditionExpression:       aws.String("attribute_exists(pk) AND expires_at > :now"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": num(s.now().Unix())},
		ReturnValues:              types.ReturnValueAllOld})
	if conditionFailed(err) {
		return ledger.Challenge{}, ledger.ErrNotFound
	}
	if err != nil {
		return ledger.Challenge{}, fmt.Errorf("take challenge: %w", err)
	}
	var it challengeItem
	if err := attributevalue.UnmarshalMap(out.Attributes, &it); err != nil {
		return ledger.Challenge{}, fmt.Errorf("challenge item: %w", err)
	}
	return ledger.Challenge{Value: value, Source: it.Source, ExpiresAt: time.Unix(it.ExpiresAt, 0)}, nil
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
