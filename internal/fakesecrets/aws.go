package fakesecrets

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"
)

// AWS speaks the Secrets Manager JSON 1.1 protocol for GetSecretValue and
// PutSecretValue.
type AWS struct {
	mu     sync.Mutex
	values map[string][]string // name → versions, newest last
	calls  map[string]int
	delay  atomic.Int64 // ns added to every answer (SetLatency)
	*httptest.Server
}

// StartAWS serves on a free loopback port; point the client's BaseEndpoint
// at URL.
func StartAWS() *AWS {
	a := &AWS{values: map[string][]string{}, calls: map[string]int{}}
	a.Server = httptest.NewServer(http.HandlerFunc(a.serve))
	return a
}

// Set stores a new current version of name.
func (a *AWS) Set(name, value string) {
	a.mu.Lock()
	a.values[name] = append(a.values[name], value)
	a.mu.Unlock()
}

// SetLatency adds d to every answer, as a round trip to the real service
// takes; concurrent calls wait it out side by side.
func (a *AWS) SetLatency(d time.Duration) { a.delay.Store(int64(d)) }

// Calls counts GetSecretValue calls for name.
func (a *AWS) Calls(name string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.calls[name]
}

func (a *AWS) serve(w http.ResponseWriter, r *http.Request) {
	time.Sleep(time.Duration(a.delay.Load()))
	var in struct {
		SecretId     string
		SecretString string
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		awsError(w, "InvalidRequestException", err.Error())
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	switch r.Header.Get("X-Amz-Target") {
	case "secretsmanager.GetSecretValue":
		a.calls[in.SecretId]++
		vs := a.values[in.SecretId]
		if len(vs) == 0 {
			awsError(w, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
			return
		}
		writeJSON(w, map[string]any{
			"ARN":           "arn:aws:secretsmanager:us-east-1:100010001000:secret:" + in.SecretId,
			"Name":          in.SecretId,
			"SecretString":  vs[len(vs)-1],
			"VersionId":     fmt.Sprintf("v%d", len(vs)),
			"VersionStages": []string{"AWSCURRENT"},
			"CreatedDate":   float64(time.Now().Unix()),
		})
	case "secretsmanager.PutSecretValue":
		a.values[in.SecretId] = append(a.values[in.SecretId], in.SecretString)
		writeJSON(w, map[string]any{"Name": in.SecretId, "VersionId": fmt.Sprintf("v%d", len(a.values[in.SecretId]))})
	default:
		awsError(w, "UnknownOperationException", "not served by this fake: "+r.Header.Get("X-Amz-Target"))
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	json.NewEncoder(w).Encode(v)
}

func awsError(w http.ResponseWriter, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(http.StatusBadRequest)
	json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}
