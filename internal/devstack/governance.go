package devstack

// The local stack's erase route (POST <ingest>/erase) and its key; like
// DevAPIKey, the key exists in this process only.
const (
	SecretEraseKeys = "projects/" + Project + "/secrets/erase-keys"
	DevEraseKey     = "dev-erase-key-local-only-0123456"
)
