//! Restore + save of the largest shared ruleset (5,556 rules) by ironwall,
//! in process through the library, against the real `iptables-restore
//! --test` (iptables-nft 1.8.9) on the same file in a private namespace.
//!
//! `IRONWALL_KERNEL_TESTS=1 cargo bench --bench restore` as root; without
//! kernel tests only ironwall is measured. Ends with one line giving both
//! times and their ratio.

use criterion::{black_box, Criterion};
use ironwall_lab::{kernel_tests, shared, Netns};
use ironwall_model::addr::Family;
use ironwall_model::restore::{restore, RestoreOpts};
use ironwall_model::ruleset::Ruleset;
use ironwall_model::save;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const FILE: &str = "rulesets/net-network/tum_i8_2016-06-27.macfixed.save";

/// Restore into a fresh ruleset, then save it: the result's length, or the
/// refusal.
fn ours(text: &str) -> Result<usize, String> {
    let mut rs = Ruleset::new(Family::V4);
    restore(&mut rs, text, &RestoreOpts::default(), &[]).map_err(|e| e.message)?;
    Ok(save::save(&rs, None, false, "iptables-save", "-").len())
}

fn real(ns: &Netns, file: &str) {
    let out = ns.run("iptables-restore", &["--test", file], None);
    assert!(
        out.status.success(),
        "iptables-restore --test {file} failed"
    );
}

/// Median wall time of `runs` calls.
fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut v: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    v.sort();
    v[runs / 2]
}

fn main() {
    let Some(root) = shared("bench restore") else {
        return;
    };
    let path: PathBuf = root.join(FILE);
    let text = std::fs::read_to_string(&path).expect("reading the ruleset");
    let file = path.to_str().expect("UTF-8 path").to_string();
    if let Err(e) = ours(&text) {
        eprintln!("note: this build refuses {FILE}, so ironwall is timed up to the refusal:\n{e}");
    }
    let live = kernel_tests("bench iptables-restore --test");
    let ns = live.then(|| Netns::new("bench"));

    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(10)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    c.bench_function("ironwall restore+save (library)", |b| {
        b.iter(|| ours(black_box(&text)))
    });
    if let Some(ns) = &ns {
        c.bench_function("iptables-restore --test (ip netns exec)", |b| {
            b.iter(|| real(ns, &file))
        });
        c.bench_function("ip netns exec true (process overhead)", |b| {
            b.iter(|| ns.run("true", &[], None))
        });
    }
    c.final_summary();

    let ours_t = median(11, || {
        let _ = black_box(ours(&text));
    });
    let Some(ns) = &ns else {
        println!("ironwall restore+save {FILE}: {ours_t:.2?} (real iptables not measured)");
        return;
    };
    let real_t = median(11, || real(ns, &file));
    let base = median(11, || {
        ns.run("true", &[], None);
    });
    let real_net = real_t.saturating_sub(base);
    println!(
        "RATIO {FILE}: ironwall restore+save {ours_t:.2?} vs iptables-restore --test {real_t:.2?} \
         ({real_net:.2?} without the {base:.2?} process start): iptables/ironwall = {:.2} ({:.2} net)",
        real_t.as_secs_f64() / ours_t.as_secs_f64(),
        real_net.as_secs_f64() / ours_t.as_secs_f64(),
    );
}
