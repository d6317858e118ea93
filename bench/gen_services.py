#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Generates N services for the benchmark, all behind one backend, either as a weftd config
# or as a kube-proxy-shaped iptables-restore file (nat table) with the same virtual IPs.
"""usage:
  gen_services.py vip N INDEX
  gen_services.py weftd N --cgroup DIR --bpffs-root DIR --backend-port P --state-dir DIR
                  [--algorithm A] [--affinity-timeout S]
  gen_services.py iptables N --backend-port P
"""

import argparse
import ipaddress
import sys

VIP_BASE = ipaddress.IPv4Address("10.96.0.10")
VIP_RANGE = ipaddress.IPv4Network("10.96.0.0/16")
SERVICE_PORT = 80
BACKEND_ADDR = "127.0.0.1"


def vip(index):
    address = VIP_BASE + index
    if address not in VIP_RANGE:
        sys.exit(f"service {index}: vip {address} falls outside {VIP_RANGE}")
    return address


def weftd_config(count, cgroup, bpffs_root, backend_port, state_dir, algorithm="round_robin",
                 affinity_timeout=0):
    lines = [
        f"cgroup: {cgroup}",
        f"bpffs_root: {bpffs_root}",
        "registry:",
        f"  path: {state_dir}/registry.db",
        "api:",
        f"  socket: {state_dir}/weftd.sock",
        "log_level: info",
        f'vip_ranges: ["{VIP_RANGE}"]',
        "services:",
    ]
    for i in range(count):
        lines += [
            f"  - name: svc-{i}",
            f"    vip: {vip(i)}",
            f"    port: {SERVICE_PORT}",
            "    protocol: tcp",
            f"    algorithm: {algorithm}",
        ]
        if affinity_timeout:
            lines.append(f"    affinity_timeout_seconds: {affinity_timeout}")
        lines += [
            "    backends:",
            f"      - address: {BACKEND_ADDR}",
            f"        port: {backend_port}",
        ]
    return lines


def iptables_rules(count, backend_port):
    # The shape kube-proxy programs: OUTPUT jumps to one services chain that matches every
    # virtual IP in turn, and each match jumps to a per-service chain holding the DNAT.
    chains = [":WEFTB-SERVICES - [0:0]"]
    rules = ["-A OUTPUT -m comment --comment bench-service-portals -j WEFTB-SERVICES"]
    for i in range(count):
        chain = f"WEFTB-SVC-{i}"
        chains.append(f":{chain} - [0:0]")
        rules.append(
            f"-A WEFTB-SERVICES -d {vip(i)}/32 -p tcp -m tcp --dport {SERVICE_PORT} -j {chain}"
        )
        rules.append(
            f"-A {chain} -p tcp -m tcp -j DNAT --to-destination {BACKEND_ADDR}:{backend_port}"
        )
    return ["*nat"] + chains + rules + ["COMMIT"]


def main():
    parser = argparse.ArgumentParser(usage=__doc__)
    parser.add_argument("kind", choices=["vip", "weftd", "iptables"])
    parser.add_argument("count", type=int)
    parser.add_argument("index", type=int, nargs="?", default=0)
    parser.add_argument("--cgroup")
    parser.add_argument("--state-dir", help="directory for the registry file and API socket")
    parser.add_argument("--bpffs-root")
    parser.add_argument("--backend-port", type=int)
    parser.add_argument("--algorithm", default="round_robin")
    parser.add_argument("--affinity-timeout", type=int, default=0,
                        help="session affinity idle timeout in seconds (0: off)")
    args = parser.parse_args()

    if args.count < 1:
        sys.exit(f"count {args.count}: must be at least 1")
    if args.kind == "vip":
        print(vip(args.index))
    elif args.kind == "weftd":
        if not (args.cgroup and args.bpffs_root and args.backend_port and args.state_dir):
            sys.exit("weftd: --cgroup, --bpffs-root, --backend-port and --state-dir are required")
        print("\n".join(weftd_config(args.count, args.cgroup, args.bpffs_root,
                                     args.backend_port, args.state_dir, args.algorithm,
                                     args.affinity_timeout)))
    else:
        if not args.backend_port:
            sys.exit("iptables: --backend-port is required")
        print("\n".join(iptables_rules(args.count, args.backend_port)))


if __name__ == "__main__":
    main()
