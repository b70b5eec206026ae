//! A fast hasher for the engine's tables (the connection table is looked
//! up for every packet): the multiply-rotate hash of Firefox and rustc
//! (`FxHasher`), a few lines written here rather than a dependency. It is
//! not resistant to chosen collisions (HashDoS); the keys are the packets
//! of a replay the user supplies, so the worst case is a slow replay,
//! never a wrong result.

use std::hash::{BuildHasherDefault, Hasher};

/// `HashMap` with [`FxHasher`].
pub type FxHashMap<K, V> = std::collections::HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// The Fx hash: per word, rotate, xor, multiply.
#[derive(Debug, Default, Clone, Copy)]
pub struct FxHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_u16(&mut self, i: u16) {
        self.add(u64::from(i));
    }

    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    /// The state turned so that its best-mixed (high) bits land where
    /// the table takes its bucket index (low bits), as rustc-hash 2 does.
    fn finish(&self) -> u64 {
        self.0.rotate_left(26)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Different tuples of the same shape hash apart; equal ones alike.
    #[test]
    fn spreads_keys() {
        let mut m: FxHashMap<(u32, u16), usize> = FxHashMap::default();
        for i in 0..1000u32 {
            m.insert((0x0a00_0000 | i, (i % 7) as u16), i as usize);
        }
        assert_eq!(m.len(), 1000);
        assert_eq!(m.get(&(0x0a00_0005, 5)), Some(&5));
    }
}
