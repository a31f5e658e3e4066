package domain

import (
	"strconv"
	"strings"
)

// Transactions and holds are shown with a prefix, so an id of one kind is never
// mistaken for the other: TX000000000042, HD000000000007.
const (
	txPrefix   = "TX"
	holdPrefix = "HD"
)

// FormatTxID shows a transaction id.
func FormatTxID(id int64) string { return txPrefix + pad(id) }

// FormatHoldID shows a hold id.
func FormatHoldID(id int64) string { return holdPrefix + pad(id) }

// ParseTxID reads a shown transaction id; ok is false for anything else.
func ParseTxID(s string) (int64, bool) { return parse(s, txPrefix) }

// ParseHoldID reads a shown hold id.
func ParseHoldID(s string) (int64, bool) { return parse(s, holdPrefix) }

func pad(id int64) string {
	s := strconv.FormatInt(id, 10)
	if len(s) < 12 {
		s = strings.Repeat("0", 12-len(s)) + s
	}
	return s
}

func parse(s, prefix string) (int64, bool) {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok || rest == "" || len(rest) > 18 {
		return 0, false
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	return id, err == nil && id > 0
}
