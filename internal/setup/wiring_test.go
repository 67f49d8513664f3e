package setup

// The tests here build functions on both clouds' backends.
import (
	_ "eventrelay.dev/eventrelay/internal/wiring/aws"
	_ "eventrelay.dev/eventrelay/internal/wiring/gcp"
)
