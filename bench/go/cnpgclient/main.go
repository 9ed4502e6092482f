// The per-call sequence of CNPG's instance manager for one archive_command, in Go with grpc-go as
// CNPG runs it: dial the plugin's Unix socket, GetPluginMetadata, GetPluginCapabilities, WAL
// GetCapabilities, Probe, Archive, close. It measures several servers in one run, interleaved
// round by round in a rotated order, and prints per server the latency percentiles, the server's
// CPU per call (from /proc) and the ratio of its p50 to the first server's.
package main

import (
	"context"
	"flag"
	"fmt"
	"io/ioutil"
	"log"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"cnpgi-bench/codec"

	"github.com/cloudnative-pg/cnpg-i/pkg/identity"
	"github.com/cloudnative-pg/cnpg-i/pkg/wal"
	"google.golang.org/grpc"
)

// The Cluster CNPG sends in every call (replaced with --cluster-json): CNPG marshals the whole object.
var cluster = []byte(`{"metadata":{"name":"cluster-example"},"spec":{"plugins":[{"name":"pgbackrest.cnpg.opera.com",` +
	`"parameters":{"pgbackrestObjectName":"store"}}]},"status":{"currentPrimary":"cluster-example-1"}}`)

type server struct {
	label, socket string
	pid           int
	samples       []time.Duration
	cpu           float64 // server CPU seconds over the measured calls
}

// oneCall is what `manager wal-archive` does for one segment.
func oneCall(socket, segment string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := grpc.DialContext(ctx, "unix://"+socket, grpc.WithInsecure(),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(codec.Proto{})))
	if err != nil {
		return err
	}
	defer conn.Close()
	id := identity.NewIdentityClient(conn)
	if _, err := id.GetPluginMetadata(ctx, &identity.GetPluginMetadataRequest{}); err != nil {
		return err
	}
	if _, err := id.GetPluginCapabilities(ctx, &identity.GetPluginCapabilitiesRequest{}); err != nil {
		return err
	}
	w := wal.NewWALClient(conn)
	if _, err := w.GetCapabilities(ctx, &wal.WALCapabilitiesRequest{}); err != nil {
		return err
	}
	if _, err := id.Probe(ctx, &identity.ProbeRequest{}); err != nil {
		return err
	}
	check := false
	_, err = w.Archive(ctx, &wal.WALArchiveRequest{ClusterDefinition: cluster, SourceFileName: segment,
		CheckEmptyWalArchive: &check})
	return err
}

// cpuSeconds is user + system time of a process, from /proc/<pid>/stat (clock ticks of 1/100 s).
func cpuSeconds(pid int) float64 {
	if pid == 0 {
		return 0
	}
	data, err := ioutil.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	text := string(data)
	fields := strings.Fields(text[strings.LastIndexByte(text, ')')+2:])
	utime, _ := strconv.ParseFloat(fields[11], 64)
	stime, _ := strconv.ParseFloat(fields[12], 64)
	return (utime + stime) / 100
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	return sorted[int(p*float64(len(sorted)-1))]
}

func main() {
	servers := flag.String("servers", "", "comma-separated label=socket[@pid] (the first one is the reference)")
	calls := flag.Int("calls", 2000, "measured calls per server")
	rounds := flag.Int("rounds", 10, "rounds the calls are spread over, servers interleaved in each")
	warmup := flag.Int("warmup", 50, "calls per server before measuring")
	clusterJSON := flag.String("cluster-json", "", "file holding the Cluster sent in Archive (default: a minimal one)")
	segment := flag.String("segment", "/var/lib/postgresql/data/pgdata/pg_wal/000000010000000000000001", "source_file_name")
	flag.Parse()
	if *clusterJSON != "" {
		data, err := ioutil.ReadFile(*clusterJSON)
		if err != nil {
			log.Fatal(err)
		}
		cluster = data
	}
	var list []*server
	for _, item := range strings.Split(*servers, ",") {
		label, rest, ok := strings.Cut(item, "=")
		if !ok {
			log.Fatalf("--servers: %q is not label=socket[@pid]", item)
		}
		s := &server{label: label, socket: rest}
		if socket, pid, ok := strings.Cut(rest, "@"); ok {
			s.socket = socket
			s.pid, _ = strconv.Atoi(pid)
		}
		list = append(list, s)
	}
	for _, s := range list {
		for i := 0; i < *warmup; i++ {
			if err := oneCall(s.socket, *segment); err != nil {
				log.Fatalf("%s: %v", s.label, err)
			}
		}
	}
	per := *calls / *rounds
	for r := 0; r < *rounds; r++ {
		for k := range list {
			s := list[(k+r)%len(list)]
			cpu0 := cpuSeconds(s.pid)
			for i := 0; i < per; i++ {
				t0 := time.Now()
				if err := oneCall(s.socket, *segment); err != nil {
					log.Fatalf("%s: %v", s.label, err)
				}
				s.samples = append(s.samples, time.Since(t0))
			}
			s.cpu += cpuSeconds(s.pid) - cpu0
		}
	}
	fmt.Printf("%-28s %8s %8s %8s %12s %8s\n", "server", "p50_us", "p90_us", "p99_us", "srv_cpu_us", "p50/ref")
	var ref time.Duration
	for i, s := range list {
		sort.Slice(s.samples, func(a, b int) bool { return s.samples[a] < s.samples[b] })
		p50 := percentile(s.samples, 0.5)
		if i == 0 {
			ref = p50
		}
		cpu := "-"
		if s.pid != 0 {
			cpu = fmt.Sprintf("%.0f", s.cpu*1e6/float64(len(s.samples)))
		}
		fmt.Printf("%-28s %8.0f %8.0f %8.0f %12s %8.2f\n", s.label, us(p50), us(percentile(s.samples, 0.9)),
			us(percentile(s.samples, 0.99)), cpu, float64(p50)/float64(ref))
	}
	os.Exit(0)
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
