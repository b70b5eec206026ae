//! `-m comment` (`libxt_comment.c`): a note on the rule, shown in
//! listings as `/* text */`.

use super::{util, Call, Def, Ext, Opt, Role, RuleCtx};
use crate::rule::IpSpec;
use crate::{Error, Result};

/// The comment text (at most 255 bytes; longer text is cut as the kernel
/// structure holds 256 bytes with the terminator).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Comment {
    /// The text.
    pub text: String,
}

/// `-m comment`.
pub const DEF: Def = Def {
    name: "comment",
    role: Role::Match,
    family: None,
    opts: &[Opt::req("comment", 0).mand()],
    new: |_| Box::<Comment>::default(),
};

impl Ext for Comment {
    fn parse(&mut self, c: &Call, _ctx: &RuleCtx) -> Result<()> {
        let arg = c.arg();
        if arg.contains('\n') {
            // DECISIONS.md 7: text iptables-save could not restore.
            return Err(Error::param("comment: a comment may not contain a newline"));
        }
        let mut end = arg.len().min(255);
        while !arg.is_char_boundary(end) {
            end -= 1;
        }
        self.text = arg[..end].to_string();
        Ok(())
    }
    fn print(&self, out: &mut String, _ip: &IpSpec, _numeric: bool) {
        out.push_str(&format!(" /* {} */", self.text));
    }
    fn save(&self, out: &mut String, _ip: &IpSpec) {
        out.push_str(" --comment");
        util::save_string(out, &self.text);
    }
}
