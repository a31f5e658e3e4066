package tokens

import (
	"context"

	"google.golang.org/grpc/metadata"
)

// ForwardBearer returns ctx whose outgoing gRPC calls carry raw as
// "authorization: Bearer <raw>" metadata, replacing any authorization already
// there (DESIGN.md section 7: a gateway sends the end user's token with its calls
// to the services behind, which check ownership themselves). Other outgoing
// metadata is kept. An empty raw leaves ctx as it is: the call goes out without
// a token, and the services refuse a gateway that calls without its user.
func ForwardBearer(ctx context.Context, raw string) context.Context {
	if raw == "" {
		return ctx
	}
	md, _ := metadata.FromOutgoingContext(ctx)
	md = md.Copy()
	md.Set("authorization", "Bearer "+raw)
	return metadata.NewOutgoingContext(ctx, md)
}
