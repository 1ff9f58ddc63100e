// grpc.testing.TestService with the interop semantics, for grpcdx's end-to-end tests.
package main

import (
	"context"
	"io"
	"time"

	testpb "grpcdxpeer/grpc/testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// The request metadata the interop custom_metadata case expects echoed: the first as a header,
// the second as a trailer.
const (
	echoInitialKey  = "x-grpc-test-echo-initial"
	echoTrailingKey = "x-grpc-test-echo-trailing-bin"
)

type testServer struct {
	testpb.UnimplementedTestServiceServer
}

// payload returns a COMPRESSABLE payload of `size` zero bytes.
func payload(size int32) *testpb.Payload {
	if size < 0 {
		size = 0
	}
	return &testpb.Payload{Type: testpb.PayloadType_COMPRESSABLE, Body: make([]byte, size)}
}

// echoStatus is the error a request's response_status asks for, or nil for none or OK.
func echoStatus(s *testpb.EchoStatus) error {
	if s == nil || s.Code == 0 {
		return nil
	}
	return status.Error(codes.Code(s.Code), s.Message)
}

// sleepFor waits interval_us microseconds, or less when the call ends first.
func sleepFor(ctx context.Context, intervalUs int32) error {
	if intervalUs <= 0 {
		return nil
	}
	t := time.NewTimer(time.Duration(intervalUs) * time.Microsecond)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return status.FromContextError(ctx.Err()).Err()
	}
}

// sendResponses sends one response a ResponseParameters entry, each after its interval.
func sendResponses(stream grpc.ServerStream, params []*testpb.ResponseParameters) error {
	for _, p := range params {
		if err := sleepFor(stream.Context(), p.IntervalUs); err != nil {
			return err
		}
		if err := stream.SendMsg(&testpb.StreamingOutputCallResponse{Payload: payload(p.Size)}); err != nil {
			return err
		}
	}
	return nil
}

func (testServer) EmptyCall(ctx context.Context, _ *testpb.Empty) (*testpb.Empty, error) {
	return &testpb.Empty{}, nil
}

func (testServer) UnaryCall(ctx context.Context, req *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	if err := echoStatus(req.ResponseStatus); err != nil {
		return nil, err
	}
	return &testpb.SimpleResponse{Payload: payload(req.ResponseSize)}, nil
}

func (s testServer) CacheableUnaryCall(ctx context.Context, req *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	return s.UnaryCall(ctx, req)
}

func (testServer) StreamingOutputCall(req *testpb.StreamingOutputCallRequest, stream testpb.TestService_StreamingOutputCallServer) error {
	if err := sendResponses(stream, req.ResponseParameters); err != nil {
		return err
	}
	return echoStatus(req.ResponseStatus)
}

func (testServer) StreamingInputCall(stream testpb.TestService_StreamingInputCallServer) error {
	var sum int32
	for {
		req, err := stream.Recv()
		if err == io.EOF {
			return stream.SendAndClose(&testpb.StreamingInputCallResponse{AggregatedPayloadSize: sum})
		}
		if err != nil {
			return err
		}
		sum += int32(len(req.GetPayload().GetBody()))
	}
}

// FullDuplexCall answers each request as it arrives.
func (testServer) FullDuplexCall(stream testpb.TestService_FullDuplexCallServer) error {
	for {
		req, err := stream.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := echoStatus(req.ResponseStatus); err != nil {
			return err
		}
		if err := sendResponses(stream, req.ResponseParameters); err != nil {
			return err
		}
	}
}

// HalfDuplexCall reads every request first, then answers them in order.
func (testServer) HalfDuplexCall(stream testpb.TestService_HalfDuplexCallServer) error {
	var reqs []*testpb.StreamingOutputCallRequest
	for {
		req, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		reqs = append(reqs, req)
	}
	for _, req := range reqs {
		if err := echoStatus(req.ResponseStatus); err != nil {
			return err
		}
		if err := sendResponses(stream, req.ResponseParameters); err != nil {
			return err
		}
	}
	return nil
}

// echoMetadata returns the header and trailer that echo the call's interop metadata.
func echoMetadata(ctx context.Context) (header, trailer metadata.MD) {
	md, _ := metadata.FromIncomingContext(ctx)
	header, trailer = metadata.MD{}, metadata.MD{}
	if v := md.Get(echoInitialKey); len(v) > 0 {
		header.Set(echoInitialKey, v...)
	}
	if v := md.Get(echoTrailingKey); len(v) > 0 {
		trailer.Set(echoTrailingKey, v...)
	}
	return header, trailer
}

// echoUnary echoes the interop metadata of every unary call, whatever its outcome.
func echoUnary(ctx context.Context, req interface{}, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (interface{}, error) {
	header, trailer := echoMetadata(ctx)
	if header.Len() > 0 {
		if err := grpc.SetHeader(ctx, header); err != nil {
			return nil, err
		}
	}
	if trailer.Len() > 0 {
		if err := grpc.SetTrailer(ctx, trailer); err != nil {
			return nil, err
		}
	}
	return handler(ctx, req)
}

// echoStream echoes the interop metadata of every streaming call, whatever its outcome.
func echoStream(srv interface{}, stream grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	header, trailer := echoMetadata(stream.Context())
	if header.Len() > 0 {
		if err := stream.SetHeader(header); err != nil {
			return err
		}
	}
	if trailer.Len() > 0 {
		stream.SetTrailer(trailer)
	}
	return handler(srv, stream)
}
