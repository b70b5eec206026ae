//! The matches limit, mark, recent, addrtype, set, owner, physdev,
//! rpfilter and sctp against the real iptables-nft: every command below
//! runs in a private namespace and in the model, which must agree on
//! success or failure (exit code, and the message of parameter errors and
//! kernel refusals), then on `-S`, `-L` and `-L -n -v` of every table used.
//!
//! Needs root and the kernel (`ironwall_lab::kernel_tests`).

use ironwall_lab::{kernel_tests, normalize_prot, Netns};
use ironwall_model::addr::Family;
use ironwall_model::ext::set::IpSet;
use ironwall_model::ruleset::Ruleset;
use ironwall_model::run_iptables;

/// The ipsets made in the namespace, and known to the model with their
/// families.
const SETS: &[(&str, &str)] = &[
    ("foo", "hash:ip"),
    ("bar", "hash:ip,port"),
    ("six", "hash:ip family inet6"),
    ("any", "list:set"),
];

/// Commands (words split at blanks, `''` for an empty word), each with
/// the exit code real iptables gives (a check that the test exercises what
/// it means to).
const COMMANDS: &[(&str, i32)] = &[
    // limit: defaults, units and their prefixes, burst 0 (the kernel's 5),
    // rates rounded through the nft conversion, abbreviated options.
    ("-A INPUT -m limit", 0),
    ("-A INPUT -m limit --limit 7/sec --limit-burst 0", 0),
    ("-A INPUT -m limit --limit 3/m --limit-burst 10000", 0),
    ("-A INPUT -m limit --limit 9999/s", 0),
    ("-A INPUT -m limit --limit 2000/d", 0),
    ("-A INPUT -m limit --limit 40/Hour", 0),
    ("-A INPUT -m limit --limit=5 --limit-b 7", 0),
    ("-A INPUT -m limit --lim 5", 2),
    ("-A INPUT -m limit --limit 10001/sec", 2),
    ("-A INPUT -m limit --limit 5/", 2),
    ("-A INPUT -m limit --limit x", 2),
    ("-A INPUT -m limit ! --limit 1/s", 2),
    ("-A INPUT -m limit --limit-burst 10001", 2),
    ("-A INPUT -m limit --limit 1/s --limit 2/s", 2),
    ("-D INPUT -m limit --limit 9999/s", 0),
    ("-C INPUT -m limit --limit 3/hour --limit-burst 5", 0),
    // mark: value/mask, inversion, numbers in all bases.
    ("-A INPUT -m mark --mark 0xff/0x0f", 0),
    ("-A INPUT -m mark ! --mark 1", 0),
    ("-A INPUT -m mark --mark 0/0", 0),
    ("-A INPUT -m mark --mark 010/0x10", 0),
    ("-A INPUT -m mark --mark 4294967295", 0),
    ("-C INPUT -m mark --mark 0xffffffff/0xffffffff", 0),
    ("-A INPUT -m mark --mark 5/", 2),
    ("-A INPUT -m mark --mark 5x", 2),
    ("-A INPUT -m mark --mark 4294967296", 2),
    ("-A INPUT -m mark --mark -1", 2),
    ("-A INPUT -m mark", 2),
    // recent: operations, conditions, sides, masks; kernel refusals.
    ("-A INPUT -m recent --set", 0),
    ("-A INPUT -m recent --rcheck --seconds 60 --hitcount 3 --name SSH --rsource", 0),
    ("-A INPUT -m recent ! --update --rttl --rdest --mask 255.255.0.0 --name X", 0),
    ("-A INPUT -m recent --rcheck --seconds 10 --reap", 0),
    ("-A INPUT -m recent --remove --name Y", 0),
    ("-A INPUT -m recent --update --mask 0x12", 0),
    ("-A INPUT -m recent --update --seconds 4294967295", 0),
    ("-A INPUT -m recent --rcheck --hitcount 999", 0),
    ("-A INPUT -m recent --set --seconds 5", 4),
    ("-A INPUT -m recent --rcheck --name ''", 4),
    ("-A INPUT -m recent --rcheck --name a/b", 4),
    ("-A INPUT -m recent --reap", 2),
    ("-A INPUT -m recent --rcheck --reap", 2),
    ("-A INPUT -m recent --set --rcheck", 2),
    ("-A INPUT -m recent --set --rttl", 2),
    ("-A INPUT -m recent --update ! --rttl", 2),
    ("-A INPUT -m recent --update --seconds 0", 2),
    ("-A INPUT -m recent --update --mask ::1", 2),
    // addrtype: type lists and prefixes, interface limits per hook; a user
    // chain is checked without a hook.
    ("-A INPUT -m addrtype ! --src-type loc,uni,B --dst-type multicast,UNSPEC", 0),
    ("-A FORWARD -m addrtype --src-type LOCAL --limit-iface-in", 0),
    ("-A INPUT -m addrtype --src-type LOCAL --limit-iface-out", 4),
    ("-A OUTPUT -m addrtype --dst-type LOCAL --limit-iface-in", 4),
    ("-A INPUT -m addrtype --src-type LOCAL,", 2),
    ("-A INPUT -m addrtype --src-type ,LOCAL", 2),
    ("-A INPUT -m addrtype --limit-iface-in", 2),
    ("-A INPUT -m addrtype --limit-iface-in --limit-iface-out", 2),
    ("-A INPUT -m addrtype --src-type LOCAL --limit-iface-in --limit-iface-out", 2),
    ("-N ADDR", 0),
    ("-A ADDR -m addrtype --src-type LOCAL --limit-iface-out", 0),
    ("-A INPUT -j ADDR", 0),
    // owner: names and numbers, ranges, inversion; OUTPUT and POSTROUTING
    // only, also through a jump.
    ("-A OUTPUT -m owner --uid-owner root", 0),
    ("-A OUTPUT -m owner --uid-owner 0-10 ! --gid-owner daemon", 0),
    ("-A OUTPUT -m owner ! --socket-exists --gid-owner 3-3 --suppl-groups", 0),
    ("-A OUTPUT -m owner --uid-owner 16 --gid-owner 8", 0),
    ("-A OUTPUT -m owner --uid-owner 5:7", 0),
    ("-t nat -A POSTROUTING -m owner --uid-owner 0", 0),
    ("-A INPUT -m owner --uid-owner 0", 4),
    ("-I INPUT -m owner --uid-owner 0", 4),
    ("-A OUTPUT -m owner --uid-owner 10-5", 4),
    ("-t nat -A PREROUTING -m owner --uid-owner 0", 4),
    ("-A OUTPUT -m owner --uid-owner nosuchuser", 2),
    ("-A OUTPUT -m owner --uid-owner 4294967295", 2),
    ("-A OUTPUT -m owner --suppl-groups --gid-owner 1", 2),
    ("-A OUTPUT -m owner --gid-owner 1 ! --suppl-groups", 2),
    ("-A OUTPUT -m owner", 2),
    ("-C INPUT -m owner --uid-owner 0", 1),
    ("-N OWN", 0),
    ("-A OWN -m owner --uid-owner 0", 0),
    ("-A OUTPUT -j OWN", 0),
    ("-A INPUT -j OWN", 4),
    ("-N OWN2", 0),
    ("-A OWN2 -g OWN", 0),
    ("-I FORWARD -j OWN2", 4),
    // set: existing and missing sets, directions, counters.
    ("-A INPUT -m set --match-set foo src", 0),
    ("-A INPUT -m set ! --match-set bar dst,src --return-nomatch ! --update-counters ! --update-subcounters --packets-eq 5 --bytes-gt 100", 0),
    ("-A INPUT -m set --match-set foo src,dst,src,dst,src,dst", 0),
    ("-A INPUT -m set --match-set foo srcx", 0),
    ("-A INPUT -m set --match-set six src", 2),
    ("-A INPUT -m set --match-set any dst", 0),
    ("-A INPUT -j SET --del-set six src", 2),
    ("-A INPUT -m set ! --packets-eq 3 --match-set foo dst --bytes-lt 0x10", 0),
    ("-A INPUT -m set --match-set nosuch src", 2),
    ("-A INPUT -m set --match-set foo", 2),
    ("-A INPUT -m set --match-set foo src,,dst", 2),
    ("-A INPUT -m set --match-set foo src,dst,src,dst,src,dst,src", 2),
    ("-A INPUT -m set --match-set foo src ! --packets-lt 5", 2),
    ("-A INPUT -m set --match-set foo src --bytes-lt 1 --bytes-gt 2", 2),
    ("-A INPUT -m set --match-set foo src ! --return-nomatch", 2),
    ("-A INPUT -m set --match-set foo src --packets-eq -1", 2),
    ("-A INPUT -m set", 2),
    ("-A INPUT -m set --match-set aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa src", 2),
    // physdev: names and wildcards, inversions, output ports per hook.
    ("-A INPUT -m physdev ! --physdev-is-in --physdev-in eth+", 0),
    ("-A FORWARD -m physdev --physdev-out lo ! --physdev-is-out", 0),
    ("-A OUTPUT -m physdev --physdev-out lo --physdev-is-bridged", 0),
    ("-t mangle -A POSTROUTING -m physdev --physdev-out br0", 0),
    ("-A OUTPUT -m physdev --physdev-out lo", 4),
    ("-A OUTPUT -m physdev --physdev-is-out ! --physdev-is-bridged", 4),
    ("-A INPUT -m physdev --physdev-in 0123456789abcdef", 2),
    ("-A INPUT -m physdev", 2),
    // rpfilter: raw and mangle PREROUTING only.
    ("-t raw -A PREROUTING -m rpfilter --invert --accept-local --validmark --loose", 0),
    ("-t mangle -A PREROUTING -m rpfilter", 0),
    ("-A INPUT -m rpfilter", 4),
    ("-t mangle -A INPUT -m rpfilter", 4),
    ("-t raw -A PREROUTING -m rpfilter ! --loose", 2),
    ("-t raw -A PREROUTING -m rpfilter --loose --loose", 2),
    ("-t mangle -N RPF", 0),
    ("-t mangle -A RPF -m rpfilter", 0),
    ("-t mangle -A INPUT -j RPF", 4),
    ("-t mangle -A PREROUTING -j RPF", 0),
    // Abbreviated options.
    ("-A OUTPUT -m owner --uid 0 --gid-o 1-2", 0),
    ("-A INPUT -m addrtype --src-t LOCAL --dst-t BROADCAST", 0),
    ("-A INPUT -m addrtype --src-t LOCAL --dst BROADCAST", 2),
    ("-A INPUT -m set --match-s foo dst --return", 0),
    ("-A FORWARD -m physdev --physdev-is-b --physdev-o eth0", 0),
    ("-A INPUT -m recent --rch --sec 5 --hit 2 --na Z", 0),
    ("-A INPUT -m recent --upd --mask 255.0.0.0 --rd", 0),
    ("-A INPUT -m mark --mar 3/3", 0),
    ("-A INPUT -m mark --ma 3/3", 2),
    ("-A INPUT -p sctp --sp 1 --chunk only INIT", 0),
    ("-A INPUT -p sctp --so 1:2 --de 3", 2),
    // sctp: ports, chunk lists with flags, ALL/NONE, implicit loading.
    ("-A INPUT -p sctp --sport 0:65535 ! --dport 80:90 --chunk-types any DATA:iUbE,INIT,ABORT:t,I_DATA:I,SHUTDOWN_COMPLETE:T", 0),
    ("-A INPUT -p sctp ! --chunk-types only ALL", 0),
    ("-A INPUT -p sctp --chunk-types ANY none", 0),
    ("-A INPUT -p sctp --chunk-types all data,init_ack,,asconf", 0),
    ("-A INPUT -p 132 --sport 22", 0),
    ("-A INPUT -p sctp -m sctp", 0),
    ("-A INPUT -p sctp --dport 5000:", 0),
    ("-A INPUT -m sctp --dport 5", 4),
    ("-A INPUT -m tcp", 4),
    ("-A INPUT -p tcp -m sctp", 4),
    ("-A INPUT -p sctp --chunk-types all DATA:x", 2),
    ("-A INPUT -p sctp --chunk-types some DATA", 2),
    ("-A INPUT -p sctp --chunk-types all", 2),
    ("-A INPUT -p sctp --sport 5 --sport 6", 2),
    ("-A INPUT -p sctp --dport 90:80", 2),
];

