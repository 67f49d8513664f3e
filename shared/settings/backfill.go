package settings

import "time"

// backfill's settings: what it drains and how fast.

var BackfillTimeBudget = declare(&Duration{Meta: Meta{Name: "BACKFILL_TIME_BUDGET",
	Description: "how long one run may resend; with MCM_TIMEOUT and a few seconds it must fit in the function's timeout",
	Functions:   []Function{Backfill},
	GCP:         Var("backfill_time_budget"), AWS: Var("backfill_time_budget")},
	Default: 240 * time.Second, Min: time.Second, Max: 55 * time.Minute})

var BackfillRate = declare(&Int{Meta: Meta{Name: "BACKFILL_RATE",
	Description: "events per second a run sends at most, so live traffic keeps its platform quota",
	Functions:   []Function{Backfill},
	GCP:         Var("backfill_rate"), AWS: Var("backfill_rate")},
	Default: 50, Min: 1, Max: 10000})

var BackfillBatch = declare(&Int{Meta: Meta{Name: "BACKFILL_BATCH",
	Description: "the most messages a run receives at once",
	Functions:   []Function{Backfill},
	GCP:         Var("backfill_batch"), AWS: Var("backfill_batch")},
	Default: 100, Min: 1, Max: 1000})

var BackfillSubscription = declare(&String{Meta: Meta{Name: "BACKFILL_SUBSCRIPTION",
	Description: "the dead-letter pull subscription backfill drains",
	Functions:   []Function{Backfill}, Required: "when QUEUE_BACKEND=pubsub",
	GCP: From("the dead-letter subscription"), AWS: Nowhere},
	Format: "projects/<project>/subscriptions/<subscription>"})

var BackfillReplaySubscription = declare(&String{Meta: Meta{Name: "BACKFILL_REPLAY_SUBSCRIPTION",
	Description: "the live events subscription replay_from seeks back (Pub/Sub only); empty: replay_from is refused",
	Functions:   []Function{Backfill},
	GCP:         From("the events subscription"), AWS: Nowhere},
	Format: "projects/<project>/subscriptions/<subscription>"})

var BackfillQueueURL = declare(&String{Meta: Meta{Name: "BACKFILL_QUEUE_URL",
	Description: "the dead-letter queue backfill drains",
	Functions:   []Function{Backfill}, Required: "when QUEUE_BACKEND=sqs",
	GCP: Nowhere, AWS: From("the dead-letter queue")},
	Format: "URL"})

var BackfillArchive = declare(&String{Meta: Meta{Name: "BACKFILL_ARCHIVE",
	Description: "the archive of every accepted event an archive replay reads: the GCP module's bucket (gs://bucket[/prefix]), the AWS module's (s3://bucket[/prefix]), or a local folder on the local stack; empty: archive replays are refused",
	Functions:   []Function{Backfill},
	GCP:         From("gs://<the archive bucket> when archive_enabled, empty otherwise"), AWS: From("s3://<the archive bucket> when archive_enabled, empty otherwise")},
	Format: "gs://bucket[/prefix], s3://bucket[/prefix], or a folder"})

var BackfillArchiveLateness = declare(&Duration{Meta: Meta{Name: "BACKFILL_ARCHIVE_LATENESS",
	Description: "how long after an event's own time ingest may still have queued it: an archive replay also reads the files written this long after the window's end",
	Functions:   []Function{Backfill},
	GCP:         Var("backfill_archive_lateness"), AWS: Var("backfill_archive_lateness")},
	Default: 24 * time.Hour, Min: time.Minute, Max: 366 * 24 * time.Hour})
