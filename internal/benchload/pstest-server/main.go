// Command pstest-server runs the pstest Pub/Sub emulator in a process of
// its own, for load measurements (make bench-load where Google's emulator
// is not installed): ingest publishes to it over loopback gRPC, and its CPU
// is counted apart from ingest's.
//
// pstest keeps every message ever published (for its Messages method),
// acknowledged or not. Nothing subscribes in a benchmark, so the server
// drops them all every -clear interval: the emulator does not grow through
// a run, as the real Pub/Sub keeps nothing for a topic without
// subscriptions. It is a measuring tool, not a product entry point.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"cloud.google.com/go/pubsub/v2/pstest"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback)")
	clear := flag.Duration("clear", time.Second, "drop every stored message this often (nothing subscribes)")
	flag.Parse()
	srv := pstest.NewServerWithAddress(*addr)
	fmt.Println(srv.Addr) // the address, for the script that started it
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	tick := time.NewTicker(*clear)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			srv.ClearMessages()
		case <-sig:
			if err := srv.Close(); err != nil {
				fmt.Fprintln(os.Stderr, "pstest-server:", err)
				os.Exit(1)
			}
			return
		}
	}
}
