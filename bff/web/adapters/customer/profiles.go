// Package customer reads the customer's profile for the session's greeting, with
// the customer's own token.
package customer

import (
	"context"
	"strings"

	"github.com/andes-bank/andes/bff/web/app"
	customerv1 "github.com/andes-bank/andes/gen/andes/customer/v1"
	"github.com/andes-bank/andes/platform/tokens"
)

// Profiles is app.Profiles on andes.customer.v1.
type Profiles struct {
	api customerv1.CustomerServiceClient
}

var _ app.Profiles = (*Profiles)(nil)

// New returns the adapter on api.
func New(api customerv1.CustomerServiceClient) *Profiles { return &Profiles{api: api} }

func (p *Profiles) Profile(ctx context.Context, accessToken, customerID string) (app.Profile, error) {
	ctx = tokens.ForwardBearer(ctx, accessToken)
	resp, err := p.api.GetCustomer(ctx, &customerv1.GetCustomerRequest{CustomerId: customerID})
	if err != nil {
		return app.Profile{}, err
	}
	c := resp.GetCustomer()
	given := strings.Fields(c.GetGivenNames())
	first := c.GetGivenNames()
	if len(given) > 0 {
		first = given[0]
	}
	return app.Profile{GivenName: first, DisplayName: strings.TrimSpace(c.GetGivenNames() + " " + c.GetFamilyNames()),
		Language: c.GetPreferences().GetLanguage()}, nil
}
