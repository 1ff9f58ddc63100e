// grpcdx-go-peer: a grpc-go server (TestService, health, reflection, channelz) for the e2e tests.
//
//	grpcdx-go-peer [-listen 127.0.0.1:0] [-not-serving NAME]... [keepalive flags]
//
// It prints the address it listens on as its first line of stdout, as `grpcdx serve` does, and
// stops on SIGTERM or SIGINT.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	testpb "grpcdxpeer/grpc/testing"

	"google.golang.org/grpc"
	channelzsvc "google.golang.org/grpc/channelz/service"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"
)

// names is a repeatable string flag.
type names []string

func (n *names) String() string     { return strings.Join(*n, ",") }
func (n *names) Set(v string) error { *n = append(*n, v); return nil }

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on (host:port; port 0 picks a free one)")
	var notServing names
	flag.Var(&notServing, "not-serving", "health: report this service NOT_SERVING (repeatable; \"\" is the server as a whole)")
	// Defaults are grpc-go's own, so no flag given means grpc-go's default behaviour.
	minTime := flag.Duration("keepalive-min-time", 5*time.Minute, "keepalive.EnforcementPolicy.MinTime: shortest client PING interval allowed (more often: GOAWAY too_many_pings)")
	permit := flag.Bool("keepalive-permit-without-stream", false, "keepalive.EnforcementPolicy.PermitWithoutStream: allow client PINGs while no stream is open")
	idle := flag.Duration("max-connection-idle", 0, "keepalive.ServerParameters.MaxConnectionIdle: close a connection idle this long (0: never)")
	age := flag.Duration("max-connection-age", 0, "keepalive.ServerParameters.MaxConnectionAge: close a connection this old (0: never)")
	grace := flag.Duration("max-connection-age-grace", 0, "keepalive.ServerParameters.MaxConnectionAgeGrace: time given to open streams after max-connection-age (0: forever)")
	pingTime := flag.Duration("keepalive-time", 2*time.Hour, "keepalive.ServerParameters.Time: the server PINGs a connection idle this long")
	pingTimeout := flag.Duration("keepalive-timeout", 20*time.Second, "keepalive.ServerParameters.Timeout: how long the server waits for a PING's answer")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "error: unexpected argument %q\n", flag.Arg(0))
		os.Exit(2)
	}

	lis, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(os.Stderr, "error: cannot listen on %s: %v\n", *listen, err)
		os.Exit(1)
	}
	s := grpc.NewServer(
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: *minTime, PermitWithoutStream: *permit}),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			MaxConnectionIdle: *idle, MaxConnectionAge: *age, MaxConnectionAgeGrace: *grace,
			Time: *pingTime, Timeout: *pingTimeout,
		}),
		grpc.UnaryInterceptor(echoUnary),
		grpc.StreamInterceptor(echoStream),
	)
	testpb.RegisterTestServiceServer(s, &testServer{})
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	hs.SetServingStatus("grpc.testing.TestService", healthpb.HealthCheckResponse_SERVING)
	for _, name := range notServing {
		hs.SetServingStatus(name, healthpb.HealthCheckResponse_NOT_SERVING)
	}
	healthpb.RegisterHealthServer(s, hs)
	reflection.Register(s)
	channelzsvc.RegisterChannelzServiceToServer(s)

	// os.Stdout is not buffered: the line is out before the first connection is accepted.
	fmt.Println(lis.Addr().String())

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		s.Stop()
	}()
	if err := s.Serve(lis); err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(1)
	}
}
