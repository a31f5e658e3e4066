// Package servertest serves an Andes gRPC server on a loopback port for the length
// of a test, and builds small services for exercising the platform itself.
package servertest

import (
	"context"
	"net"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/andes-bank/andes/platform/server"
)

// Serve serves s on a free port of 127.0.0.1 until the test ends, and returns the
// address. The shutdown at the end is the real one (drain, then stop).
func Serve(tb testing.TB, s *server.Server) string {
	tb.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, lis) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("serve: %v", err)
		}
	})
	return lis.Addr().String()
}

// Handler is one unary method of a test service.
type Handler func(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error)

// Service describes a service of unary methods taking and returning a
// google.protobuf.StringValue, registered without generated code:
//
//	s.RegisterService(servertest.Service("andes.facade.v1.FacadeService", map[string]servertest.Handler{"Get": get}), nil)
//
// Call its methods with Invoke.
func Service(name string, methods map[string]Handler) *grpc.ServiceDesc {
	desc := &grpc.ServiceDesc{ServiceName: name, HandlerType: (*any)(nil)}
	for method, h := range methods {
		full := "/" + name + "/" + method
		desc.Methods = append(desc.Methods, grpc.MethodDesc{
			MethodName: method,
			Handler: func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
				in := new(wrapperspb.StringValue)
				if err := dec(in); err != nil {
					return nil, err
				}
				call := func(ctx context.Context, req any) (any, error) { return h(ctx, req.(*wrapperspb.StringValue)) }
				if interceptor == nil {
					return call(ctx, in)
				}
				return interceptor(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: full}, call)
			},
		})
	}
	return desc
}

// Invoke calls a method of a Service ("/andes.facade.v1.FacadeService/Get").
func Invoke(ctx context.Context, conn grpc.ClientConnInterface, method, in string) (string, error) {
	out := new(wrapperspb.StringValue)
	if err := conn.Invoke(ctx, method, wrapperspb.String(in), out); err != nil {
		return "", err
	}
	return out.GetValue(), nil
}
