//! Live differential test of the `iptables` command: each scenario runs in
//! a fresh namespace with the real iptables-nft and with `ironwall
//! iptables --rules F`; after every command the exit code, stdout, stderr
//! (version prefix normalised) and the `iptables-save` output must agree,
//! and a failed command must leave the rules file byte-identical.

mod common;

use common::{words, Twin};

/// Scenarios: a name and the commands (arguments after `iptables`).
const SCENARIOS: &[(&str, &[&str])] = &[
    // Rule commands on missing chains and tables.
    ("append-missing-chain", &["-A NOPE -j ACCEPT"]),
    (
        "insert-missing-chain",
        &["-I NOPE -j ACCEPT", "-I NOPE 2 -j ACCEPT"],
    ),
    ("replace-missing-chain", &["-R NOPE 1 -j ACCEPT"]),
    ("delete-missing-chain", &["-D NOPE -j ACCEPT", "-D NOPE 1"]),
    (
        "check-missing-chain",
        &["-C NOPE -j ACCEPT", "-C INPUT -j ACCEPT"],
    ),
    (
        "append-then-check",
        &[
            "-A INPUT -s 1.2.3.4 -j DROP",
            "-C INPUT -s 1.2.3.4 -j DROP",
            "-C INPUT -s 1.2.3.5 -j DROP",
        ],
    ),
    // Rule numbers.
    (
        "insert-too-big",
        &[
            "-I INPUT 2 -j ACCEPT",
            "-I INPUT 1 -j ACCEPT",
            "-I INPUT 3 -j DROP",
            "-I INPUT 2 -j DROP",
        ],
    ),
    ("insert-zero", &["-I INPUT 0 -j ACCEPT"]),
    (
        "insert-bad-number",
        &[
            "-I INPUT x -j ACCEPT",
            "-I INPUT -1 -j ACCEPT",
            "-I INPUT 0x2 -j ACCEPT",
        ],
    ),
    (
        "replace-too-big",
        &[
            "-R INPUT 1 -j ACCEPT",
            "-A INPUT -j ACCEPT",
            "-R INPUT 2 -j DROP",
            "-R INPUT 1 -j DROP",
            "-R INPUT 5 -j DROP",
        ],
    ),
    ("replace-no-number", &["-R INPUT -j DROP"]),
    (
        "delete-num-too-big",
        &[
            "-D INPUT 1",
            "-A INPUT -j ACCEPT",
            "-D INPUT 2",
            "-D INPUT 1",
            "-D INPUT 0",
        ],
    ),
    (
        "delete-by-spec",
        &[
            "-A INPUT -p tcp --dport 22 -j ACCEPT",
            "-D INPUT -p tcp --dport 23 -j ACCEPT",
            "-D INPUT -p tcp --dport 22 -j ACCEPT",
            "-D INPUT -p tcp --dport 22 -j ACCEPT",
        ],
    ),
    (
        "delete-num-extra",
        &["-A INPUT -j ACCEPT", "-D INPUT 1 -j ACCEPT"],
    ),
    ("delete-num-fresh-user", &["-N A", "-D A 1"]),
    // Chains.
    ("new-chain-twice", &["-N A", "-N A"]),
    ("new-chain-builtin-name", &["-N INPUT"]),
    (
        "new-chain-bad-names",
        &[
            "-N -x",
            "-N ACCEPT",
            "-N DROP",
            "-N RETURN",
            "-N 'a b'",
            "-N !x",
        ],
    ),
    (
        "new-chain-too-long",
        &[
            "-N ABCDEFGHIJKLMNOPQRSTUVWXYZ12",
            "-N ABCDEFGHIJKLMNOPQRSTUVWXYZ123",
            "-L ABCDEFGHIJKLMNOPQRSTUVWXYZ123",
        ],
    ),
    (
        "new-chain-in-tables",
        &[
            "-t nat -N A",
            "-t raw -N A",
            "-t mangle -N B",
            "-t security -N C",
        ],
    ),
    ("delete-chain-builtin", &["-X INPUT", "-X NOPE"]),
    (
        "delete-chain-referenced",
        &[
            "-N A",
            "-A INPUT -j A",
            "-X A",
            "-X",
            "-D INPUT -j A",
            "-X A",
        ],
    ),
    (
        "delete-chain-nonempty",
        &["-N A", "-A A -j ACCEPT", "-X A", "-X", "-F A", "-X"],
    ),
    ("delete-all-chains", &["-N A", "-N B", "-X", "-X"]),
    (
        "rename-chain",
        &["-N A", "-E A B", "-E B B", "-E NOPE C", "-N C", "-E B C"],
    ),
    ("rename-to-builtin", &["-N A", "-E A INPUT"]),
    (
        "rename-builtin",
        &["-E INPUT B", "-A B -j ACCEPT", "-E B INPUT"],
    ),
    (
        "rename-referenced",
        &["-N A", "-A INPUT -j A", "-E A B", "-L INPUT"],
    ),
    ("rename-bad-new", &["-N A", "-E A -x", "-E A"]),
    (
        "policy",
        &[
            "-P INPUT DROP",
            "-P A DROP",
            "-N A",
            "-P A DROP",
            "-P INPUT FOO",
            "-P A FOO",
            "-P NOPE accept",
            "-P INPUT -",
            "-P INPUT !",
            "-t nat -P NOPE DROP",
            "-P INPUT",
            "-P INPUT RETURN",
            "-P INPUT accept",
            "-P FORWARD ACCEPT",
        ],
    ),
    (
        "policy-nat",
        &["-t nat -P PREROUTING DROP", "-t nat -P PREROUTING ACCEPT"],
    ),
    // Listings on fresh and unknown tables.
    (
        "list-missing",
        &[
            "-L NOPE",
            "-S NOPE",
            "-L NOPE 1",
            "-S INPUT 1",
            "-L INPUT 1",
        ],
    ),
    (
        "list-fresh-tables",
        &[
            "-t nat -L",
            "-t raw -S",
            "-t mangle -L -n",
            "-t security -L -v",
        ],
    ),
    (
        "unknown-table",
        &[
            "-t foo -L",
            "-t foo -A INPUT -j ACCEPT",
            "-t foo -N A",
            "-t Filter -L",
        ],
    ),
    ("flush-fresh", &["-F"]),
    ("flush-fresh-nat", &["-t nat -F"]),
    ("zero-fresh", &["-Z"]),
    ("zero-fresh-raw", &["-t raw -Z"]),
    ("delete-chains-fresh", &["-X"]),
    ("delete-chains-fresh-mangle", &["-t mangle -X"]),
    ("flush-missing-chain", &["-F NOPE", "-Z NOPE", "-F INPUT"]),
    (
        "zero-rule-numbers",
        &[
            "-Z INPUT 5",
            "-A INPUT -j ACCEPT",
            "-Z INPUT 1",
            "-Z INPUT 2",
            "-Z INPUT 0",
        ],
    ),
    (
        "list-zero",
        &[
            "-A INPUT -j ACCEPT",
            "-L -Z",
            "-Z -L",
            "-L INPUT -Z",
            "-S -Z",
            "-L -Z -n -v",
            "-Z -S INPUT 1",
        ],
    ),
    // Jumps.
    (
        "jump-missing",
        &["-A INPUT -j NOPE", "-A INPUT -g NOPE", "-I INPUT -j nope"],
    ),
    ("goto", &["-N A", "-A INPUT -g A", "-L INPUT", "-S"]),
    (
        "loop",
        &[
            "-N A",
            "-N B",
            "-A A -j B",
            "-A B -j A",
            "-A B -g A",
            "-A A -j A",
        ],
    ),
    (
        "loop-replace",
        &["-N A", "-N B", "-A A -j B", "-A B -j ACCEPT", "-R B 1 -j A"],
    ),
    (
        "target-empty",
        &[
            "-A INPUT -j ''",
            "-A INPUT -j ABCDEFGHIJKLMNOPQRSTUVWXYZ123",
        ],
    ),
    (
        "jump-builtin-chain",
        &["-A INPUT -j FORWARD", "-A INPUT -j OUTPUT"],
    ),
    // Option combinations.
    (
        "illegal-combos",
        &[
            "-A INPUT -n -j ACCEPT",
            "-L -s 1.2.3.4",
            "-F -v",
            "-F -n",
            "-N A -x",
            "-P INPUT DROP -n",
            "-D INPUT 1 -v",
            "-L -c 1 2",
            "-S -n",
            "-L --line-numbers -x -v -n",
        ],
    ),
    (
        "commands-together",
        &["-A INPUT -D INPUT", "-L -F", "-L -S", "-Z -F", "-N A -X A"],
    ),
    ("no-command", &["", "-n", "-v", "-s 1.2.3.4", "-t nat"]),
    (
        "bad-arguments",
        &[
            "-A INPUT foo",
            "-L INPUT 1 2",
            "-A",
            "-A INPUT -p",
            "-A INPUT --dport",
            "-Q",
        ],
    ),
    (
        "list-formats",
        &[
            "-A INPUT -s 10.0.0.0/8 -p tcp --dport 22 -j ACCEPT",
            "-N A",
            "-A INPUT -j A",
            "-L",
            "-L -n",
            "-L -v",
            "-L -x",
            "-L -vx",
            "-L -vnx --line-numbers",
            "-nvL",
            "-L --line-numbers",
            "-S -v",
            "-L INPUT 1 --line-numbers",
            "-S INPUT 1",
            "-S INPUT 2",
            "-L INPUT 3",
            "-S INPUT 9",
        ],
    ),
    (
        "verbose-commands",
        &[
            "-v -A INPUT -s 1.2.3.4 -p tcp --dport 22 -j ACCEPT",
            "-v -I INPUT -i eth0 ! -s 10.0.0.0/8 -j DROP",
            "-v -N A",
            "-v -A A -d 1.1.1.1,2.2.2.2 -j RETURN",
            "-v -R INPUT 1 -o lo -j ACCEPT",
            "-v -D INPUT 2",
            "-v -D A -d 1.1.1.1 -j RETURN",
            "-v -F A",
            "-v -F",
            "-v -Z",
            "-v -Z INPUT",
            "-v -X A",
            "-v -P INPUT DROP",
            "-v -E",
        ],
    ),
    (
        "verbose-more",
        &[
            "-v -N A",
            "-v -N B",
            "-v -X",
            "-v -t nat -F",
            "-v -A INPUT -f -p udp --sport 53 -j ACCEPT",
            "-v -A INPUT -p icmp -j ACCEPT",
            "-v -C INPUT -p icmp -j ACCEPT",
            "-v -A INPUT ! -p tcp ! -i lo+ -j ACCEPT",
        ],
    ),
    (
        "version-help",
        &["-V", "--version", "-V -L", "-h", "--help"],
    ),
    (
        "family-flags",
        &[
            "-4 -A INPUT -j ACCEPT",
            "-6 -A INPUT -j ACCEPT",
            "--ipv4 -L INPUT",
            "--ipv6 -L",
        ],
    ),
    // Addresses.
    (
        "multi-address",
        &[
            "-A INPUT -s 1.1.1.1,2.2.2.2 -d 3.3.3.3,4.4.4.4 -j ACCEPT",
            "-L -n",
            "-D INPUT -s 2.2.2.2,1.1.1.1 -d 4.4.4.4 -j ACCEPT",
            "-C INPUT -s 1.1.1.1,2.2.2.2 -d 3.3.3.3 -j ACCEPT",
            "-D INPUT -s 1.1.1.1,2.2.2.2 -d 3.3.3.3,4.4.4.4 -j ACCEPT",
        ],
    ),
    (
        "multi-address-insert",
        &[
            "-A INPUT -j DROP",
            "-I INPUT 1 -s 1.1.1.1,2.2.2.2 -j ACCEPT",
            "-R INPUT 1 -s 1.1.1.1,2.2.2.2 -j ACCEPT",
            "-A INPUT ! -s 1.1.1.1,2.2.2.2 -j ACCEPT",
            "-A INPUT -s 1.1.1.1,1.1.1.1 -j ACCEPT",
        ],
    ),
    (
        "addresses-odd",
        &[
            "-A INPUT -s 1.2.3.4/33 -j ACCEPT",
            "-A INPUT -s 1.2.3.4/255.255.0.0 -j ACCEPT",
            "-A INPUT -s 1.2.3.4/255.0.255.0 -j ACCEPT",
            "-A INPUT -s 1.2.3 -j ACCEPT",
            "-A INPUT -s 300.1.1.1 -j ACCEPT",
            "-A INPUT -s localhost -j ACCEPT",
            "-A INPUT -d 0/0 -j ACCEPT",
            "-A INPUT -s '' -j ACCEPT",
            "-A INPUT -s 1.2.3.4/ -j ACCEPT",
            "-A INPUT -s 1.2.3.4/0 -j ACCEPT",
            "-S",
        ],
    ),
    // Inversion placement.
    (
        "invert",
        &[
            "-A INPUT ! -s 1.2.3.4 -j ACCEPT",
            "-A INPUT -s ! 1.2.3.4 -j ACCEPT",
            "-A INPUT ! ! -s 1.2.3.4 -j ACCEPT",
            "-A INPUT ! -j ACCEPT",
            "! -A INPUT -j ACCEPT",
            "-A INPUT -p tcp ! --dport 22 -j ACCEPT",
            "-A INPUT -p tcp --dport ! 22 -j ACCEPT",
            "-A INPUT -j ACCEPT !",
            "-A INPUT ! -p all -j ACCEPT",
            "-A INPUT ! -f -j ACCEPT",
            "-S",
        ],
    ),
    // getopt corner cases.
    (
        "getopt",
        &[
            "-AINPUT -jACCEPT",
            "-vnL",
            "-nvL INPUT",
            "-Lnv",
            "--append=INPUT --jump=DROP",
            "--app INPUT -j DROP",
            "--list-r",
            "--li",
            "--line -L",
            "-A INPUT -p tcp --dp 22 -j ACCEPT",
            "-A INPUT -p tcp --d 22 -j ACCEPT",
            "-A INPUT -p tcp --dport=23 -j ACCEPT",
            "-L -- INPUT",
            "-- -L",
            "-S",
            "--verbose=1 -L",
            "-L INPUT --numeric",
        ],
    ),
    (
        "getopt-more",
        &[
            "-Ln INPUT",
            "-LINPUT -n",
            "-AINPUT -p tcp -m tcp --sport 1 -jACCEPT",
            "-A INPUT -ptcp --dport 5 -j ACCEPT",
            "-A INPUT -p TCP --dport 6 -j ACCEPT",
            "-A INPUT -s1.2.3.4 -jDROP",
            "-S",
        ],
    ),
    (
        "repeated-options",
        &[
            "-A INPUT -s 1.1.1.1 -s 2.2.2.2 -j ACCEPT",
            "-A INPUT -p tcp -p udp",
            "-A INPUT -j ACCEPT -j DROP",
            "-A INPUT -i lo -i eth0",
            "-L -n -n",
            "-L -v -v",
            "-t nat -t filter -L",
        ],
    ),
    (
        "interfaces",
        &[
            "-A INPUT -i '' -j ACCEPT",
            "-A INPUT -i eth+ -j ACCEPT",
            "-A INPUT -o eth0 -j ACCEPT",
            "-A OUTPUT -i eth0 -j ACCEPT",
            "-A FORWARD -i abcdefghijklmnop -j ACCEPT",
            "-A FORWARD -i abcdefghijklmnopq -j ACCEPT",
            "-A FORWARD -o a.b:c -j ACCEPT",
            "-S",
        ],
    ),
    (
        "protocols",
        &[
            "-A INPUT -p foo",
            "-A INPUT -p 256",
            "-A INPUT -p 0 -j ACCEPT",
            "-A INPUT -p ICMP -j ACCEPT",
            "-A INPUT -p 6 --dport 1 -j ACCEPT",
            "-A INPUT -p udp --dport 1:2 -j ACCEPT",
            "-A INPUT --dport 1",
            "-S",
        ],
    ),
    (
        "matches",
        &[
            "-A INPUT -m nope",
            "-A INPUT -m tcp --dport 1",
            "-A INPUT -p udp -m tcp --dport 2",
            "-A INPUT -m comment --comment hi -j ACCEPT",
            "-A INPUT -m comment",
            "-S",
        ],
    ),
    (
        "counters-option",
        &[
            "-A INPUT -c 5 6 -j ACCEPT",
            "-I INPUT -c 7,8 -j ACCEPT",
            "-A INPUT -c x 1",
            "-A INPUT -c 1",
            "-S -v",
            "-L -v -x",
            "-Z INPUT 2",
            "-L -v -x",
            "-Z",
            "-S -v",
        ],
    ),
    (
        "nat-drop",
        &[
            "-t nat -A PREROUTING -j DROP",
            "-t nat -P OUTPUT DROP",
            "-t nat -A POSTROUTING -j ACCEPT",
        ],
    ),
    ("wait", &["-w -L", "-w 1 -L", "-W 1 -L", "-w -W 5 -L"]),
    (
        "flush-chain-fresh-nat",
        &[
            "-t nat -F PREROUTING",
            "-t raw -Z OUTPUT",
            "-t mangle -L POSTROUTING",
        ],
    ),
    (
        "loop-from-base",
        &[
            "-N A",
            "-N B",
            "-A A -j B",
            "-A B -j A",
            "-A INPUT -j A",
            "-I INPUT -j B",
            "-A FORWARD -g A",
            "-D A -j B",
            "-A INPUT -j A",
            "-A B -j A",
            "-S",
        ],
    ),
    (
        "loop-self",
        &[
            "-N A",
            "-A INPUT -j A",
            "-A A -j A",
            "-A A -g A",
            "-N B",
            "-A A -j B",
            "-I B -j A",
            "-R A 1 -j B",
            "-S",
        ],
    ),
    (
        "loop-deep",
        &[
            "-N A",
            "-N B",
            "-N C",
            "-A A -j B",
            "-A B -j C",
            "-A C -j RETURN",
            "-A OUTPUT -j A",
            "-A C -g A",
            "-I C 1 -j B",
            "-R C 1 -j A",
            "-S",
        ],
    ),
    (
        "jump-builtin-ops",
        &[
            "-A INPUT -j INPUT",
            "-A INPUT -j ACCEPT",
            "-I INPUT -j FORWARD",
            "-R INPUT 1 -j OUTPUT",
            "-D INPUT -j NOPE",
            "-C INPUT -j NOPE",
            "-C INPUT -j FORWARD",
            "-D INPUT -g FORWARD",
            "-I INPUT 2 -j FORWARD",
        ],
    ),
    (
        "insert-multi-positions",
        &[
            "-A INPUT -j DROP",
            "-A INPUT -j RETURN",
            "-I INPUT 2 -s 1.1.1.1,2.2.2.2 -j ACCEPT",
            "-I INPUT 5 -d 3.3.3.3,4.4.4.4 -j ACCEPT",
            "-I INPUT 8 -s 5.5.5.5,6.6.6.6 -j ACCEPT",
            "-I INPUT 7 -s 5.5.5.5,6.6.6.6 -j ACCEPT",
            "-S",
        ],
    ),
    (
        "delete-multi",
        &[
            "-A INPUT -s 1.1.1.1 -j ACCEPT",
            "-D INPUT -s 1.1.1.1,2.2.2.2 -j ACCEPT",
            "-A INPUT -s 2.2.2.2 -j ACCEPT",
            "-v -D INPUT -s 2.2.2.2,1.1.1.1 -j ACCEPT",
            "-S",
        ],
    ),
    (
        "delete-builtin-chain",
        &[
            "-A INPUT -j ACCEPT",
            "-X INPUT",
            "-P OUTPUT DROP",
            "-X OUTPUT",
            "-S",
        ],
    ),
    (
        "zero-fresh-chain",
        &[
            "-Z INPUT",
            "-Z INPUT 1",
            "-Z NOPE 1",
            "-N A",
            "-Z A 3",
            "-Z A",
            "-v -Z A 1",
        ],
    ),
    (
        "wait-values",
        &[
            "-w 0 -W 1 -L",
            "-w x -L",
            "-W x -L",
            "-w 5 -L",
            "-W 1000000 -w -L",
            "-w -W -L",
            "-w0 -L",
        ],
    ),
    ("version-combos", &["-n -V", "-V -x"]),
    (
        "rename-long",
        &["-N A", "-E A ABCDEFGHIJKLMNOPQRSTUVWXYZ12", "-S"],
    ),
    ("help-variants", &["-h", "--help", "-L -h", "-hx"]),
    (
        "target-names",
        &[
            "-A INPUT -j accept",
            "-A INPUT -j ABCDEFGHIJKLMNOPQRSTUVWXYZ12",
            "-N ABCDEFGHIJKLMNOPQRSTUVWXYZ12",
            "-A INPUT -j ABCDEFGHIJKLMNOPQRSTUVWXYZ12",
            "-A INPUT -j \"a b\"",
            "-S",
        ],
    ),
    (
        "policy-fresh-tables",
        &[
            "-t mangle -P POSTROUTING DROP",
            "-t raw -P PREROUTING DROP",
            "-t security -P FORWARD DROP",
            "-t raw -P INPUT DROP",
            "-t mangle -S",
        ],
    ),
    (
        "check-variants",
        &[
            "-A INPUT -p tcp --dport 22 -j ACCEPT",
            "-C INPUT -p tcp --dport 22 -j ACCEPT",
            "-C INPUT -p tcp --dport 22",
            "-C INPUT -p tcp -m tcp --dport 22 -j ACCEPT",
            "-C INPUT -p 6 --dport 22 -j ACCEPT",
            "-C INPUT -p tcp --dport ssh -j ACCEPT",
            "-C INPUT 1",
            "-v -C INPUT -p tcp --dport 22 -j ACCEPT",
        ],
    ),
    (
        "append-to-fresh-nat",
        &[
            "-t nat -A POSTROUTING -o eth0 -j ACCEPT",
            "-t nat -S",
            "-t nat -L -n -v",
        ],
    ),
    (
        "hosts",
        &[
            "-A INPUT -s localhost -j ACCEPT",
            "-A INPUT -d ip6-localhost -j ACCEPT",
            "-A INPUT -s nonexistent.invalid -j ACCEPT",
            "-L INPUT",
            "-S",
        ],
    ),
    (
        "illegal-more",
        &[
            "-S --line-numbers",
            "-F --line-numbers",
            "-Z -x",
            "-X -v -n",
            "-C INPUT -c 1 2 -j ACCEPT",
            "-D INPUT -c 1 2 -j ACCEPT",
            "-A INPUT -x -j ACCEPT",
            "-L -f",
            "-L -i lo",
            "-E A B -v",
            "-N A -v",
            "-P INPUT ACCEPT -c 1 2",
            "-P INPUT ACCEPT -v",
            "-L -j ACCEPT",
            "-S -x",
        ],
    ),
    (
        "multi-address-invert",
        &[
            "-A INPUT -s 1.1.1.1,2.2.2.2 ! -d 3.3.3.3 -j ACCEPT",
            "-A INPUT ! -s 1.1.1.1 -d 3.3.3.3,4.4.4.4 -j ACCEPT",
            "-A INPUT -s 1.1.1.0/24,1.1.1.1 -j ACCEPT",
            "-A INPUT -s 10.0.0.1/8,10.0.0.2/8 -j ACCEPT",
            "-S",
        ],
    ),
    (
        "iface-odd",
        &[
            "-A INPUT -i a/b -j ACCEPT",
            "-A INPUT -i + -j ACCEPT",
            "-A INPUT -i eth0+ -j ACCEPT",
            "-A INPUT ! -i eth0 -j ACCEPT",
            "-A FORWARD -i eth0 -o eth1 -j ACCEPT",
            "-ieth0 -A FORWARD",
            "-S",
            "-L -v",
        ],
    ),
    (
        "chain-names-odd",
        &[
            "-N a.b", "-N 123", "-N @x", "-N \"\"", "-N a:b", "-N ÄÖ", "-N a_b-c", "-S", "-L -n",
        ],
    ),
    (
        "missing-args",
        &[
            "-t",
            "-A INPUT -s",
            "-A INPUT -j",
            "-N",
            "-E",
            "-P",
            "-D",
            "-I",
            "-R INPUT",
            "-Z INPUT x",
            "-L INPUT x",
            "-S INPUT -1",
        ],
    ),
    (
        "long-options",
        &[
            "--append INPUT --source 1.2.3.4 --jump ACCEPT",
            "--insert INPUT 1 --destination 5.6.7.8 --jump DROP",
            "--list-rules",
            "--list INPUT --numeric --verbose --exact --line-numbers",
            "--delete INPUT 1",
            "--new-chain X",
            "--rename-chain X Y",
            "--delete-chain Y",
            "--policy INPUT DROP",
            "--zero",
            "--flush",
            "--table nat --list",
            "--src 1.1.1.1 --append INPUT",
            "--dst 2.2.2.2 --append INPUT",
            "--in-interface lo --append INPUT",
            "--protocol udp --append INPUT",
            "--fragment --append INPUT",
            "--goto Q --append INPUT",
            "--match comment --comment x --append INPUT",
            "--set-counters 3 4 --append INPUT",
            "-S -v",
            "--foo",
            "--dport 1",
            "--4 -L",
            "--ipv4 -S",
        ],
    ),
    (
        "order-of-errors",
        &[
            "-t foo -A NOPE -j NOPE",
            "-A NOPE -j NOPE2",
            "-N A -N B",
            "-A INPUT -j ACCEPT -p",
            "-A INPUT ! ",
            "-A INPUT ! ! -s 1.1.1.1",
            "-A INPUT -p tcp --dport 99999 -j ACCEPT",
            "-t nat -A INPUT -j DROP -m nope",
        ],
    ),
    (
        "flush-zero-verbose",
        &[
            "-N A",
            "-N B",
            "-A A -j B",
            "-v -Z",
            "-v -F B",
            "-v -X B",
            "-v -Z A",
            "-v -Z",
            "-t nat -v -Z",
            "-t raw -v -X",
            "-t nat -S",
        ],
    ),
    (
        "list-zero-more",
        &[
            "-A INPUT -c 10 20 -j ACCEPT",
            "-A INPUT -c 30 40 -j DROP",
            "-L INPUT 2 -Z -v -x",
            "-S -v",
            "-Z INPUT 1 -L -v -x",
            "-S -v",
            "-L -Z -v -x",
            "-S -v",
            "-S -Z INPUT",
            "-L INPUT -Z INPUT",
        ],
    ),
    (
        "lazy-builtins",
        &[
            "-N A",
            "-v -Z",
            "-D INPUT 1",
            "-R FORWARD 1 -j ACCEPT",
            "-Z OUTPUT",
            "-X INPUT",
            "-A INPUT -j FORWARD",
            "-v -F",
            "-A INPUT -j FORWARD",
            "-A INPUT -j ACCEPT",
            "-X",
            "-v -Z",
            "-Z OUTPUT",
            "-D OUTPUT 1",
            "-P OUTPUT DROP",
            "-v -Z",
            "-X OUTPUT",
            "-F FORWARD",
            "-v -Z",
            "-S",
            "-L -v",
        ],
    ),
    (
        "lazy-builtins-nat",
        &[
            "-t nat -A POSTROUTING -j ACCEPT",
            "-t nat -v -Z",
            "-t nat -Z INPUT 1",
            "-t nat -Z POSTROUTING 1",
            "-t nat -v -X",
            "-t nat -v -Z",
            "-t nat -F",
            "-t nat -v -Z",
            "-t nat -X",
            "-t nat -v -Z",
            "-t nat -S",
        ],
    ),
    (
        "lazy-builtins-policy",
        &[
            "-P INPUT DROP",
            "-v -Z",
            "-X",
            "-v -Z",
            "-P INPUT ACCEPT",
            "-X INPUT",
            "-v -Z",
            "-Z INPUT",
            "-I INPUT -j ACCEPT",
            "-v -Z",
        ],
    ),
    (
        "protocol-names",
        &[
            "-A INPUT -p 47",
            "-A INPUT -p gre -j ACCEPT",
            "-A INPUT ! -p 50 -j ACCEPT",
            "-A INPUT -p 253 -j ACCEPT",
            "-A INPUT -p ipv6-icmp -j ACCEPT",
            "-A INPUT -p IPv6-ICMP -j ACCEPT",
            "-A INPUT -p icmpv6 -j ACCEPT",
            "-v -A INPUT -p 47",
            "-S",
            "-L",
            "-L -n",
            "-D INPUT -p gre",
            "-D INPUT -p 47 -j ACCEPT",
        ],
    ),
    (
        "stray-words",
        &[
            "-D INPUT 1 2",
            "-A INPUT 1",
            "-L INPUT 0",
            "-S INPUT 1 x",
            "-F INPUT x",
            "-X A B",
            "-N A B",
            "-P INPUT DROP x",
            "-E A B C",
        ],
    ),
    (
        "replace-verbose",
        &[
            "-A INPUT -j ACCEPT",
            "-v -R INPUT 1 -i lo -s 1.2.3.0/24 -j DROP",
            "-R INPUT 1 -c 5 6 -j RETURN",
            "-S -v",
            "-v -R INPUT 2 -j DROP",
        ],
    ),
    (
        "getopt-long-args",
        &[
            "-A INPUT -j ACCEPT",
            "--list=INPUT",
            "--list-rules=INPUT",
            "--zero=INPUT",
            "--flush=INPUT",
            "--numeric=x -L",
            "--s 1.1.1.1 -A INPUT",
            "--so 1.1.1.1 -A INPUT",
            "--de 2.2.2.2 -A INPUT",
            "--in lo -A INPUT",
            "--pro tcp --sp 5 -A INPUT",
            "--ta nat -L",
            "-w5 -L",
            "-M /bin/true -L",
            "--modprobe=/bin/true -S",
            "--verb -S",
            "--ex -L",
            "--set 1 2 -A INPUT",
            "-S",
        ],
    ),
    (
        "getopt-ext-prefix",
        &[
            "-A INPUT -p tcp --sport 1 --dport 2 -j ACCEPT",
            "-A INPUT -p tcp --sp 3 --dp 4 -j ACCEPT",
            "-A INPUT -p tcp --s 3 -j ACCEPT",
            "-A INPUT -p udp -m tcp --dport 5 -j ACCEPT",
            "-A INPUT -p tcp -m udp --dport 6 -j ACCEPT",
            "-A INPUT -p tcp --tcp-f SYN SYN -j ACCEPT",
            "-A INPUT -p tcp ! --syn -j ACCEPT",
            "-A INPUT -m comment --comm x -m comment --comment y -j ACCEPT",
            "-S",
        ],
    ),
    (
        "addresses-more",
        &[
            "-A INPUT -s 1.2.3.4/24,localhost -j ACCEPT",
            "-A INPUT -d 10.0.0.0/255.255.255.255 -j ACCEPT",
            "-A INPUT -s 0.0.0.0/0,1.1.1.1 -j ACCEPT",
            "-A INPUT -s ::1 -j ACCEPT",
            "-A INPUT -s 1.2.3.4/-1 -j ACCEPT",
            "-A INPUT -s 1.2.3.4,, -j ACCEPT",
            "-A INPUT -s ,1.2.3.4 -j ACCEPT",
            "-A INPUT -s 1.2.3.4/8/8 -j ACCEPT",
            "-A INPUT -s 010.1.1.1 -j ACCEPT",
            "-A INPUT -s 0x7f.1 -j ACCEPT",
            "-A INPUT -s 4294967295 -j ACCEPT",
            "-A INPUT -s 1.300 -j ACCEPT",
            "-A INPUT -s 1.2.65535 -j ACCEPT",
            "-A INPUT -s 1.2.65536 -j ACCEPT",
            "-A INPUT -s 0x1.0x2.0x3.0x4 -j ACCEPT",
            "-A INPUT -s 4294967296 -j ACCEPT",
            "-A INPUT -s 1.0x -j ACCEPT",
            "-A INPUT -s 09 -j ACCEPT",
            "-A INPUT -s 1.2.3.4. -j ACCEPT",
            "-A INPUT -d 255.255.255.255/0.0.0.0 -j ACCEPT",
            "-S",
            "-L",
            "-L -n",
        ],
    ),
    (
        "verbose-print-forms",
        &[
            "-N A",
            "-v -A INPUT ! -f -j ACCEPT",
            "-v -A INPUT -g A",
            "-v -A INPUT -j A -c 5 6",
            "-v -A FORWARD -i eth+ ! -o lo -p udp ! --dport 53 -j DROP",
            "-v -A INPUT -s localhost -d 10.0.0.0/255.0.255.0",
            "-v -A INPUT -m comment --comment \"a b\" -j RETURN",
            "-v -I INPUT 2 -p tcp --tcp-flags SYN,ACK SYN -j ACCEPT",
            "-v -C INPUT -g A",
            "-v -D INPUT -g A",
            "-v -A INPUT -s 1.1.1.1,2.2.2.2 -j FORWARD",
            "-v -A INPUT -s 1.1.1.1,2.2.2.2 -j NOPE",
        ],
    ),
    (
        "list-rulenum-forms",
        &[
            "-A INPUT -c 1 2 -j ACCEPT",
            "-A INPUT -c 3 4 -j DROP",
            "-L -v -x -n --line-numbers INPUT 2",
            "-S -v INPUT 2",
            "-L INPUT 1 -Z -v",
            "-S -v",
            "-L INPUT -Z INPUT 2 -v",
            "-Z INPUT 2 -S INPUT -v",
            "-L --line-numbers INPUT 3",
            "-L FORWARD 1",
            "-S FORWARD 1",
            "-t nat -L INPUT 1 -Z",
        ],
    ),
    (
        "check-delete-forms",
        &[
            "-N A",
            "-A A -s 1.1.1.1 -j RETURN",
            "-C A -s 1.1.1.1/32 -j RETURN",
            "-C A -s 1.1.1.1/255.255.255.255 -j RETURN",
            "-C A -s 1.1.1.1 -j RETURN -c 1 2",
            "-D A -s 1.1.1.1 -j RETURN -c 1 2",
            "-D A -s 1.1.1.1",
            "-C A -s 1.1.1.1 -j RETURN -m comment --comment x",
            "-D A -s 1.1.1.1 -j RETURN",
            "-D A -s 1.1.1.1 -j RETURN",
            "-C A",
            "-D A",
        ],
    ),
    (
        "ext-targets-commands",
        &[
            "-N LOG",
            "-N DNAT",
            "-N REJECT",
            "-N MARK",
            "-v -A INPUT -p tcp -j LOG --log-prefix \"in \"",
            "-v -I INPUT -j REJECT",
            "-v -t nat -A PREROUTING -p tcp --dport 22 -j DNAT --to-destination 1.2.3.4:80",
            "-v -A INPUT -m conntrack --ctstate NEW,ESTABLISHED -j ACCEPT",
            "-v -C INPUT -j REJECT",
            "-v -D INPUT -j REJECT --reject-with icmp-port-unreachable",
            "-A INPUT -j DNAT --to-destination 1.2.3.4",
            "-t nat -N A",
            "-t nat -A A -j DNAT --to-destination 1.2.3.4",
            "-t nat -A POSTROUTING -j A",
            "-t nat -A OUTPUT -j A",
            "-v -t nat -L -n",
            "-S",
            "-t nat -S",
        ],
    ),
    (
        "ext-multi-insert",
        &[
            "-A INPUT -j DROP",
            "-A INPUT -j REJECT",
            "-I INPUT 2 -s 1.1.1.1,2.2.2.2 -j LOG",
            "-I INPUT 5 -d 3.3.3.3,4.4.4.4 -j REJECT",
            "-S",
        ],
    ),
    (
        "list-rulenum-fresh",
        &["-t nat -L PREROUTING 1", "-t nat -S OUTPUT 1"],
    ),
    // Warnings extensions print to stderr, with success or before an error.
    (
        "extension-warnings",
        &[
            "-A INPUT -j NFLOG --nflog-range 5",
            "-A INPUT -j REJECT --reject-with echo-reply",
            "-A INPUT -j REJECT --reject-with echo",
            "-A INPUT -m iprange --src-range 10.0.0.9-10.0.0.1",
            "-A FORWARD -m physdev --physdev-in eth/0",
            "-A INPUT -m set --set nosuch src",
        ],
    ),
];

