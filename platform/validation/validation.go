// Package validation checks requests against their protovalidate rules before any
// handler sees them, and refuses an invalid one with VALIDATION_FAILED and a
// BadRequest naming each field (platform/rpcstatus). One validator serves a
// process, adapted to where its requests arrive: gRPC servers (the platform's
// server chassis installs it), Connect handlers, and in-process calls.
//
// go-grpc-middleware's protovalidate interceptor and connectrpc.com/validate were
// considered: both answer with buf.validate.Violations details and no ErrorInfo,
// which is not the shape andes.errors.v1 promises, and neither lets the answer be
// chosen; the few lines are here instead.
package validation

import (
	"context"

	"buf.build/go/protovalidate"
	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/andes-bank/andes/platform/rpcstatus"
)

// Validator checks messages against their protovalidate rules.
type Validator struct {
	v protovalidate.Validator
}

// New builds a validator. Rules are compiled on first use of each message type
// and cached.
func New() (*Validator, error) {
	v, err := protovalidate.New()
	if err != nil {
		return nil, err
	}
	return &Validator{v: v}, nil
}

// Check returns nil when m keeps its rules, else VALIDATION_FAILED in domain d.
// A value that is not a proto message has no rules.
func (v *Validator) Check(d rpcstatus.Domain, m any) error {
	msg, ok := m.(proto.Message)
	if !ok {
		return nil
	}
	if err := v.v.Validate(msg); err != nil {
		return d.Validation(err)
	}
	return nil
}

// UnaryServerInterceptor refuses invalid requests of unary calls.
func (v *Validator) UnaryServerInterceptor(d rpcstatus.Domain) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if err := v.Check(d, req); err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// StreamServerInterceptor refuses invalid messages a client streams: the handler's
// RecvMsg returns the refusal.
func (v *Validator) StreamServerInterceptor(d rpcstatus.Domain) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return handler(srv, &checkedStream{ServerStream: ss, check: func(m any) error { return v.Check(d, m) }})
	}
}

type checkedStream struct {
	grpc.ServerStream
	check func(any) error
}

func (s *checkedStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	return s.check(m)
}

// ConnectInterceptor refuses invalid requests of connect-go handlers (Connect,
// gRPC and gRPC-Web alike). Install it after authentication, so an anonymous
// caller learns nothing about the rules.
func (v *Validator) ConnectInterceptor(d rpcstatus.Domain) connect.Interceptor {
	return &connectInterceptor{v: v, d: d}
}

type connectInterceptor struct {
	v *Validator
	d rpcstatus.Domain
}

func (c *connectInterceptor) check(m any) error {
	if err := c.v.Check(c.d, m); err != nil {
		return rpcstatus.Connect(status.Convert(err))
	}
	return nil
}

func (c *connectInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if !req.Spec().IsClient {
			if err := c.check(req.Any()); err != nil {
				return nil, err
			}
		}
		return next(ctx, req)
	}
}

func (c *connectInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (c *connectInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		return next(ctx, &checkedConn{StreamingHandlerConn: conn, check: c.check})
	}
}

type checkedConn struct {
	connect.StreamingHandlerConn
	check func(any) error
}

func (c *checkedConn) Receive(m any) error {
	if err := c.StreamingHandlerConn.Receive(m); err != nil {
		return err
	}
	return c.check(m)
}
