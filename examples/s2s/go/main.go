// AffTrack server-to-server example (Go, standard library only): reports a server-side click, then
// a conversion (postback) attributed to it, signed with the seed's HMAC-SHA256 recipe.
//
//	AFFTOK_API_KEY=ak_... AFFTOK_ADVERTISER_ID=adv_... AFFTOK_OFFER_ID=off_... \
//	AFFTOK_TRACKING_CODE=... AFFTOK_BASE_URL=http://127.0.0.1:8788 go run main.go
//
// Prints one JSON line: {"click_id":...,"conversion_id":...,"transaction_id":...}.
package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	mrand "math/rand"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

var (
	apiKey       = requireEnv("AFFTOK_API_KEY")
	advertiserID = requireEnv("AFFTOK_ADVERTISER_ID")
	offerID      = requireEnv("AFFTOK_OFFER_ID")
	baseURL      = strings.TrimRight(envOr("AFFTOK_BASE_URL", "https://api.afftok.com"), "/")
	trackingCode = os.Getenv("AFFTOK_TRACKING_CODE")
	httpClient   = &http.Client{Timeout: 15 * time.Second}
)

func requireEnv(name string) string {
	v := os.Getenv(name)
	if v == "" {
		fmt.Fprintf(os.Stderr, "missing environment variable %s\n", name)
		os.Exit(2)
	}
	return v
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

// generateSignature: hex(HMAC-SHA256(api_key, "{api_key}|{advertiser_id}|{timestamp}|{nonce}")).
func generateSignature(apiKey, advertiserID string, timestamp int64, nonce string) string {
	h := hmac.New(sha256.New, []byte(apiKey))
	h.Write([]byte(fmt.Sprintf("%s|%s|%d|%s", apiKey, advertiserID, timestamp, nonce)))
	return hex.EncodeToString(h.Sum(nil))
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func backoff(attempt int) time.Duration {
	ceiling := math.Min(8000, 250*math.Pow(2, float64(attempt)))
	return time.Duration(mrand.Float64()*ceiling) * time.Millisecond
}

type envelope struct {
	Success bool                   `json:"success"`
	Error   string                 `json:"error"`
	Code    string                 `json:"code"`
	Data    map[string]interface{} `json:"data"`
}

// retryAfter is the wait a Retry-After asks for: delta-seconds or an HTTP date (RFC 9110).
func retryAfter(value string) (time.Duration, bool) {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(value); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if at, err := http.ParseTime(value); err == nil {
		if wait := time.Until(at); wait > 0 {
			return wait, true
		}
		return 0, true
	}
	return 0, false
}

// send POSTs a signed body with a fresh timestamp and nonce per attempt. It retries 429/503
// (nothing was written) and, when keyed by a transaction_id, network errors too.
func send(path string, fields map[string]interface{}, keyed bool) (map[string]interface{}, error) {
	uncertain := false // an earlier attempt may have been recorded (its answer was lost)
	for attempt := 0; ; attempt++ {
		timestamp := time.Now().UnixMilli()
		nonce := randomHex(16)
		body := map[string]interface{}{"api_key": apiKey, "advertiser_id": advertiserID}
		for k, v := range fields {
			body[k] = v
		}
		body["timestamp"] = timestamp
		body["nonce"] = nonce
		body["signature"] = generateSignature(apiKey, advertiserID, timestamp, nonce)
		raw, _ := json.Marshal(body)

		res, err := httpClient.Post(baseURL+path, "application/json", bytes.NewReader(raw))
		if err != nil {
			if !keyed || attempt >= 3 {
				return nil, err
			}
			uncertain = true
			time.Sleep(backoff(attempt))
			continue
		}
		text, _ := io.ReadAll(res.Body)
		res.Body.Close()
		var env envelope
		_ = json.Unmarshal(text, &env)
		asked, hasAsked := retryAfter(res.Header.Get("Retry-After"))
		if (res.StatusCode == 429 || res.StatusCode == 503) && attempt < 3 && (!hasAsked || asked <= time.Minute) {
			wait := backoff(attempt)
			if hasAsked && asked > wait {
				wait = asked
			}
			time.Sleep(wait)
			continue
		}
		// A retry after a lost answer told "duplicate": that attempt was recorded. After a 429/503
		// (which write nothing) a 409 is a real duplicate, returned as an error below.
		if keyed && uncertain && res.StatusCode == 409 && env.Code == "DUPLICATE_TRANSACTION" {
			return map[string]interface{}{"already_recorded": true}, nil
		}
		if !env.Success {
			return nil, fmt.Errorf("%s: %d %s: %s", path, res.StatusCode, env.Code, env.Error)
		}
		return env.Data, nil
	}
}

func main() {
	var clickID interface{}
	if trackingCode != "" {
		click, err := send("/api/sdk/click", map[string]interface{}{
			"offer_id":      offerID,
			"tracking_code": trackingCode,
			"sub_id_1":      "source",
			"sub_id_2":      "medium",
			"sub_id_3":      "campaign",
			"ip":            "203.0.113.13",
			"user_agent":    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
		}, false)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		clickID = click["click_id"]
	}

	transactionID := envOr("AFFTOK_TRANSACTION_ID", "txn_"+randomHex(8))
	conversion, err := send("/api/postback", map[string]interface{}{
		"offer_id":       offerID,
		"transaction_id": transactionID,
		"click_id":       clickID,
		"amount":         29.99,
		"currency":       "USD",
		"status":         "approved",
		"custom_params":  map[string]interface{}{"product_id": "prod_456"},
	}, true)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out, _ := json.Marshal(map[string]interface{}{
		"click_id":       clickID,
		"conversion_id":  conversion["conversion_id"],
		"transaction_id": transactionID,
	})
	fmt.Println(string(out))
}