/// Commands iptables accepts but whose save it could not restore, which
/// the model refuses (DECISIONS.md 7): (command, real exit code, model's).
/// The real rule is deleted again so that the listings still compare.
const DECIDED: &[(&str, i32, i32)] = &[
    (
        "-A INPUT -m physdev --physdev-in '' ! --physdev-is-bridged",
        0,
        2,
    ),
    ("-A INPUT -m physdev --physdev-out a\"b", 0, 2),
    ("-A INPUT -m recent --rcheck --name x'y", 0, 2),
];

/// IPv6 commands (ip6tables), where the extensions differ by family.
const COMMANDS6: &[(&str, i32)] = &[
    ("-A INPUT -m recent --set", 0),
    ("-A INPUT -m recent --update --mask ffff:ffff:: --rdest", 0),
    ("-A INPUT -m recent --update --mask 1.2.3.4", 2),
    (
        "-A INPUT -m addrtype --src-type LOCAL,UNICAST,ANYCAST,MULTICAST,UNREACHABLE",
        0,
    ),
    ("-A INPUT -m addrtype --src-type BROADCAST", 4),
    ("-A INPUT -m addrtype --dst-type BLACKHOLE", 4),
    ("-A INPUT -m addrtype --src-type PROHIBIT", 4),
    ("-A INPUT -m set --match-set six src", 0),
    ("-A INPUT -m set --match-set foo src", 2),
    ("-A INPUT -m set --match-set any src", 0),
    ("-A INPUT -j SET --add-set bar src,dst", 2),
    ("-A INPUT -p sctp --dport 5", 0),
    ("-A INPUT -m sctp --dport 5", 4),
    ("-A INPUT -m tcp", 4),
    ("-A INPUT -m mark --mark 5 -m limit", 0),
    ("-A OUTPUT -m owner --uid-owner 0", 0),
    ("-A INPUT -m owner --uid-owner 0", 4),
    ("-A INPUT -m rpfilter", 4),
    ("-t raw -A PREROUTING -m rpfilter --loose", 0),
];

