package settings

import "time"

// What the platforms set, the local servers' limits, the client libraries'
// emulator addresses, the operator CLI's defaults and the test harness's
// switches.

var FunctionTarget = declare(&String{Meta: Meta{Name: "FUNCTION_TARGET",
	Description: "the entry point this instance serves (Ingest, Forward, ForwardEvent, Verify, Backfill)",
	Functions:   append(all4[:4:4], Local), Required: "eventrelay serve",
	GCP: ByPlatform("Cloud Functions (the entry_point)"), AWS: Nowhere}})

var EventrelayFunction = declare(&OneOf{Meta: Meta{Name: "EVENTRELAY_FUNCTION",
	Description: "the function the one Lambda bootstrap binary runs",
	Functions:   all4, Required: "on AWS",
	GCP: Nowhere, AWS: From("the function's name")},
	Allowed: []string{"ingest", "forwarder", "verify", "backfill"}})

var AWSRegion = declare(&String{Meta: Meta{Name: "AWS_REGION",
	Description: "the AWS region of the SQS, DynamoDB and Secrets Manager clients",
	Functions:   append(all4[:4:4], Local),
	GCP:         Nowhere, AWS: ByPlatform("Lambda")}})

// HTTP_READ_TIMEOUT bounds a request's body under every server; the other
// limits only where the project runs its own server (eventrelay serve, the
// local stack): the Functions Framework's and Lambda's are not ours.
var HTTPReadTimeout = declare(&Duration{Meta: Meta{Name: "HTTP_READ_TIMEOUT",
	Description: "the whole request, body included; a body still arriving then is cut and answered 408",
	Functions:   append(all4[:4:4], Local),
	GCP:         Var("http_read_timeout"), AWS: Unused("Lambda receives whole requests")},
	Default: 30 * time.Second, Min: 100 * time.Millisecond, Max: 10 * time.Minute})

var HTTPReadHeaderTimeout = declare(&Duration{Meta: Meta{Name: "HTTP_READ_HEADER_TIMEOUT",
	Description: "the request line and headers (eventrelay serve and the local stack)",
	Functions:   []Function{Local}},
	Default: 10 * time.Second, Min: 100 * time.Millisecond, Max: time.Minute})

var HTTPWriteTimeout = declare(&Duration{Meta: Meta{Name: "HTTP_WRITE_TIMEOUT",
	Description: "from the end of the headers to the end of the answer, the handler's work included (eventrelay serve and the local stack)",
	Functions:   []Function{Local}},
	Default: 300 * time.Second, Min: time.Second, Max: time.Hour})

var HTTPIdleTimeout = declare(&Duration{Meta: Meta{Name: "HTTP_IDLE_TIMEOUT",
	Description: "a kept-alive connection waiting for its next request (eventrelay serve and the local stack)",
	Functions:   []Function{Local}},
	Default: 120 * time.Second, Min: time.Second, Max: time.Hour})

var HTTPMaxHeaderBytes = declare(&Int{Meta: Meta{Name: "HTTP_MAX_HEADER_BYTES",
	Description: "request line and headers; more is answered 431 (eventrelay serve and the local stack)",
	Functions:   []Function{Local}},
	Default: 64 << 10, Min: 4 << 10, Max: 1 << 20})

// Emulator addresses, read by the client libraries (and by the wiring, to
// share one client per emulator).

var PubSubEmulatorHost = declare(&String{Meta: Meta{Name: "PUBSUB_EMULATOR_HOST",
	Description: "the Pub/Sub emulator's host:port; the Pub/Sub client talks to it instead of Google",
	Functions:   []Function{Local, Test},
	GCP:         OnlyLocal, AWS: Nowhere},
	Format: "host:port"})

var FirestoreEmulatorHost = declare(&String{Meta: Meta{Name: "FIRESTORE_EMULATOR_HOST",
	Description: "the Firestore emulator's host:port; the Firestore client talks to it instead of Google",
	Functions:   []Function{Local, Test},
	GCP:         OnlyLocal, AWS: Nowhere},
	Format: "host:port"})

var SecretManagerEmulatorHost = declare(&String{Meta: Meta{Name: "SECRETMANAGER_EMULATOR_HOST",
	Description: "a local Secret Manager server's host:port (Secret Manager has no official emulator)",
	Functions:   []Function{Local, Test},
	GCP:         OnlyLocal, AWS: Nowhere},
	Format: "host:port"})

