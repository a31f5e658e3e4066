// Package sms is the SMS gateway simulator (DESIGN.md section 2): an HTTP API that
// accepts messages for phone numbers, as a commercial SMS gateway does, and keeps
// what it "delivered" so that people and tests can read it.
//
// # API (the edge listener, ANDES_EDGE_ADDR)
//
//	POST /v1/messages            {"to":"+51987654321","text":"...","sender":"Andes"}
//	                             Idempotency-Key header required: the same key with the
//	                             same body answers the first result again (header
//	                             Idempotent-Replayed: true); with another body, 422.
//	                             202 {"id":"msg_...","to":...,"status":"delivered",...}
//	GET  /v1/messages?to=+51...  {"messages":[...]} newest first (to is optional)
//	GET  /v1/messages/{id}       one message
//	GET  /                       a page listing what was received, per phone
//
// # Fault knobs
//
//	ANDES_SMS_LATENCY      added to every API request, e.g. "200ms"
//	ANDES_SMS_ERROR_SHARE  share of sends answered 500, 0 to 1 (nothing is stored)
//	ANDES_SMS_DOWN         "true": every API request answers 503
//
// They change at run time on the admin listener: GET or PUT /faults with
// {"latency":"200ms","error_share":0.5,"down":true}.
//
// Messages live in memory (the last MaxMessages), like a gateway's delivery log
// kept for a while: a restart forgets them.
package sms
