// Package grpcerr reads the andes.errors.v1 reason of another service's answer,
// so that each client adapter translates it into the controller's domain instead
// of passing it through.
package grpcerr

import (
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Reason is the ErrorInfo reason of err ("" when none), its code and metadata.
func Reason(err error) (string, codes.Code, map[string]string) {
	st, ok := status.FromError(err)
	if !ok {
		return "", codes.Unknown, nil
	}
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason(), st.Code(), info.GetMetadata()
		}
	}
	return "", st.Code(), nil
}
