// The SimGrid side of `npm run compare:simgrid`: runs the comparison grid (RAM 1/4/16
// GiB x migration speed 1/10 Gbit/s x dirty intensity 0/20/50/80/95% of the migration
// speed) through SimGrid 3.32's own live-migration plugin (sg_vm_migrate: Hirofuchi et
// al.'s pre-copy model) and prints one JSON line per case, then a line with the wall
// time. Built by build.sh; the TypeScript side of the comparison is grid.ts.
//
// The platform mirrors virtlab's grid scenario: every case has its own pair of hosts
// joined by one 25 Gbit/s link whose latency is virtlab's path latency, so the cases
// share nothing and run side by side in one simulation. The network model is CM02
// with a TCP window that never binds and no cross traffic, so that a transfer of s bytes at rate r
// takes latency + s/r, as a virtlab flow does. Each VM runs one endless computation
// on a host of 1 Gflop/s: SimGrid's dirty-page tracking turns its computed flops into
// dirtied bytes at `intensity` x the migration speed, capped by the working set (0.9
// of RAM). Rounds are counted from the migration's transfers (every transfer on the
// migration mailbox but the last is a pre-copy round); downtime runs from the VM's
// suspension to its resumption on the destination.
//
// Usage: driver [repeats]. With repeats > 1 every VM then migrates back and forth
// that many times in all (for the speed figure: migrations per wall second, setup
// included); the printed results are those of each case's first migration.

#include <simgrid/plugins/live_migration.h>
#include <simgrid/s4u.hpp>

#include <chrono>
#include <ctime>
#include <cstdlib>
#include <cstdio>
#include <algorithm>
#include <map>
#include <string>
#include <vector>

namespace sg4 = simgrid::s4u;

namespace {

constexpr double kHostSpeed = 1e9;         // flop/s
constexpr double kLinkBandwidth = 25e9 / 8; // byte/s (virtlab's x86-64-server NIC)
constexpr double kLatency = 4.5e-6;         // s (virtlab's path latency within a rack)

struct Case {
  int ram_gib;
  int gbps;
  double intensity;
  sg4::Host* src = nullptr;
  sg4::Host* dst = nullptr;
  sg4::VirtualMachine* vm = nullptr;
  double start = -1;
  double end = -1;
  double suspended = -1;
  double resumed = -1;
  int transfers = 0;
};

std::vector<Case> cases;
std::map<std::string, size_t> case_of_vm;
int repeats = 1;
size_t migrations = 0;

void worker()
{
  // An endless computation: the VM dirties memory in proportion to the flops it computes.
  sg4::this_actor::execute(1e16);
}

void issuer(size_t i)
{
  Case& c = cases[i];
  c.start = sg4::Engine::get_clock();
  sg_vm_migrate(c.vm, c.dst);
  c.end = sg4::Engine::get_clock();
  migrations++;
  for (int k = 1; k < repeats; k++) {
    sg_vm_migrate(c.vm, k % 2 ? c.src : c.dst);
    migrations++;
  }
  c.vm->destroy();
}

} // namespace

int main(int argc, char** argv)
{
  auto wall0 = std::chrono::steady_clock::now();
  std::clock_t cpu0 = std::clock();
  sg4::Engine e(&argc, argv);
  if (argc > 1) repeats = std::max(1, std::atoi(argv[1]));
  e.set_config("network/model:CM02");
  e.set_config("network/crosstraffic:0");
  // A TCP window so large that it never bounds a transfer (0 would also drop the rate cap).
  e.set_config("network/TCP-gamma:1e15");
  sg_vm_live_migration_plugin_init();

  for (int ram : {1, 4, 16})
    for (int gbps : {1, 10})
      for (double in : {0.0, 0.2, 0.5, 0.8, 0.95})
        cases.push_back({ram, gbps, in});

  auto* zone = sg4::create_full_zone("grid");
  for (size_t i = 0; i < cases.size(); i++) {
    Case& c = cases[i];
    c.src = zone->create_host("src-" + std::to_string(i), kHostSpeed);
    c.dst = zone->create_host("dst-" + std::to_string(i), kHostSpeed);
    sg4::Link* link = zone->create_link("link-" + std::to_string(i), kLinkBandwidth)->set_latency(kLatency);
    zone->add_route(c.src->get_netpoint(), c.dst->get_netpoint(), nullptr, nullptr, {sg4::LinkInRoute(link)}, true);
  }
  zone->seal();

  sg4::VirtualMachine::on_suspend_cb([](sg4::VirtualMachine const& vm) {
    auto it = case_of_vm.find(vm.get_name());
    if (it != case_of_vm.end() && cases[it->second].suspended < 0) cases[it->second].suspended = sg4::Engine::get_clock();
  });
  sg4::VirtualMachine::on_resume_cb([](sg4::VirtualMachine const& vm) {
    auto it = case_of_vm.find(vm.get_name());
    if (it != case_of_vm.end() && cases[it->second].resumed < 0 && cases[it->second].suspended >= 0) cases[it->second].resumed = sg4::Engine::get_clock();
  });
  sg4::Comm::on_send_cb([](sg4::Comm const& comm) {
    const sg4::Mailbox* mb = comm.get_mailbox();
    if (mb == nullptr) return;
    const std::string& name = mb->get_name();
    if (name.rfind("__mbox_mig_ctl:", 0) == 0) return;
    for (auto& [vm, i] : case_of_vm)
      if (name.find(":" + vm + "(") != std::string::npos && cases[i].end < 0) cases[i].transfers++;
  });

  for (size_t i = 0; i < cases.size(); i++) {
    Case& c = cases[i];
    std::string name = "vm" + std::to_string(i);
    c.vm = c.src->create_vm(name, 1, static_cast<size_t>(c.ram_gib) << 30);
    case_of_vm[name] = i;
    double speed = c.gbps * 1e9 / 8;
    sg_vm_set_migration_speed(c.vm, speed);
    sg_vm_set_dirty_page_intensity(c.vm, c.intensity);
    sg_vm_set_working_set_memory(c.vm, static_cast<sg_size_t>((static_cast<size_t>(c.ram_gib) << 30) * 0.9));
    c.vm->start();
    if (getenv("DRIVER_DEBUG")) std::fprintf(stderr, "speed %g intensity %g ws %llu\n", sg_vm_get_migration_speed(c.vm), sg_vm_get_dirty_page_intensity(c.vm), (unsigned long long)sg_vm_get_working_set_memory(c.vm));
    sg4::Actor::create("worker-" + std::to_string(i), c.vm, worker);
    sg4::Actor::create("issuer-" + std::to_string(i), c.src, issuer, i);
  }

  e.run();
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  double cpu = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;

  for (const Case& c : cases) {
    bool ok = c.end >= 0;
    std::printf("{\"ramGiB\":%d,\"gbps\":%d,\"intensity\":%g,\"converged\":%s,\"timeS\":%.9g,\"rounds\":%d,\"downtimeMs\":%.9g}\n",
                c.ram_gib, c.gbps, c.intensity, ok ? "true" : "false", ok ? c.end - c.start : -1.0, c.transfers - 1,
                (c.resumed - c.suspended) * 1e3);
  }
  std::printf("{\"migrations\":%zu,\"wallS\":%.6f,\"cpuS\":%.6f}\n", migrations, wall, cpu);
  return 0;
}
