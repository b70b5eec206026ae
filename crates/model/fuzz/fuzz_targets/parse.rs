//! The iptables command line: words split on NUL bytes, run against a
//! fresh ruleset and then listed; must give Ok or Err, never panic.
#![no_main]

use ironwall_model::addr::Family;
use ironwall_model::ruleset::Ruleset;
use ironwall_model::run_iptables;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // Lines are commands, NUL separates words: several commands build up
    // a ruleset, then it is listed.
    let mut rs = Ruleset::new(Family::V4);
    for line in text.split('\n').take(8) {
        let args: Vec<String> = line.split('\0').map(str::to_string).collect();
        let _ = run_iptables(&mut rs, &args, &[]);
    }
    for list in [&["-S"][..], &["-vnxL", "--line-numbers"], &["-L"]] {
        let args: Vec<String> = list.iter().map(|s| s.to_string()).collect();
        let _ = run_iptables(&mut rs, &args, &[]);
    }
});
