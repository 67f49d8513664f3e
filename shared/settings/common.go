package settings

import (
	"time"

	"eventrelay.dev/eventrelay/shared/pii"
)

// The settings every function, or several of them, read: backends, logs,
// secrets, the ledger and anonymisation.

var all4 = []Function{Ingest, Forwarder, Verify, Backfill}

var LogLevel = declare(&OneOf{Meta: Meta{Name: "LOG_LEVEL",
	Description: "the lowest severity logged",
	Functions:   append(all4[:4:4], Local),
	GCP:         Var("log_level"), AWS: Var("log_level")},
	Default: "info", Allowed: []string{"debug", "info", "warn", "error"}})

var QueueBackend = declare(&OneOf{Meta: Meta{Name: "QUEUE_BACKEND",
	Description: "the queue service: Pub/Sub or SQS",
	Functions:   all4, Required: "always, unless the local stack supplies the queue",
	GCP: From("pubsub"), AWS: From("sqs")},
	Allowed: []string{"pubsub", "sqs"}})

var SecretsBackend = declare(&OneOf{Meta: Meta{Name: "SECRETS_BACKEND",
	Description: "the secret store: Secret Manager (gcp) or Secrets Manager (aws)",
	Functions:   all4, Required: "always, unless the local stack supplies the secrets",
	GCP: From("gcp"), AWS: From("aws")},
	Allowed: []string{"gcp", "aws"}})

var SecretsCacheTTL = declare(&Duration{Meta: Meta{Name: "SECRETS_CACHE_TTL",
	Description: "how long a secret value is reused before it is read again (a rotation is seen within it)",
	Functions:   all4,
	GCP:         Var("secrets_cache_ttl"), AWS: Var("secrets_cache_ttl")},
	Default: time.Minute, Min: time.Second, Max: time.Hour})

var PubSubTopic = declare(&String{Meta: Meta{Name: "PUBSUB_TOPIC",
	Description: "the events topic ingest publishes to",
	Functions:   []Function{Ingest}, Required: "when QUEUE_BACKEND=pubsub",
	GCP: From("the events topic"), AWS: Nowhere},
	Format: "projects/<project>/topics/<topic>"})

var SQSQueueURL = declare(&String{Meta: Meta{Name: "SQS_QUEUE_URL",
	Description: "the events queue ingest sends to and the forwarder's backoff changes visibility on",
	Functions:   []Function{Ingest, Forwarder}, Required: "when QUEUE_BACKEND=sqs",
	GCP: Nowhere, AWS: From("the events queue")},
	Format: "URL"})

var SNSTopicARN = declare(&String{Meta: Meta{Name: "SNS_TOPIC_ARN",
	Description: "the events topic ingest publishes to when the archive is on (it fans out to the events queue with raw message delivery and to the archive's Firehose); empty: ingest sends to SQS_QUEUE_URL",
	Functions:   []Function{Ingest},
	GCP:         Nowhere, AWS: From("the events topic, when archive_enabled")},
	Format: "arn:aws:sns:<region>:<account>:<topic>"})

var DeadLetterTopic = declare(&String{Meta: Meta{Name: "DEADLETTER_TOPIC",
	Description: "the dead-letter topic the forwarder and backfill park failed events on",
	Functions:   []Function{Forwarder, Backfill}, Required: "when QUEUE_BACKEND=pubsub",
	GCP: From("the dead-letter topic"), AWS: Nowhere},
	Format: "projects/<project>/topics/<topic>"})

var DeadLetterQueueURL = declare(&String{Meta: Meta{Name: "DEADLETTER_QUEUE_URL",
	Description: "the dead-letter queue the forwarder and backfill park failed events on",
	Functions:   []Function{Forwarder, Backfill}, Required: "when QUEUE_BACKEND=sqs",
	GCP: Nowhere, AWS: From("the dead-letter queue")},
	Format: "URL"})

var LedgerBackend = declare(&OneOf{Meta: Meta{Name: "LEDGER_BACKEND",
	Description: "where the ledger (entries, verdicts, suppressions, attestation state) lives; none keeps nothing",
	Functions:   all4, Required: "verify: firestore or dynamodb",
	GCP: From("firestore"), AWS: From("dynamodb")},
	Default: "none", Allowed: []string{"none", "firestore", "dynamodb"}})

