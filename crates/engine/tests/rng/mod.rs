//! A small xorshift generator for the live tests: what they send and
//! load depends only on the seed.

/// The generator's state (never 0).
pub struct Rng(pub u64);

impl Rng {
    /// The next number.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// True once in `n` times.
    pub fn one_in(&mut self, n: u64) -> bool {
        self.next().is_multiple_of(n)
    }

    /// One of `from` (not empty).
    pub fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[(self.next() % from.len() as u64) as usize]
    }

    /// `! ` (an inverted option) once in five times, else nothing.
    pub fn bang(&mut self) -> &'static str {
        if self.one_in(5) {
            "! "
        } else {
            ""
        }
    }

    /// A port of `ports`, or the range `A:B` between two of them.
    pub fn port_spec(&mut self, ports: &[u16]) -> String {
        let (a, b) = (self.pick(ports), self.pick(ports));
        if a == b {
            a.to_string()
        } else {
            format!("{}:{}", a.min(b), a.max(b))
        }
    }
}
