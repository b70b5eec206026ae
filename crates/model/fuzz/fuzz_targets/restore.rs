//! iptables-restore input: any bytes (as text) must give Ok or Err.
#![no_main]

use ironwall_model::addr::Family;
use ironwall_model::restore::{restore, RestoreOpts};
use ironwall_model::ruleset::Ruleset;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the options and the family.
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let opts = RestoreOpts {
        counters: flags & 1 != 0,
        noflush: flags & 2 != 0,
        test: flags & 4 != 0,
        table: (flags & 8 != 0).then(|| "filter".to_string()),
    };
    let family = if flags & 16 != 0 {
        Family::V6
    } else {
        Family::V4
    };
    let mut rs = Ruleset::new(family);
    let _ = restore(&mut rs, &text, &opts, &[]);
});
