package auth

import (
	"context"

	"github.com/andes-bank/andes/platform/demo"
	"github.com/andes-bank/andes/services/auth/domain"
)

// demoPhones finds customers' phones in the demo bank. The customer service owns
// contact data (auth asks it, DESIGN.md section 7); until it answers phones, the
// demo dataset, which it is seeded from, gives the same numbers.
type demoPhones map[string]string

func newDemoPhones(ds *demo.Dataset) demoPhones {
	p := demoPhones{}
	if ds != nil {
		for _, c := range ds.Customers {
			p[c.ID] = c.Phone
		}
	}
	return p
}

func (p demoPhones) Phone(_ context.Context, customerID string) (string, error) {
	if phone, ok := p[customerID]; ok && phone != "" {
		return phone, nil
	}
	return "", domain.ErrNoPhone
}