var GoogleCloudProject = declare(&String{Meta: Meta{Name: "GOOGLE_CLOUD_PROJECT",
	Description: "the project holding the Firestore database (ledger, catalog)",
	Functions:   all4, Required: "when LEDGER_BACKEND or CATALOG_BACKEND is firestore",
	GCP: From("project_id"), AWS: Nowhere}})

var LedgerFirestoreDatabase = declare(&String{Meta: Meta{Name: "LEDGER_FIRESTORE_DATABASE",
	Description: "the ledger's Firestore database",
	Functions:   all4,
	GCP:         DerivedFrom("firestore_database", "the database the module creates or names"), AWS: Nowhere},
	Default: "(default)"})

var LedgerFirestoreCollection = declare(&String{Meta: Meta{Name: "LEDGER_FIRESTORE_COLLECTION",
	Description: "the ledger's collection (entries, verdict-… and claim-… documents)",
	Functions:   all4,
	GCP:         Var("ledger_collection"), AWS: Nowhere},
	Default: "eventrelay-ledger"})

var LedgerDynamoDBTable = declare(&String{Meta: Meta{Name: "LEDGER_DYNAMODB_TABLE",
	Description: "the ledger table (entries, v#… verdicts and c#… claims)",
	Functions:   all4, Required: "when LEDGER_BACKEND=dynamodb",
	GCP: Nowhere, AWS: From("the ledger table")}})

var LedgerEventTypes = declare(&List{Meta: Meta{Name: "LEDGER_EVENT_TYPES",
	Description: "event types ingest records in the ledger for verify; verify refuses an event map asking for others",
	Functions:   []Function{Ingest, Verify},
	GCP:         Var("ledger_event_types"), AWS: Var("ledger_event_types")},
	Default: []string{"PURCHASE"}})

var LedgerTTL = declare(&Duration{Meta: Meta{Name: "LEDGER_TTL",
	Description: "how long ledger entries, and verify's verdicts and claims, live",
	Functions:   []Function{Ingest, Verify},
	GCP:         Var("ledger_ttl"), AWS: Var("ledger_ttl")},
	Default: 30 * 24 * time.Hour, Min: time.Hour, Max: 400 * 24 * time.Hour})

var PIIHashFields = declare(&List{Meta: Meta{Name: "PII_HASH_FIELDS",
	Description: "identifiers hashed with the salt before anything is queued or stored, or none; ingest's and verify's must agree",
	Functions:   []Function{Ingest, Verify},
	GCP:         Var("pii_hash_fields"), AWS: Var("pii_hash_fields")},
	Default: []string{pii.UserID, pii.CustomID, pii.PersistentID, pii.AdvertisingID, pii.UniqueDeviceID}})

var PIIIPPolicy = declare(&OneOf{Meta: Meta{Name: "PII_IP_POLICY",
	Description: "what becomes of the client IP address",
	Functions:   []Function{Ingest, Verify},
	GCP:         Var("pii_ip_policy"), AWS: Var("pii_ip_policy")},
	Default: "truncate", Allowed: []string{"keep", "truncate", "drop"}})

var PIISaltSecret = declare(&String{Meta: Meta{Name: "PII_SALT_SECRET",
	Description: "secret with the identifier hashing salt (at least 16 bytes)",
	Functions:   []Function{Ingest, Verify}, Secret: NamesSecret, Required: "unless PII_HASH_FIELDS=none",
	GCP: From("the pii-salt secret"), AWS: From("the pii-salt secret")}})

// The Go runtime reads these itself; ingest's Terraform tunes its garbage
// collector with them (README, Performance).
var GoGC = declare(&String{Meta: Meta{Name: "GOGC",
	Description: "the Go runtime's garbage collection target (read by the runtime)",
	Functions:   []Function{Ingest},
	GCP:         From("400 on ingest"), AWS: From("400 on ingest")}})

var GoMemLimit = declare(&String{Meta: Meta{Name: "GOMEMLIMIT",
	Description: "the Go runtime's soft memory limit, bytes (read by the runtime)",
	Functions:   []Function{Ingest},
	GCP:         From("3/8 of ingest's memory"), AWS: From("3/8 of ingest's memory")}})
