// Package customer is auth's client of the customer service, which owns
// customers' contact data (DESIGN.md section 7): auth asks it where a customer's
// one-time codes go, so a customer created any way (seeded, onboarded, migrated)
// can receive them.
package customer

import (
	"context"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	customerv1 "github.com/andes-bank/andes/gen/andes/customer/v1"
	"github.com/andes-bank/andes/services/auth/app"
	"github.com/andes-bank/andes/services/auth/domain"
)

// Phones asks the customer service for customers' phones over conn.
type Phones struct {
	api customerv1.CustomerServiceClient
}

var _ app.Phones = (*Phones)(nil)

// New returns the client on conn.
func New(conn grpc.ClientConnInterface) *Phones {
	return &Phones{api: customerv1.NewCustomerServiceClient(conn)}
}

// RetryMethods are the reads safe to send again.
var RetryMethods = []string{"andes.customer.v1.CustomerService/GetCustomer"}

// Phone returns the customer's mobile phone. The call carries no end user's
// token: auth asks on its own account, before the customer has one.
func (p *Phones) Phone(ctx context.Context, customerID string) (string, error) {
	resp, err := p.api.GetCustomer(ctx, &customerv1.GetCustomerRequest{CustomerId: customerID})
	switch status.Code(err) {
	case codes.OK:
	case codes.NotFound, codes.InvalidArgument:
		return "", domain.ErrNoPhone
	case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted:
		// The code cannot be sent now, the same as when the gateway is down.
		return "", fmt.Errorf("customer service: %w", domain.ErrSMSUnavailable)
	default:
		return "", fmt.Errorf("customer service: %v", err)
	}
	if phone := resp.GetCustomer().GetPhoneNumber(); phone != "" {
		return phone, nil
	}
	return "", domain.ErrNoPhone
}
