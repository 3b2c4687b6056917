//! A slab: a `Vec` of slots that hands out small reusable integer keys.
//!
//! The event loop keys connections by `mio::Token(key)`. A `HashMap` would work too, but a
//! slab makes lookup one bounds check, reuses memory, and keeps keys small. Each slot also
//! carries a *generation* that bumps whenever the slot is reused, so a stale reference (a
//! timer or a hub subscription made for a connection that has since closed) can be told
//! apart from the connection that now lives in the same slot.

/// A key plus the generation of the slot it was issued for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub index: usize,
    pub generation: u32,
}

enum Slot<T> {
    Occupied(T),
    /// Free; holds the index of the next free slot (a free list threaded through the Vec).
    Vacant(Option<usize>),
}

struct Entry<T> {
    generation: u32,
    slot: Slot<T>,
}

pub struct Slab<T> {
    entries: Vec<Entry<T>>,
    free: Option<usize>,
    len: usize,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Slab<T> {
    pub fn new() -> Self {
        Slab { entries: Vec::new(), free: None, len: 0 }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The key the next `insert` will return (lets a caller register a socket under its key
    /// before moving the socket into the slab).
    pub fn vacant_key(&self) -> Key {
        match self.free {
            Some(index) => Key { index, generation: self.entries[index].generation },
            None => Key { index: self.entries.len(), generation: 0 },
        }
    }

    pub fn insert(&mut self, value: T) -> Key {
        let key = self.vacant_key();
        match self.free {
            Some(index) => {
                let entry = &mut self.entries[index];
                self.free = match entry.slot {
                    Slot::Vacant(next) => next,
                    Slot::Occupied(_) => unreachable!("free list points at an occupied slot"),
                };
                entry.slot = Slot::Occupied(value);
            }
            None => self.entries.push(Entry { generation: 0, slot: Slot::Occupied(value) }),
        }
        self.len += 1;
        key
    }

    /// Removes the value at `index`; the slot's generation moves on.
    pub fn remove(&mut self, index: usize) -> Option<T> {
        let entry = self.entries.get_mut(index)?;
        if !matches!(entry.slot, Slot::Occupied(_)) {
            return None;
        }
        let old = std::mem::replace(&mut entry.slot, Slot::Vacant(self.free));
        entry.generation = entry.generation.wrapping_add(1);
        self.free = Some(index);
        self.len -= 1;
        match old {
            Slot::Occupied(value) => Some(value),
            Slot::Vacant(_) => None,
        }
    }

    pub fn get_mut(&mut self, index: usize) -> Option<&mut T> {
        match self.entries.get_mut(index) {
            Some(Entry { slot: Slot::Occupied(value), .. }) => Some(value),
            _ => None,
        }
    }

    /// The value at `key`, only if the slot still holds the value `key` was issued for.
    pub fn get_key_mut(&mut self, key: Key) -> Option<&mut T> {
        match self.entries.get_mut(key.index) {
            Some(Entry { generation, slot: Slot::Occupied(value) }) if *generation == key.generation => {
                Some(value)
            }
            _ => None,
        }
    }

    /// The current key of an occupied slot.
    pub fn key_of(&self, index: usize) -> Option<Key> {
        match self.entries.get(index) {
            Some(Entry { generation, slot: Slot::Occupied(_) }) => {
                Some(Key { index, generation: *generation })
            }
            _ => None,
        }
    }

    /// Keys of every occupied slot (for shutdown and statistics).
    pub fn keys(&self) -> impl Iterator<Item = Key> + '_ {
        self.entries.iter().enumerate().filter_map(|(index, e)| match e.slot {
            Slot::Occupied(_) => Some(Key { index, generation: e.generation }),
            Slot::Vacant(_) => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuses_slots_with_a_new_generation() {
        let mut slab = Slab::new();
        let a = slab.insert("a");
        let b = slab.insert("b");
        assert_eq!((a.index, b.index), (0, 1));
        assert_eq!(slab.remove(a.index), Some("a"));
        assert_eq!(slab.remove(a.index), None);
        let c = slab.insert("c");
        assert_eq!(c.index, 0);
        assert_ne!(c.generation, a.generation);
        assert!(slab.get_key_mut(a).is_none(), "a stale key must not reach the new value");
        assert_eq!(slab.get_key_mut(c).copied(), Some("c"));
        assert_eq!(slab.len(), 2);
        assert_eq!(slab.keys().count(), 2);
    }

    #[test]
    fn vacant_key_predicts_insert() {
        let mut slab = Slab::new();
        for i in 0..10 {
            let predicted = slab.vacant_key();
            assert_eq!(slab.insert(i), predicted);
        }
        slab.remove(3);
        slab.remove(7);
        let predicted = slab.vacant_key();
        assert_eq!(slab.insert(99), predicted);
        assert_eq!(predicted.index, 7);
    }
}
