// Package domain holds the authorizer's types and rules: card and card account
// states, limits and channels, the network message as the decision sees it, the
// response codes (DE39) and their precedence, currencies, and card numbers. It does
// no I/O and knows no generated types; the enum numbers below are those of
// andes.authorizer.v1, so ports convert them by value.
package domain
