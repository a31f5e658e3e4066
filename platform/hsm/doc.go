// Package hsm is the payment HSM's host command protocol — a small
// command/response protocol over TCP in the spirit of a payShield's host
// commands — with a pipelining client ([Client]) and a server ([Server]) that
// runs a [Backend]. Its users own it: the authorizer verifies PINs and CVVs and
// wraps its data keys with it, and so will auth and the migrator; the HSM
// simulator (simulators/hsm) implements the Backend with keys no other process
// holds.
//
// # Frames
//
// Every message is a 2-byte big-endian length followed by that many bytes
// (6 to [MaxFrameLen]):
//
//	request   header(4) command(2) fields...
//	response  header(4) response(2) error code(2) fields...   (fields only with error code 00)
//
// The header is any 4 bytes the client chooses; the server echoes it, which is
// how a client keeps many requests in flight on one connection and matches
// answers that come back in any order. Fields are ASCII: fixed-length fields
// follow each other directly; a variable-length field ends with ';' unless it is
// the last one of the message. Binary values travel as hexadecimal.
//
// # Commands
//
//	cmd resp  request fields                                   answer fields        payShield
//	NC  ND    —                                                ZPK KCV 6H, PVK KCV 6H, CVK KCV 6H,
//	                                                           KEK version 4N, firmware 1–32 text   NC
//	DC  DD    PIN block 16H, format 2N (01), PAN 12–19N;,      —                    DC/EC
//	          PVKI 1N, PVV 4N
//	FW  FX    PIN block 16H, format 2N (01), PAN 12–19N;,      PVV 4N               FW/DG
//	          PVKI 1N
//	CY  CZ    CVV 3N, PAN 12–19N;, expiry YYMM 4N,             —                    CY
//	          service code 3N
//	CW  CX    PAN 12–19N;, expiry YYMM 4N, service code 3N     CVV 3N               CW
//	WK  WL    label 0–64 text;, data key 32/48/64H             KEK version 4N,      (ours)
//	                                                           wrapped key H
//	UK  UL    label 0–64 text;, wrapped key H                  KEK version 4N,      (ours)
//	                                                           data key H
//
// The HSM holds its keys (the zone PIN key, the PIN verification key pair, the
// card verification key pair, the key-encryption keys), so unlike payShield no
// key travels in a command. CVV2 is CY/CW with service code 000, iCVV with 999.
// PIN block format 01 is ISO 9564-1 format 0, the only one supported. A label
// binds a wrapped key to its use (e.g. "authorizer/pan"); unwrapping with
// another label fails.
//
// # Error codes
//
//	00  no error
//	01  verification failed: wrong PIN, wrong CVV, or a wrapped key that does
//	    not authenticate (altered, or another label)
//	15  invalid input data: a field is missing, malformed or out of range
//	20  PIN block does not contain valid values (built under another ZPK or
//	    for another PAN)
//	21  unknown key-encryption key version (payShield: invalid index)
//	23  PIN block format not supported
//	24  PIN in the block is shorter than 4 or longer than 12 digits
//	68  command disabled; also the answer, with response code ZZ, to a
//	    command code the HSM does not know
//	99  internal failure, including faults injected by the simulator's fault
//	    knobs (ours: payShield has no single code for it)
//
// # Bad input
//
// A frame shorter than header and command, longer than MaxFrameLen, or cut
// short closes the connection after the answers already in flight are sent:
// the stream cannot be trusted to be in step any more. Any other frame gets an
// answer, with 15 when its fields do not parse.
package hsm
