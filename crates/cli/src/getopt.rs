//! `getopt_long` as glibc runs it for iptables-save and iptables-restore:
//! clustered short options, long options by unique prefix, `--opt=value`,
//! operands permuted to the end, and glibc's messages.

/// Whether an option takes an argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HasArg {
    /// No argument.
    No,
    /// A required argument (next word or attached).
    Required,
    /// An optional argument (attached only).
    Optional,
}

/// One long option: name, argument, the short letter it stands for.
pub type LongOpt = (&'static str, HasArg, char);

/// What getopt found, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// An option and its argument.
    Opt(char, Option<String>),
    /// A bad option: glibc's message (without the newline).
    Bad(String),
}

/// The parse: options in order (stopping after the first bad one) and the
/// operands.
#[derive(Debug, Default)]
pub struct Parsed {
    /// Options in order.
    pub items: Vec<Item>,
    /// Non-option words.
    pub operands: Vec<String>,
}

/// `short` is the getopt option string (`"bcvVthnM:T:wW"`).
pub fn getopt(prog: &str, args: &[String], short: &str, long: &[LongOpt]) -> Parsed {
    let mut out = Parsed::default();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if a == "--" {
            out.operands.extend(args[i..].iter().cloned());
            break;
        }
        let item = if let Some(body) = a.strip_prefix("--") {
            long_opt(prog, body, args, &mut i, long)
        } else if a.len() > 1 && a.starts_with('-') {
            let mut items = short_opts(prog, &a[1..], args, &mut i, short);
            let bad = items.iter().any(|x| matches!(x, Item::Bad(_)));
            out.items.append(&mut items);
            if bad {
                return out;
            }
            continue;
        } else {
            out.operands.push(a.clone());
            continue;
        };
        let bad = matches!(item, Item::Bad(_));
        out.items.push(item);
        if bad {
            return out;
        }
    }
    out
}

fn long_opt(prog: &str, body: &str, args: &[String], i: &mut usize, long: &[LongOpt]) -> Item {
    let (name, inline) = match body.split_once('=') {
        Some((n, v)) => (n, Some(v.to_string())),
        None => (body, None),
    };
    let exact = long.iter().find(|(n, _, _)| *n == name);
    let cands: Vec<&LongOpt> = long
        .iter()
        .filter(|(n, _, _)| n.starts_with(name))
        .collect();
    let opt = match (exact, cands.as_slice()) {
        (Some(o), _) => o,
        (None, []) => return Item::Bad(format!("{prog}: unrecognized option '--{name}'")),
        (None, [o]) => o,
        (None, [first, rest @ ..]) => {
            if rest.iter().all(|o| o.1 == first.1 && o.2 == first.2) {
                first
            } else {
                let names: Vec<String> = cands.iter().map(|o| format!("'--{}'", o.0)).collect();
                return Item::Bad(format!(
                    "{prog}: option '--{name}' is ambiguous; possibilities: {}",
                    names.join(" ")
                ));
            }
        }
    };
    let (full, has, c) = *opt;
    match has {
        HasArg::No if inline.is_some() => Item::Bad(format!(
            "{prog}: option '--{full}' doesn't allow an argument"
        )),
        HasArg::No | HasArg::Optional => Item::Opt(c, inline),
        HasArg::Required => match inline.or_else(|| next(args, i)) {
            Some(v) => Item::Opt(c, Some(v)),
            None => Item::Bad(format!("{prog}: option '--{full}' requires an argument")),
        },
    }
}

fn next(args: &[String], i: &mut usize) -> Option<String> {
    let v = args.get(*i).cloned();
    if v.is_some() {
        *i += 1;
    }
    v
}

fn short_opts(prog: &str, cluster: &str, args: &[String], i: &mut usize, short: &str) -> Vec<Item> {
    let mut items = Vec::new();
    for (pos, c) in cluster.char_indices() {
        let spec = short.find(c).filter(|_| c != ':');
        let Some(at) = spec else {
            items.push(Item::Bad(format!("{prog}: invalid option -- '{c}'")));
            return items;
        };
        let colons = short[at + c.len_utf8()..]
            .chars()
            .take_while(|&x| x == ':')
            .count();
        let rest = &cluster[pos + c.len_utf8()..];
        match colons {
            0 => items.push(Item::Opt(c, None)),
            1 => {
                let arg = if rest.is_empty() {
                    next(args, i)
                } else {
                    Some(rest.to_string())
                };
                match arg {
                    Some(v) => items.push(Item::Opt(c, Some(v))),
                    None => items.push(Item::Bad(format!(
                        "{prog}: option requires an argument -- '{c}'"
                    ))),
                }
                return items;
            }
            _ => {
                let arg = (!rest.is_empty()).then(|| rest.to_string());
                items.push(Item::Opt(c, arg));
                return items;
            }
        }
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONG: &[LongOpt] = &[
        ("test", HasArg::No, 't'),
        ("table", HasArg::Required, 'T'),
        ("noflush", HasArg::No, 'n'),
    ];

    fn run(args: &[&str]) -> Parsed {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        getopt("p", &args, "tnT:", LONG)
    }

    #[test]
    fn glibc_forms() {
        let p = run(&["-tnTfilter", "f", "--tes", "--table=nat", "--noflush"]);
        assert_eq!(
            p.items,
            [
                Item::Opt('t', None),
                Item::Opt('n', None),
                Item::Opt('T', Some("filter".into())),
                Item::Opt('t', None),
                Item::Opt('T', Some("nat".into())),
                Item::Opt('n', None),
            ]
        );
        assert_eq!(p.operands, ["f"]);
        assert_eq!(
            run(&["--t"]).items,
            [Item::Bad(
                "p: option '--t' is ambiguous; possibilities: '--test' '--table'".into()
            )]
        );
        assert_eq!(
            run(&["-x"]).items,
            [Item::Bad("p: invalid option -- 'x'".into())]
        );
        assert_eq!(
            run(&["-T"]).items,
            [Item::Bad("p: option requires an argument -- 'T'".into())]
        );
        assert_eq!(
            run(&["--test=1"]).items,
            [Item::Bad(
                "p: option '--test' doesn't allow an argument".into()
            )]
        );
    }
}
