package gcp

import (
	"context"
	"sync"

	"cloud.google.com/go/firestore"

	"eventrelay.dev/eventrelay/internal/wiring"
	"eventrelay.dev/eventrelay/shared/settings"
)

// firestoreClients shares one Firestore client per project and database in
// a process: the ledger and the item catalog in one database (the default)
// use one client and its connections, not one each. The client closes when
// the last of its users closes it.
var firestoreClients = struct {
	sync.Mutex
	open map[firestoreDB]*sharedFirestore
}{open: map[firestoreDB]*sharedFirestore{}}

// firestoreDB keys a client; emulator is FIRESTORE_EMULATOR_HOST, which the
// client reads when it is made (tests start one emulator after another).
type firestoreDB struct{ project, database, emulator string }

type sharedFirestore struct {
	client *firestore.Client
	users  int
}

// firestoreClient returns the process's client for project and database,
// and its user's closer (which closes it once, whatever the callers do).
func firestoreClient(ctx context.Context, project, database string) (*firestore.Client, wiring.Closer, error) {
	key := firestoreDB{project, database, settings.FirestoreEmulatorHost.Get(settings.FromOS())}
	firestoreClients.Lock()
	defer firestoreClients.Unlock()
	s := firestoreClients.open[key]
	if s == nil {
		c, err := firestore.NewClientWithDatabase(ctx, project, database)
		if err != nil {
			return nil, nil, err
		}
		s = &sharedFirestore{client: c}
		firestoreClients.open[key] = s
	}
	s.users++
	return s.client, sync.OnceValue(func() error {
		firestoreClients.Lock()
		defer firestoreClients.Unlock()
		if s.users--; s.users > 0 {
			return nil
		}
		delete(firestoreClients.open, key)
		return s.client.Close()
	}), nil
}
