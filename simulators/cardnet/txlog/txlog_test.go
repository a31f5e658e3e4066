package txlog_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/andes-bank/andes/simulators/cardnet/txlog"
)

func TestCapacityDropsTheOldestAndTheDumpSaysSo(t *testing.T) {
	l := txlog.New(2)
	first := l.Add(txlog.Entry{Kind: txlog.KindAuthorization, Amount: 1})
	l.Add(txlog.Entry{Kind: txlog.KindAuthorization, Amount: 2})
	third := l.Add(txlog.Entry{Kind: txlog.KindAdvice, Amount: 3})
	l.Update(first, func(e *txlog.Entry) { e.Amount = 99 }) // dropped: no effect
	l.Update(third, func(e *txlog.Entry) { e.Delivery = txlog.Acknowledged })
	if _, ok := l.Get(first); ok {
		t.Fatal("the oldest entry is still there")
	}
	var buf bytes.Buffer
	if err := l.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var dump struct {
		Dropped int64         `json:"dropped"`
		Entries []txlog.Entry `json:"entries"`
	}
	if err := json.Unmarshal(buf.Bytes(), &dump); err != nil {
		t.Fatal(err)
	}
	if dump.Dropped != 1 || len(dump.Entries) != 2 || dump.Entries[0].Amount != 2 || dump.Entries[1].Delivery != txlog.Acknowledged {
		t.Fatalf("dump: %+v", dump)
	}
}