/// A command's words: split at blanks, `''` standing for an empty word.
fn words(line: &str) -> Vec<&str> {
    line.split_whitespace()
        .map(|w| if w == "''" { "" } else { w })
        .collect()
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

/// The message of a real parameter error, without the program prefix.
fn real_message(stderr: &str) -> &str {
    let first = stderr.lines().next().unwrap_or("");
    first.split_once("): ").map_or(first, |(_, m)| m)
}

/// Runs `commands` with the real `prog` in `ns` and in a fresh model of
/// `family`, then the `decided` ones, then compares the listings of
/// `tables`; returns the problems.
fn compare(
    ns: &Netns,
    prog: &str,
    family: Family,
    sets: &[IpSet],
    commands: &[(&str, i32)],
    decided: &[(&str, i32, i32)],
    tables: &[&str],
) -> Vec<String> {
    let real = |args: &[&str]| ironwall_lab::triple(ns.run(prog, args, None));
    let mut rs = Ruleset::new(family);
    let mut problems = Vec::new();
    for (line, expect) in commands {
        let args = &words(line);
        let (code, _, err) = real(args);
        if code != *expect {
            problems.push(format!("real {prog} {args:?} exits {code}: {err}"));
        }
        let model = run_iptables(&mut rs, &strings(args), sets);
        let mcode = model.as_ref().map_or_else(|e| e.exit_code(), |_| 0);
        if mcode != code {
            problems.push(format!(
                "{prog} {args:?}: real exit {code} ({err}), model {model:?}"
            ));
        } else if let Err(e) = &model {
            let want = real_message(&err);
            let rendered = e.render(prog);
            let first = rendered.lines().next().unwrap_or("");
            let got = first.split_once("(ironwall): ").map_or(first, |(_, m)| m);
            if code != 1 && want != got {
                problems.push(format!(
                    "{prog} {args:?}: real says {want:?}, model {got:?}"
                ));
            }
        }
    }
    for (line, expect, model_code) in decided {
        let args = words(line);
        let (code, _, err) = real(&args);
        if code != *expect {
            problems.push(format!("real {prog} {args:?} exits {code}: {err}"));
        }
        if code == 0 {
            let mut undo = args.clone();
            undo[0] = "-D";
            real(&undo);
        }
        let model = run_iptables(&mut rs, &strings(&args), sets);
        let mcode = model.as_ref().map_or_else(|e| e.exit_code(), |_| 0);
        if mcode != *model_code {
            problems.push(format!("{prog} {args:?}: model {model:?}"));
        }
    }
    for table in tables {
        for (view, verbose) in [
            (&["-S"][..], false),
            (&["-L"], false),
            (&["-L", "-n", "-v"], true),
        ] {
            let mut args = vec!["-t", table];
            args.extend_from_slice(view);
            let (code, out, err) = real(&args);
            assert_eq!(code, 0, "real {prog} {args:?}: {err}");
            let out = if view.contains(&"-n") {
                normalize_prot(&out, verbose, false, false)
            } else {
                out
            };
            match run_iptables(&mut rs, &strings(&args), sets) {
                Ok(m) if m.stdout == out => {}
                Ok(m) => problems.push(format!(
                    "{prog} {args:?} differs:\n--- real\n{out}--- model\n{}",
                    m.stdout
                )),
                Err(e) => problems.push(format!("{prog} {args:?}: model failed: {e}")),
            }
        }
    }
    problems
}

#[test]
fn matches_b_agree_with_iptables_nft() {
    if !kernel_tests("live matches (limit, mark, recent, addrtype, set, owner, ...)") {
        return;
    }
    let ns = Netns::new("mb");
    for (name, kind) in SETS {
        let mut args = vec!["create", name];
        args.extend(kind.split(' '));
        let o = ns.run("ipset", &args, None);
        assert!(o.status.success(), "ipset create {name} failed");
    }
    let sets: Vec<IpSet> = SETS
        .iter()
        .map(|(name, kind)| {
            let family = match *kind {
                k if k.ends_with("inet6") => Some(Family::V6),
                k if k.starts_with("list:") => None,
                _ => Some(Family::V4),
            };
            IpSet::new(name, family)
        })
        .collect();
    let tables = ["filter", "nat", "mangle", "raw"];
    let mut problems = compare(
        &ns,
        "iptables",
        Family::V4,
        &sets,
        COMMANDS,
        DECIDED,
        &tables,
    );
    problems.extend(compare(
        &ns,
        "ip6tables",
        Family::V6,
        &sets,
        COMMANDS6,
        &[],
        &["filter", "raw"],
    ));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
