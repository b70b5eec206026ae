//! The rules file: an iptables-save text read into a ruleset (a missing
//! file is a fresh kernel), and written back atomically.
//!
//! What the save format cannot say rides in comment lines, which
//! iptables-restore skips: `# ironwall absent TABLE CHAIN...` names the
//! built-in chains the kernel would not hold (see `Table::absent`).

use anyhow::{anyhow, Context, Result};
use ironwall_model::addr::Family;
use ironwall_model::ext::set::IpSet;
use ironwall_model::restore::{restore, RestoreOpts};
use ironwall_model::ruleset::Ruleset;
use ironwall_model::save;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Reads the rules file (an `iptables-save` or, for `Family::V6`, an
/// `ip6tables-save` text); a missing file is an empty ruleset.
pub fn load(path: &Path, sets: &[IpSet], family: Family) -> Result<Ruleset> {
    let mut rs = Ruleset::new(family);
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(rs),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let opts = RestoreOpts {
        counters: true,
        ..RestoreOpts::default()
    };
    restore(&mut rs, &text, &opts, sets).map_err(|e| {
        anyhow!(
            "{}: line {}: {}",
            path.display(),
            e.line,
            e.message.trim_end()
        )
    })?;
    for line in text.lines() {
        let mut words = line.strip_prefix(ABSENT).unwrap_or_default().split(' ');
        let table = words.next().unwrap_or_default();
        if let Some(t) = rs.table_mut_if_exists(table) {
            t.absent = words.map(str::to_string).collect();
        }
    }
    Ok(rs)
}

const ABSENT: &str = "# ironwall absent ";

/// Writes the ruleset as `iptables-save -c` (or `ip6tables-save -c`) text,
/// through a temporary file renamed over the target, so that readers see
/// the old or the new file.
pub fn store(path: &Path, rs: &Ruleset) -> Result<()> {
    let prog = format!("{}-save", rs.family.prog());
    let mut text = save::save(rs, None, true, &prog, &ctime_now());
    for t in rs.tables.iter().filter(|t| !t.absent.is_empty()) {
        text.push_str(&format!("{ABSENT}{} {}\n", t.name(), t.absent.join(" ")));
    }
    write_atomic(path, text.as_bytes())
}

/// Writes `data` to `path` atomically (temp file in the same folder, fsync,
/// rename).
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    let mut staged = Staged::create(path)?;
    staged.write_all(data)?;
    staged.commit()
}

/// A file being written beside its target: [`Staged::commit`] flushes,
/// fsyncs and renames it over the target, so readers see the old or the
/// new file; dropped without a commit, it is removed and the target is
/// untouched.
pub struct Staged {
    tmp: PathBuf,
    target: PathBuf,
    file: Option<BufWriter<File>>,
}

impl Staged {
    /// Creates the temporary file (`.NAME.tmp.PID` in the target's folder).
    pub fn create(path: &Path) -> Result<Staged> {
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = path
            .file_name()
            .ok_or_else(|| anyhow!("{}: not a file name", path.display()))?;
        let tmp = dir.join(format!(
            ".{}.tmp.{}",
            name.to_string_lossy(),
            std::process::id()
        ));
        let file = File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        Ok(Staged {
            tmp,
            target: path.to_path_buf(),
            file: Some(BufWriter::new(file)),
        })
    }

    /// Puts the written file in the target's place.
    pub fn commit(mut self) -> Result<()> {
        let file = self.file.take().map(BufWriter::into_inner).transpose();
        let file = file.map_err(|e| e.into_error())?;
        if let Some(f) = file {
            f.sync_all()
                .with_context(|| format!("writing {}", self.tmp.display()))?;
        }
        std::fs::rename(&self.tmp, &self.target)
            .with_context(|| format!("replacing {}", self.target.display()))
    }
}

impl Write for Staged {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &mut self.file {
            Some(f) => f.write(buf),
            None => Err(std::io::ErrorKind::BrokenPipe.into()),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.as_mut().map_or(Ok(()), Write::flush)
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        // After a commit the name is gone and this does nothing.
        let _ = std::fs::remove_file(&self.tmp);
    }
}

/// Reads the sets from a file in `ipset save` format (`create NAME TYPE
/// [family inet|inet6] ...` lines): a hash type is IPv4 unless its family
/// says otherwise, `bitmap:ip` and `bitmap:ip,mac` are IPv4, the other
/// types (`bitmap:port`, `list:set`, `hash:mac`) of any family.
pub fn load_sets(path: Option<&Path>) -> Result<Vec<IpSet>> {
    let Some(path) = path else {
        return Ok(Vec::new());
    };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(text.lines().filter_map(create_line).collect())
}

/// The set an `ipset save` line creates, if it is a create line.
fn create_line(line: &str) -> Option<IpSet> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let (name, kind, opts) = match words.as_slice() {
        ["create" | "-N", name, kind, opts @ ..] => (*name, *kind, opts),
        ["create" | "-N", name] => return Some(IpSet::new(name, None)),
        _ => return None,
    };
    let given = opts.windows(2).find(|w| w[0] == "family").map(|w| {
        if w[1] == "inet6" {
            Family::V6
        } else {
            Family::V4
        }
    });
    let family = match kind {
        "hash:mac" => None,
        k if k.starts_with("hash:") => Some(given.unwrap_or(Family::V4)),
        "bitmap:ip" | "bitmap:ip,mac" => Some(Family::V4),
        _ => None,
    };
    Some(IpSet::new(name, family))
}

/// The time as C's `ctime` prints it (`Thu Nov 26 04:33:10 2026`), in UTC.
pub fn ctime_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    ctime(secs)
}

fn ctime(secs: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = secs.div_euclid(86400);
    let rem = secs.rem_euclid(86400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{} {} {:2} {:02}:{:02}:{:02} {}",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(m - 1) as usize],
        d,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        y
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_families() {
        let f = |l: &str| create_line(l).map(|s| s.family);
        assert_eq!(
            f("create a hash:ip family inet hashsize 1024"),
            Some(Some(Family::V4))
        );
        assert_eq!(
            f("create a hash:net family inet6 hashsize 1024"),
            Some(Some(Family::V6))
        );
        assert_eq!(f("create a hash:ip,port"), Some(Some(Family::V4)));
        assert_eq!(
            f("create a bitmap:ip range 10.0.0.0-10.0.0.255"),
            Some(Some(Family::V4))
        );
        assert_eq!(f("create a bitmap:port range 1-100"), Some(None));
        assert_eq!(f("create a list:set size 8"), Some(None));
        assert_eq!(f("add a 10.0.0.1"), None);
    }

    #[test]
    fn ctime_format() {
        assert_eq!(super::ctime(1795667590), "Thu Nov 26 04:33:10 2026");
        assert_eq!(super::ctime(0), "Thu Jan  1 00:00:00 1970");
    }
}
