#include "status/archive_status_publisher.h"

#include <filesystem>
#include <fstream>

#include <doctest/doctest.h>

using namespace cnpgi_pgbackrest;

TEST_CASE("Only the sidecar of the Cluster's primary publishes the Archive status") {
  std::string pgdata = std::filesystem::temp_directory_path() / "cnpgi-status-publisher-test";
  std::filesystem::create_directories(pgdata);
  ClusterView cluster;
  cluster.current_primary = "cluster-example-1";
  CHECK(PublishesStatus(cluster, "cluster-example-1", pgdata));
  CHECK_FALSE(PublishesStatus(cluster, "cluster-example-2", pgdata));  // a standby
  // A demoted primary whose Cluster JSON still names it: PostgreSQL there is about to be a standby.
  std::ofstream(pgdata + "/standby.signal");
  CHECK_FALSE(PublishesStatus(cluster, "cluster-example-1", pgdata));
  std::filesystem::remove(pgdata + "/standby.signal");
  cluster.current_primary.clear();  // bootstrap: no primary yet
  CHECK_FALSE(PublishesStatus(cluster, "cluster-example-1", pgdata));
  std::filesystem::remove_all(pgdata);
  CHECK(ArchivePath("db", "store") == "/apis/pgbackrest.cnpg.opera.com/v1/namespaces/db/archives/store");
}
