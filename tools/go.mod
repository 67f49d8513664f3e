module eventrelay.dev/eventrelay/tools

go 1.26

tool (
	github.com/Admiral-Piett/goaws/app/cmd
	golang.org/x/perf/cmd/benchstat
)

require (
	github.com/Admiral-Piett/goaws v0.5.4 // indirect
	github.com/aclements/go-moremath v0.0.0-20210112150236-f10218a38794 // indirect
	github.com/ghodss/yaml v1.0.0 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/gorilla/mux v1.8.0 // indirect
	github.com/gorilla/schema v1.4.1 // indirect
	github.com/mitchellh/copystructure v1.2.0 // indirect
	github.com/mitchellh/reflectwalk v1.0.2 // indirect
	github.com/sirupsen/logrus v1.9.0 // indirect
	golang.org/x/perf v0.0.0-20260112171951-5abaabe9f1bd // indirect
	golang.org/x/sys v0.40.0 // indirect
	gopkg.in/yaml.v2 v2.4.0 // indirect
)
