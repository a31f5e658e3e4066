// Package smsgateway sends text messages through the SMS gateway's HTTP API (the
// simulator in development: simulators/sms).
package smsgateway

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Client posts messages to the gateway.
type Client struct {
	base   string
	sender string
	http   *http.Client
}

// New returns a client of the gateway at base ("http://127.0.0.1:8445").
func New(base, sender string) *Client {
	return &Client{base: base, sender: sender, http: &http.Client{Timeout: 5 * time.Second}}
}

// Send delivers text to a phone; the gateway keeps the idempotency key, so a retry
// after a lost answer sends nothing twice.
func (c *Client) Send(ctx context.Context, idempotencyKey, to, text string) error {
	body, _ := json.Marshal(map[string]string{"to": to, "sender": c.sender, "text": text})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/v1/messages", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("smsgateway: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", idempotencyKey)
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("smsgateway: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("smsgateway: gateway answered %s", resp.Status)
	}
	return nil
}
