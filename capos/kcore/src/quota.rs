//! Quotas: how much of a resource a process may hold, and how a parent pays for a child's.
//!
//! A [`Quota`] counts units (physical frames, cap slots) against a limit. A child with a quota
//! of its own is *reserved* from its parent: [`Quota::reserve`] charges the whole limit to the
//! parent when the child is made, and [`Quota::unreserve`] gives it back when the child ends. So
//! the limits of every live quota add up to at most the root's, and the root's is what the
//! machine has: a process that stays inside its quota never finds the machine out of memory.

// region: quota
/// A count of units held, against a limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quota {
    limit: u64,
    used: u64,
    peak: u64,
}

/// A charge that would take a quota over its limit; nothing was charged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exhausted {
    pub limit: u64,
    pub used: u64,
    pub asked: u64,
}

impl core::fmt::Display for Exhausted {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "quota exhausted: {} of {} used, {} more asked", self.used, self.limit, self.asked)
    }
}

impl Quota {
    pub const fn new(limit: u64) -> Self {
        Quota { limit, used: 0, peak: 0 }
    }

    /// Takes `n` units, or none when that would pass the limit.
    pub fn charge(&mut self, n: u64) -> Result<(), Exhausted> {
        match self.used.checked_add(n) {
            Some(total) if total <= self.limit => {
                self.used = total;
                self.peak = self.peak.max(total);
                Ok(())
            }
            _ => Err(Exhausted { limit: self.limit, used: self.used, asked: n }),
        }
    }

    /// Gives back `n` units. Giving back more than is held is a kernel bug: it saturates at 0 in
    /// release builds rather than wrapping into a huge allowance.
    pub fn release(&mut self, n: u64) {
        debug_assert!(n <= self.used, "released {n} of {} units", self.used);
        self.used = self.used.saturating_sub(n);
    }

    /// A child's quota of `limit` units, charged in full to `self` until [`Quota::unreserve`].
    pub fn reserve(&mut self, limit: u64) -> Result<Quota, Exhausted> {
        self.charge(limit)?;
        Ok(Quota::new(limit))
    }

    /// Returns a child's reservation (the child ended; everything it held was freed).
    pub fn unreserve(&mut self, child: &Quota) {
        self.release(child.limit);
    }

    pub fn limit(&self) -> u64 {
        self.limit
    }
    pub fn used(&self) -> u64 {
        self.used
    }
    pub fn remaining(&self) -> u64 {
        self.limit - self.used
    }
    /// The most ever held at once.
    pub fn peak(&self) -> u64 {
        self.peak
    }
}
// endregion: quota

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_up_to_the_limit_and_not_past_it() {
        let mut q = Quota::new(10);
        assert_eq!(q.charge(4), Ok(()));
        assert_eq!(q.charge(6), Ok(()));
        assert_eq!(q.charge(1), Err(Exhausted { limit: 10, used: 10, asked: 1 }));
        assert_eq!(q.used(), 10, "a refused charge takes nothing");
        q.release(3);
        assert_eq!((q.used(), q.remaining(), q.peak()), (7, 3, 10));
    }

    #[test]
    fn a_huge_charge_is_refused_not_wrapped() {
        let mut q = Quota::new(u64::MAX);
        q.charge(5).unwrap();
        assert!(q.charge(u64::MAX).is_err());
        assert_eq!(q.used(), 5);
    }

    #[test]
    fn reservations_add_up_to_at_most_the_parent() {
        let mut root = Quota::new(100);
        let a = root.reserve(60).unwrap();
        assert_eq!(root.reserve(41), Err(Exhausted { limit: 100, used: 60, asked: 41 }));
        let b = root.reserve(40).unwrap();
        assert_eq!(root.remaining(), 0);
        root.unreserve(&a);
        assert_eq!(root.remaining(), 60);
        root.unreserve(&b);
        assert_eq!(root.used(), 0);
    }

    /// Random charges, releases and reservations never let the children's limits plus the
    /// parent's own use exceed the parent's limit.
    #[test]
    fn random_operations_keep_the_sum_under_the_root() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut root = Quota::new(1000);
        let mut own = 0u64;
        let mut children: Vec<Quota> = Vec::new();
        for _ in 0..20_000 {
            match next() % 5 {
                0 => {
                    if let Ok(c) = root.reserve(next() % 300) {
                        children.push(c);
                    }
                }
                1 if !children.is_empty() => {
                    let c = children.swap_remove((next() % children.len() as u64) as usize);
                    root.unreserve(&c);
                }
                2 => {
                    let n = next() % 50;
                    if root.charge(n).is_ok() {
                        own += n;
                    }
                }
                3 => {
                    let n = own.min(next() % 50);
                    root.release(n);
                    own -= n;
                }
                _ if !children.is_empty() => {
                    let i = (next() % children.len() as u64) as usize;
                    let _ = children[i].charge(next() % 100);
                }
                _ => {}
            }
            let reserved: u64 = children.iter().map(Quota::limit).sum();
            assert_eq!(root.used(), own + reserved);
            assert!(root.used() <= root.limit());
            assert!(children.iter().all(|c| c.used() <= c.limit()));
        }
    }
}
