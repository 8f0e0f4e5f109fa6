package sqs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// withGoawsFixups returns an HTTP client like hc (nil: a default one) whose
// transport repairs goaws's JSON SendMessageBatch answers (EmulatorGoaws).
func withGoawsFixups(hc *http.Client) *http.Client {
	out := &http.Client{}
	if hc != nil {
		*out = *hc //nolint:govet // a shallow copy of the settings; http.Client holds no lock
	}
	next := out.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	out.Transport = goawsFixups{next: next}
	return out
}

// goawsFixups renames the result lists of goaws's SendMessageBatch answer to
// the JSON protocol's names.
type goawsFixups struct{ next http.RoundTripper }

// goawsBatchRenames maps goaws's keys to the JSON protocol's.
var goawsBatchRenames = map[string]string{
	"SendMessageBatchResultEntry": "Successful",
	"BatchResultErrorEntry":       "Failed",
}

func (g goawsFixups) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := g.next.RoundTrip(req)
	if err != nil || req.Header.Get("X-Amz-Target") != "AmazonSQS.SendMessageBatch" || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("goaws SendMessageBatch answer: %w", err)
	}
	fixed, err := renameKeys(body, goawsBatchRenames)
	if err != nil {
		return nil, fmt.Errorf("goaws SendMessageBatch answer %.200q: %w", body, err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(fixed))
	resp.ContentLength = int64(len(fixed))
	resp.Header.Set("Content-Length", strconv.Itoa(len(fixed)))
	return resp, nil
}

// renameKeys renames top-level keys of a JSON object; keys already named
// right are kept (a fixed goaws answers correctly).
func renameKeys(body []byte, renames map[string]string) ([]byte, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		return nil, err
	}
	for from, to := range renames {
		v, ok := obj[from]
		if !ok {
			continue
		}
		delete(obj, from)
		if _, has := obj[to]; !has {
			obj[to] = v
		}
	}
	return json.Marshal(obj)
}