#[test]
fn live_commands() {
    if !ironwall_lab::kernel_tests("live_commands") {
        return;
    }
    assert!(SCENARIOS.len() >= 60);
    let mut failures = Vec::new();
    // Two workers: the namespaces are independent.
    let chunks: Vec<&[(&str, &[&str])]> = SCENARIOS.chunks(SCENARIOS.len().div_ceil(2)).collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .iter()
            .map(|chunk| s.spawn(move || chunk.iter().flat_map(run_scenario).collect::<Vec<_>>()))
            .collect();
        for h in handles {
            failures.extend(h.join().expect("worker"));
        }
    });
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Runs one scenario; returns one text per mismatch.
fn run_scenario((name, cmds): &(&str, &[&str])) -> Vec<String> {
    let twin = Twin::new("cmd");
    let mut bad = Vec::new();
    for cmd in cmds.iter() {
        let args = words(cmd);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let before = twin.rules_bytes();
        let real = twin.real(&args);
        let ours = twin.ours(&args);
        if real != ours {
            bad.push(format!(
                "[{name}] iptables {cmd}\n  real: {real:?}\n  ours: {ours:?}"
            ));
        }
        if ours.0 != 0 && twin.rules_bytes() != before {
            bad.push(format!(
                "[{name}] iptables {cmd}: failed but changed the rules file"
            ));
        }
        let (rs, os) = (twin.real_save(), twin.ours_save());
        if rs != os {
            bad.push(format!(
                "[{name}] after iptables {cmd}: save differs\n  real: {rs:?}\n  ours: {os:?}"
            ));
        }
    }
    bad
}

