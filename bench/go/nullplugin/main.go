// A null CNPG-I WAL plugin in Go: the five methods CNPG calls per archive_command, answered with
// constants. It is the floor any plugin is compared with (bench/go_overhead.sh).
package main

import (
	"context"
	"flag"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"

	"cnpgi-bench/codec"

	"github.com/cloudnative-pg/cnpg-i/pkg/identity"
	"github.com/cloudnative-pg/cnpg-i/pkg/wal"
	"google.golang.org/grpc"
)

type identityServer struct {
	identity.UnimplementedIdentityServer
}

func (identityServer) GetPluginMetadata(context.Context, *identity.GetPluginMetadataRequest) (*identity.GetPluginMetadataResponse, error) {
	return &identity.GetPluginMetadataResponse{Name: "pgbackrest.cnpg.opera.com", Version: "0.0.0"}, nil
}

func (identityServer) GetPluginCapabilities(context.Context, *identity.GetPluginCapabilitiesRequest) (*identity.GetPluginCapabilitiesResponse, error) {
	return &identity.GetPluginCapabilitiesResponse{Capabilities: []*identity.PluginCapability{{
		Type: &identity.PluginCapability_Service_{Service: &identity.PluginCapability_Service{
			Type: identity.PluginCapability_Service_TYPE_WAL_SERVICE}},
	}}}, nil
}

func (identityServer) Probe(context.Context, *identity.ProbeRequest) (*identity.ProbeResponse, error) {
	return &identity.ProbeResponse{Ready: true}, nil
}

type walServer struct {
	wal.UnimplementedWALServer
}

func (walServer) GetCapabilities(context.Context, *wal.WALCapabilitiesRequest) (*wal.WALCapabilitiesResult, error) {
	return &wal.WALCapabilitiesResult{Capabilities: []*wal.WALCapability{{
		Type: &wal.WALCapability_Rpc{Rpc: &wal.WALCapability_RPC{Type: wal.WALCapability_RPC_TYPE_ARCHIVE_WAL}},
	}}}, nil
}

func (walServer) Archive(context.Context, *wal.WALArchiveRequest) (*wal.WALArchiveResult, error) {
	return &wal.WALArchiveResult{}, nil
}

func main() {
	socket := flag.String("socket", "", "Unix socket to listen on")
	flag.Parse()
	if *socket == "" {
		log.Fatal("--socket is required")
	}
	_ = os.Remove(*socket)
	listener, err := net.Listen("unix", *socket)
	if err != nil {
		log.Fatal(err)
	}
	server := grpc.NewServer(grpc.CustomCodec(codec.Proto{}))
	identity.RegisterIdentityServer(server, identityServer{})
	wal.RegisterWALServer(server, walServer{})
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() { <-stop; server.Stop() }()
	if err := server.Serve(listener); err != nil {
		log.Fatal(err)
	}
}
