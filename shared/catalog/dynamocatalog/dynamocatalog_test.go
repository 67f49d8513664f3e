package dynamocatalog

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"eventrelay.dev/eventrelay/internal/dynalite"
)

func seed(t testing.TB, client *dynamodb.Client, table string) {
	t.Helper()
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	n := func(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }
	for _, item := range []map[string]types.AttributeValue{
		{"item_id": s("sku-1"), "price": n("12000"), "currency": s("KRW"), "item_group_id": s("shoes"), "seller_id": s("s-1")},
		{"item_id": s("sku-2"), "price": n("9.5"), "currency": s("USD")},
		{"item_id": s("bad-type"), "price": s("12000"), "currency": s("KRW")},
		{"item_id": s("bad-money"), "price": n("-3"), "currency": s("KRW")},
	} {
		if _, err := client.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
			t.Fatal(err)
		}
	}
}

// The real aws-sdk-go-v2 client against dynalite.
func TestDynamoCatalog(t *testing.T) {
	client := dynalite.Client(dynalite.Start(t))
	table := dynalite.NewTable(t, client, CreateTable)
	seed(t, client, table)
	logs := &bytes.Buffer{}
	s := New(client, table, slog.New(slog.NewJSONHandler(logs, nil)))
	ids := []string{"sku-1", "sku-2", "nope", "bad-type", "bad-money", "sku-1"}
	for i := range 120 { // more than one BatchGetItem's 100 keys
		ids = append(ids, fmt.Sprintf("absent-%d", i))
	}
	got, err := s.Lookup(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || *got["sku-1"].Price.Amount != 12000 || got["sku-1"].ItemGroupID != "shoes" ||
		got["sku-1"].SellerID != "s-1" || *got["sku-2"].Price.Amount != 9.5 || got["sku-2"].Price.Currency != "USD" {
		t.Fatalf("%+v", got)
	}
	for _, id := range []string{"bad-type", "bad-money"} {
		if !strings.Contains(logs.String(), `"item_id":"`+id+`"`) {
			t.Errorf("%s not logged: %s", id, logs)
		}
	}
}

// BenchmarkColdLookup is one uncached look-up of a request's items on
// dynalite: what a cache miss adds to an ingest request.
func BenchmarkColdLookup(b *testing.B) {
	client := dynalite.Client(dynalite.Start(b))
	table := dynalite.NewTable(b, client, CreateTable)
	seed(b, client, table)
	s := New(client, table, nil)
	for _, n := range []int{1, 10} {
		ids := make([]string, n)
		for i := range ids {
			ids[i] = fmt.Sprintf("sku-%d", i%2+1)
		}
		b.Run(fmt.Sprintf("ids=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := s.Lookup(context.Background(), ids); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