/// iptables-restore inputs whose command lines fail: the errors of the
/// command parser and of applying, as iptables-restore words them.
const RESTORE_INPUTS: &[&str] = &[
    "*filter\n-A INPUT foo\nCOMMIT\n",
    "*filter\n-A INPUT -o eth0\nCOMMIT\n",
    "*filter\n-A INPUT -m comment\nCOMMIT\n",
    "*filter\n-L NOPE\nCOMMIT\n",
    "*filter\n-A INPUT -j NOPE\nCOMMIT\n",
    "*filter\n-6 -A INPUT\n-A INPUT -j ACCEPT\nCOMMIT\n",
    "*filter\n-A INPUT -p tcp --dport 99999\nCOMMIT\n",
    "*filter\n-A INPUT -s 1.2.3.4 -ptcp\nCOMMIT\n",
    "*filter\n:A - [0:0]\n-A A -j A\n-A INPUT -j A\nCOMMIT\n",
    "*filter\n-A INPUT --li\nCOMMIT\n",
    "*nat\n-A PREROUTING -j DROP\nCOMMIT\n",
];

#[test]
fn live_restore_command_errors() {
    if !ironwall_lab::kernel_tests("live_restore_command_errors") {
        return;
    }
    let mut bad = Vec::new();
    for input in RESTORE_INPUTS {
        let twin = Twin::new("rst");
        let (c, o, e) = twin.ns.restore(&[], input);
        let real = (c, o, common::normalize_prefix(&e));
        let ours = twin.ours_sub("iptables-restore", &[], Some(input));
        if real != ours {
            bad.push(format!("{input:?}\n  real: {real:?}\n  ours: {ours:?}"));
        }
        let (rs, os) = (twin.real_save(), twin.ours_save());
        if rs != os {
            bad.push(format!(
                "{input:?}: save differs\n  real: {rs:?}\n  ours: {os:?}"
            ));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
