package rpcstatus

import (
	"errors"

	"connectrpc.com/connect"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"

	errorsv1 "github.com/andes-bank/andes/gen/andes/errors/v1"
)

// Connect is st as a connect-go error with the same code, message and details, so
// that a Connect handler answers exactly what a gRPC server would.
func Connect(st *status.Status) *connect.Error {
	ce := connect.NewError(connect.Code(st.Code()), errors.New(st.Message()))
	for _, d := range st.Proto().GetDetails() {
		m, err := d.UnmarshalNew()
		if err != nil {
			continue
		}
		if detail, err := connect.NewErrorDetail(m); err == nil {
			ce.AddDetail(detail)
		}
	}
	return ce
}

// ConnectError is Status as a connect-go error, for Connect handlers to return.
func (d Domain) ConnectError(r errorsv1.Reason, msg string, meta map[string]string, details ...protoadapt.MessageV1) *connect.Error {
	return Connect(d.Status(r, msg, meta, details...))
}

// ReadConnect is Read for a connect-go client's error: the same refusal whether
// the peer answered over Connect or gRPC. An error that is not a *connect.Error
// reads as Unknown without a reason; nil reads as OK.
func ReadConnect(err error) Refusal {
	if err == nil {
		return Refusal{Code: codes.OK}
	}
	var ce *connect.Error
	if !errors.As(err, &ce) {
		return Refusal{Code: codes.Unknown, Message: err.Error()}
	}
	r := Refusal{Code: codes.Code(ce.Code()), Message: ce.Message()}
	for _, d := range ce.Details() {
		m, err := d.Value()
		if err != nil {
			continue // a detail whose type is not linked in, as in Read
		}
		r.add(m)
	}
	return r
}
