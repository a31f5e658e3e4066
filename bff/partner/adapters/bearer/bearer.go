// Package bearer forwards the partner's access token to the internal services
// (DESIGN.md section 7: the end user's token travels with the call, and each service
// checks ownership itself). The REST edge puts the verified token in the request's
// context; the gRPC connections to the services carry it as "authorization: Bearer"
// metadata. A call without a token in its context goes out without one, and the
// services refuse a gateway that calls without its user.
package bearer

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

type tokenKey struct{}

// With returns ctx carrying the raw access token to forward.
func With(ctx context.Context, raw string) context.Context {
	return context.WithValue(ctx, tokenKey{}, raw)
}

// From returns the token ctx carries, if any.
func From(ctx context.Context) (string, bool) {
	raw, ok := ctx.Value(tokenKey{}).(string)
	return raw, ok && raw != ""
}

// UnaryClientInterceptor adds the context's token to every outgoing unary call,
// replacing any authorization metadata already there.
func UnaryClientInterceptor() grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if raw, ok := From(ctx); ok {
			md, _ := metadata.FromOutgoingContext(ctx)
			md = md.Copy()
			md.Set("authorization", "Bearer "+raw)
			ctx = metadata.NewOutgoingContext(ctx, md)
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
}
