// Package moto starts moto_server (moto 5.2.1, a Python emulator of AWS
// services, preinstalled on the development and CI machines) on a free
// loopback port for tests, and builds the real aws-sdk-go-v2 SQS, SNS and S3 clients
// against it.
//
// Use it where goaws's SQS differs from real SQS (see internal/sqsstack's
// doc): moto counts ApproximateReceiveCount, hands a message to one
// receiver at a time, honours visibility timeouts and ChangeMessageVisibility
// at once, and a deleted message stays deleted. Requests must be signed (the
// client here signs with static credentials): an unsigned request goes to
// moto's S3 handler.
package moto

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"eventrelay.dev/eventrelay/internal/emulator"
	"eventrelay.dev/eventrelay/shared/settings"
)

// Region is the region the client signs for; moto keeps queues per region.
const Region = "us-east-1"

// Start runs moto_server until the test ends and returns its endpoint.
// Without moto_server on PATH (or at MOTO_SERVER) the test is skipped, or
// fails when EVENTRELAY_REQUIRE_EMULATORS=1.
func Start(t testing.TB) string {
	t.Helper()
	bin := settings.MotoServer.Get(settings.FromOS())
	path, err := exec.LookPath(bin)
	if err != nil {
		msg := fmt.Sprintf("moto_server not found (%v): install moto[server] 5.2.1 (pip) or set MOTO_SERVER", err)
		emulator.Missing(t, msg)
	}
	port := emulator.FreePort(t)
	cmd := exec.Command(path, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = nil, nil
	// The pyenv shim and werkzeug may fork: give it its own process group
	// and end the whole group, so no python child outlives the test.
	// Pdeathsig ends it too when the test binary dies without cleanups (a
	// -timeout panic), which would otherwise orphan it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start moto_server: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		// The test is over: the group is killed, and Wait's error is that kill.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited //nolint:errcheck // Wait's error is the kill just sent
	})
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", port)
	// Any HTTP answer means it serves; moto answers its own API's path.
	deadline := time.Now().Add(60 * time.Second) // python starts slowly on a loaded machine
	for {
		resp, err := http.Get(endpoint + "/moto-api/data.json")
		if err == nil {
			resp.Body.Close()
			return endpoint
		}
		select {
		case werr := <-exited:
			exited <- werr
			t.Fatalf("moto_server exited before answering: %v", werr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("moto_server did not answer within 60 s: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Client is the real SQS client pointed at endpoint, signing with static
// throwaway credentials.
func Client(endpoint string) *sqs.Client {
	return sqs.New(sqs.Options{Region: Region, BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
}

// CreateQueue makes a queue with attrs and returns its URL and ARN; with
// dlqURL set, its RedrivePolicy moves a message to that queue after
// maxReceive receives. The ARNs are the ones moto reports (QueueArn), not
// built by hand: moto's account id is its own.
func CreateQueue(t testing.TB, c *sqs.Client, name string, attrs map[string]string, dlqURL string, maxReceive int) (url, arn string) {
	t.Helper()
	ctx := context.Background()
	all := map[string]string{}
	for k, v := range attrs {
		all[k] = v
	}
	if dlqURL != "" {
		policy, _ := json.Marshal(map[string]any{"deadLetterTargetArn": QueueARN(t, c, dlqURL), "maxReceiveCount": maxReceive})
		all["RedrivePolicy"] = string(policy)
	}
	out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: all})
	if err != nil {
		t.Fatalf("create queue %s: %v", name, err)
	}
	url = aws.ToString(out.QueueUrl)
	return url, QueueARN(t, c, url)
}

// QueueARN is the queue's ARN as the server reports it.
func QueueARN(t testing.TB, c *sqs.Client, url string) string {
	t.Helper()
	out, err := c.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatalf("queue ARN of %s: %v", url, err)
	}
	arn := out.Attributes[string(types.QueueAttributeNameQueueArn)]
	if arn == "" {
		t.Fatalf("%s: no QueueArn in %v", url, out.Attributes)
	}
	return arn
}

// SNS is the real SNS client pointed at endpoint, signing like Client.
func SNS(endpoint string) *sns.Client {
	return sns.New(sns.Options{Region: Region, BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
}

// CreateTopic makes a standard topic and returns its ARN as moto reports it.
func CreateTopic(t testing.TB, c *sns.Client, name string) string {
	t.Helper()
	out, err := c.CreateTopic(context.Background(), &sns.CreateTopicInput{Name: aws.String(name)})
	if err != nil {
		t.Fatalf("create topic %s: %v", name, err)
	}
	return aws.ToString(out.TopicArn)
}

// SubscribeQueue subscribes the queue (by ARN) to the topic, with raw
// message delivery on or off, and returns the subscription's ARN.
func SubscribeQueue(t testing.TB, c *sns.Client, topicARN, queueARN string, raw bool) string {
	t.Helper()
	out, err := c.Subscribe(context.Background(), &sns.SubscribeInput{TopicArn: aws.String(topicARN), Protocol: aws.String("sqs"),
		Endpoint: aws.String(queueARN), Attributes: map[string]string{"RawMessageDelivery": strconv.FormatBool(raw)},
		ReturnSubscriptionArn: true})
	if err != nil {
		t.Fatalf("subscribe %s to %s: %v", queueARN, topicARN, err)
	}
	return aws.ToString(out.SubscriptionArn)
}

// S3 is the real S3 client pointed at endpoint, signing like Client, with
// path-style addressing (moto serves every bucket on its one host).
func S3(endpoint string) *s3.Client {
	return s3.New(s3.Options{Region: Region, BaseEndpoint: aws.String(endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
}

// CreateBucket makes a bucket.
func CreateBucket(t testing.TB, c *s3.Client, name string) {
	t.Helper()
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("create bucket %s: %v", name, err)
	}
}