var StorageEmulatorHost = declare(&String{Meta: Meta{Name: "STORAGE_EMULATOR_HOST",
	Description: "a Cloud Storage stand-in's host:port (fake-gcs-server); backfill reads a gs:// archive there instead of Google",
	Functions:   []Function{Local, Test},
	GCP:         OnlyLocal, AWS: Nowhere},
	Format: "host:port"})

var AWSEndpointURLSQS = declare(&String{Meta: Meta{Name: "AWS_ENDPOINT_URL_SQS",
	Description: "a local SQS (goaws, moto); the AWS SDK reads it",
	Functions:   []Function{Local, Test},
	GCP:         Nowhere, AWS: OnlyLocal},
	Format: "URL"})

var AWSEndpointURLSecretsManager = declare(&String{Meta: Meta{Name: "AWS_ENDPOINT_URL_SECRETS_MANAGER",
	Description: "a local Secrets Manager (moto); the AWS SDK reads it",
	Functions:   []Function{Local, Test},
	GCP:         Nowhere, AWS: OnlyLocal},
	Format: "URL"})

var AWSEndpointURLDynamoDB = declare(&String{Meta: Meta{Name: "AWS_ENDPOINT_URL_DYNAMODB",
	Description: "a local DynamoDB (dynalite, moto); the AWS SDK reads it",
	Functions:   []Function{Local, Test},
	GCP:         Nowhere, AWS: OnlyLocal},
	Format: "URL"})

var GCEMetadataHost = declare(&String{Meta: Meta{Name: "GCE_METADATA_HOST",
	Description: "the metadata server the Play Integrity client gets its access token from, instead of metadata.google.internal",
	Functions:   []Function{Ingest},
	GCP:         OnlyTest, AWS: Nowhere},
	Default: "metadata.google.internal", Format: "host:port"})

// The operator CLI's flags default to these, so a key need not be typed on
// the command line (and kept in the shell's history).

var CLIAPIKey = declare(&String{Meta: Meta{Name: "EVENTRELAY_API_KEY",
	Description: "eventrelay send: the API key <id>.<secret> (-key)",
	Functions:   []Function{CLI}, Secret: HoldsSecret}})

var CLISigningSecret = declare(&String{Meta: Meta{Name: "EVENTRELAY_SIGNING_SECRET",
	Description: "eventrelay send: sign with this secret instead of sending a key (-signing-secret)",
	Functions:   []Function{CLI}, Secret: HoldsSecret}})

var CLIDFINERYKey = declare(&String{Meta: Meta{Name: "DFINERY_KEY",
	Description: "eventrelay callback: the DFINERY HMAC key as issued, UUID text (-key)",
	Functions:   []Function{CLI}, Secret: HoldsSecret}})

var CLIEraseKey = declare(&String{Meta: Meta{Name: "EVENTRELAY_ERASE_KEY",
	Description: "eventrelay erase: an erase key, as stored in the ERASE_KEYS_SECRET secret (-key)",
	Functions:   []Function{CLI}, Secret: HoldsSecret}})

var CLIBackfillToken = declare(&String{Meta: Meta{Name: "EVENTRELAY_BACKFILL_TOKEN",
	Description: "eventrelay backfill: the bearer token for the backfill endpoint (-token)",
	Functions:   []Function{CLI}, Secret: HoldsSecret}})

// The test harness's switches and tool locations.

var RequireEmulators = declare(&String{Meta: Meta{Name: "EVENTRELAY_REQUIRE_EMULATORS",
	Description: "1: fail, rather than skip, an emulator test whose emulator cannot be started (CI sets it)",
	Functions:   []Function{Test}}})

var TestBootstrap = declare(&String{Meta: Meta{Name: "EVENTRELAY_TEST_BOOTSTRAP",
	Description: "a Lambda bootstrap binary already built (make's), so the tests that run it do not each build one",
	Functions:   []Function{Test}},
	Format: "path"})

var MotoServer = declare(&String{Meta: Meta{Name: "MOTO_SERVER",
	Description: "the moto_server binary the AWS emulator tests start",
	Functions:   []Function{Test}},
	Default: "moto_server", Format: "path"})

var GoawsBin = declare(&String{Meta: Meta{Name: "GOAWS_BIN",
	Description: "the goaws binary the SQS emulator tests start",
	Functions:   []Function{Test}},
	Format: "path"})

var DynaliteBin = declare(&String{Meta: Meta{Name: "DYNALITE_BIN",
	Description: "the dynalite script the DynamoDB emulator tests start",
	Functions:   []Function{Test}},
	Format: "path"})
