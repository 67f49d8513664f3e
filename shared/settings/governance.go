package settings

import "time"

// Data governance: consent, erasure, and the item catalog (README, Data
// governance).

var SuppressionCache = declare(&Duration{Meta: Meta{Name: "SUPPRESSION_CACHE",
	Description: "how long an instance keeps a \"not erased\" answer (at most some 16 MB); an erasure takes effect everywhere within it",
	Functions:   []Function{Ingest, Forwarder, Backfill},
	GCP:         Var("suppression_cache"), AWS: Var("suppression_cache")},
	Default: 30 * time.Second, Min: 0, Max: 5 * time.Minute})

var ConsentDefault = declare(&OneOf{Meta: Meta{Name: "CONSENT_DEFAULT",
	Description: "what an event without a consent field means",
	Functions:   []Function{Ingest},
	GCP:         Var("consent_default"), AWS: Var("consent_default")},
	Default: "granted", Allowed: []string{"granted", "denied"}})

var ConsentSources = declare(&List{Meta: Meta{Name: "CONSENT_SOURCES",
	Description: "per source, source=granted or source=denied; wins over CONSENT_DEFAULT",
	Functions:   []Function{Ingest},
	GCP:         Var("consent_sources"), AWS: Var("consent_sources")}})

var EraseKeysSecret = declare(&String{Meta: Meta{Name: "ERASE_KEYS_SECRET",
	Description: "secret with the erase keys; set: ingest serves POST /erase",
	Functions:   []Function{Ingest}, Secret: NamesSecret,
	GCP: DerivedFrom("erase_enabled", "the erase-keys secret when true"),
	AWS: DerivedFrom("erase_enabled", "the erase-keys secret when true")}})

var EraseRetention = declare(&Duration{Meta: Meta{Name: "ERASE_RETENTION",
	Description: "how long an erased person's suppression lasts",
	Functions:   []Function{Ingest},
	GCP:         Var("erase_retention"), AWS: Var("erase_retention")},
	Default: 3 * 365 * 24 * time.Hour, Min: 24 * time.Hour, Max: 10 * 365 * 24 * time.Hour})

var CatalogBackend = declare(&OneOf{Meta: Meta{Name: "CATALOG_BACKEND",
	Description: "where ingest looks up items to enrich events from",
	Functions:   []Function{Ingest},
	GCP:         DerivedFrom("catalog_enabled", "firestore when true"),
	AWS:         DerivedFrom("catalog_enabled", "dynamodb when true")},
	Default: "none", Allowed: []string{"none", "file", "firestore", "dynamodb"}})

var CatalogFile = declare(&String{Meta: Meta{Name: "CATALOG_FILE",
	Description: "the catalog's JSON file (item id → price, currency, item_group_id, seller_id)",
	Functions:   []Function{Ingest, Local}, Required: "when CATALOG_BACKEND=file",
	GCP: OnlyLocal, AWS: OnlyLocal},
	Format: "path"})

var CatalogFirestoreDatabase = declare(&String{Meta: Meta{Name: "CATALOG_FIRESTORE_DATABASE",
	Description: "the catalog's Firestore database",
	Functions:   []Function{Ingest},
	GCP:         DerivedFrom("firestore_database", "the ledger's database"), AWS: Nowhere},
	Default: "(default)"})

var CatalogFirestoreCollection = declare(&String{Meta: Meta{Name: "CATALOG_FIRESTORE_COLLECTION",
	Description: "the catalog's collection",
	Functions:   []Function{Ingest},
	GCP:         Var("catalog_collection"), AWS: Nowhere},
	Default: "eventrelay-catalog"})

var CatalogDynamoDBTable = declare(&String{Meta: Meta{Name: "CATALOG_DYNAMODB_TABLE",
	Description: "the catalog table (partition key item_id)",
	Functions:   []Function{Ingest}, Required: "when CATALOG_BACKEND=dynamodb",
	GCP: Nowhere, AWS: From("the catalog table")}})

var CatalogPrecedence = declare(&OneOf{Meta: Meta{Name: "CATALOG_PRECEDENCE",
	Description: "whose values win when both have them: the client's or the catalog's",
	Functions:   []Function{Ingest},
	GCP:         Var("catalog_precedence"), AWS: Var("catalog_precedence")},
	Default: "client", Allowed: []string{"client", "catalog"}})

var CatalogCache = declare(&Duration{Meta: Meta{Name: "CATALOG_CACHE",
	Description: "per-instance cache of catalog answers; 0: none",
	Functions:   []Function{Ingest},
	GCP:         Var("catalog_cache"), AWS: Var("catalog_cache")},
	Default: 5 * time.Minute, Min: 0, Max: 24 * time.Hour})
