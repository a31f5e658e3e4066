// Package cardnet is the card network simulator: the acquirer and network
// side of ISO 8583 in the authorizer's wire format, with stand-in
// processing, store-and-forward advices and reversals, field scenarios and a
// load generator.
//
//	link/       connections to the issuer: sign-on, echo, sign-off, reconnect, matching
//	network/    forwarding, stand-in, late answers, advices and reversals owed
//	standin/    the network's stand-in rules and per-card limit state
//	terminal/   cards and the messages merchants' terminals send
//	txlog/      the network's transaction log (memory, JSON dump)
//	scenario/   stories from the field, printed and checked
//	load/       the load generator and its latency histogram
//	issuertest/ a fake issuer over real TCP, for tests and demonstrations
//	cmd/cardnet the process: serve (for the supervisor), scenario, load
//
// Settings come from the environment (see Settings); New assembles them into
// a Service.
package cardnet
