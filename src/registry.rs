//! The ownership registry: a process-wide ledger of the byte regions that
//! `BufferReference`s own.
//!
//! The bytes themselves live in engine-owned `ArrayBuffer`s (moving them with
//! `ArrayBuffer.prototype.transfer()` keeps the data pointer, so a move is
//! O(1)); this module does not touch memory. It records which regions exist,
//! how large they are and whether they were leaked on purpose, so that every
//! thread of the process — host and workers load the same addon — reports one
//! consistent set of numbers, and so that a test can prove nothing leaks.
//!
//! A region is registered when a reference takes ownership of its bytes and
//! forgotten exactly once: on `release()`, or when the garbage collector
//! finalizes an unreleased reference. Forgetting an unknown id is a no-op,
//! which is what makes `release()` idempotent.

use std::collections::HashMap;
use std::num::NonZeroU64;
use std::sync::{Mutex, MutexGuard};

/// Identifies one region for as long as it is registered. Ids are never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RegionId(NonZeroU64);

impl RegionId {
  pub fn get(self) -> u64 {
    self.0.get()
  }
}

/// Counters a test or a user can read to see what the registry holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RegistryStats {
  /// Regions currently owned by a live reference.
  pub live_regions: u64,
  /// Sum of the byte lengths of those regions.
  pub bytes_held: u64,
  /// Regions given up as leaked until exit because freeing them could have
  /// exposed freed memory (never a use-after-free: leak instead).
  pub leaked_regions: u64,
  /// Sum of the byte lengths of leaked regions.
  pub leaked_bytes: u64,
}

#[derive(Default)]
struct Ledger {
  next_id: u64,
  regions: HashMap<RegionId, usize>,
  stats: RegistryStats,
}

/// See the module documentation.
#[derive(Default)]
pub struct OwnershipRegistry {
  ledger: Mutex<Ledger>,
}

impl OwnershipRegistry {
  pub fn new() -> Self {
    Self::default()
  }

  fn ledger(&self) -> MutexGuard<'_, Ledger> {
    // A panic while holding the lock cannot leave the ledger half-updated
    // (every mutation below is a few infallible integer and map operations),
    // so a poisoned lock is still consistent and safe to keep using.
    self
      .ledger
      .lock()
      .unwrap_or_else(|poisoned| poisoned.into_inner())
  }

  /// Records a new region of `byte_length` bytes and returns its id.
  pub fn register(&self, byte_length: usize) -> RegionId {
    let mut ledger = self.ledger();
    ledger.next_id += 1;
    let id = RegionId(NonZeroU64::new(ledger.next_id).expect("id counter starts at 1"));
    ledger.regions.insert(id, byte_length);
    ledger.stats.live_regions += 1;
    ledger.stats.bytes_held += byte_length as u64;
    id
  }

  /// Forgets a region whose bytes were freed or handed to the engine.
  /// Returns `false` if the id was not registered (already forgotten).
  pub fn forget(&self, id: RegionId) -> bool {
    let mut ledger = self.ledger();
    match ledger.regions.remove(&id) {
      Some(byte_length) => {
        ledger.stats.live_regions -= 1;
        ledger.stats.bytes_held -= byte_length as u64;
        true
      }
      None => false,
    }
  }

  /// Moves a region to the leaked-until-exit column. Returns `false` if the
  /// id was not registered.
  pub fn leak(&self, id: RegionId) -> bool {
    let mut ledger = self.ledger();
    match ledger.regions.remove(&id) {
      Some(byte_length) => {
        ledger.stats.live_regions -= 1;
        ledger.stats.bytes_held -= byte_length as u64;
        ledger.stats.leaked_regions += 1;
        ledger.stats.leaked_bytes += byte_length as u64;
        true
      }
      None => false,
    }
  }

  /// Byte length of a registered region.
  pub fn byte_length(&self, id: RegionId) -> Option<usize> {
    self.ledger().regions.get(&id).copied()
  }

  pub fn stats(&self) -> RegistryStats {
    self.ledger().stats
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn register_and_forget_balance_the_counters() {
    let registry = OwnershipRegistry::new();
    let a = registry.register(10);
    let b = registry.register(32);
    assert_ne!(a, b);
    assert_eq!(
      registry.stats(),
      RegistryStats {
        live_regions: 2,
        bytes_held: 42,
        ..Default::default()
      }
    );
    assert_eq!(registry.byte_length(b), Some(32));
    assert!(registry.forget(a));
    assert!(registry.forget(b));
    assert_eq!(registry.stats(), RegistryStats::default());
  }

  #[test]
  fn forgetting_twice_is_a_no_op() {
    let registry = OwnershipRegistry::new();
    let id = registry.register(7);
    assert!(registry.forget(id));
    assert!(!registry.forget(id));
    assert!(!registry.leak(id));
    assert_eq!(registry.stats(), RegistryStats::default());
    assert_eq!(registry.byte_length(id), None);
  }

  #[test]
  fn zero_length_regions_are_tracked() {
    let registry = OwnershipRegistry::new();
    let id = registry.register(0);
    assert_eq!(registry.stats().live_regions, 1);
    assert!(registry.forget(id));
    assert_eq!(registry.stats().live_regions, 0);
  }

  #[test]
  fn leaked_regions_move_to_their_own_column() {
    let registry = OwnershipRegistry::new();
    let id = registry.register(100);
    assert!(registry.leak(id));
    let stats = registry.stats();
    assert_eq!(stats.live_regions, 0);
    assert_eq!(stats.bytes_held, 0);
    assert_eq!(stats.leaked_regions, 1);
    assert_eq!(stats.leaked_bytes, 100);
  }

  #[test]
  fn ids_are_unique_across_threads() {
    let registry = std::sync::Arc::new(OwnershipRegistry::new());
    let handles: Vec<_> = (0..4)
      .map(|_| {
        let registry = registry.clone();
        std::thread::spawn(move || (0..1000).map(|_| registry.register(1)).collect::<Vec<_>>())
      })
      .collect();
    let mut ids: Vec<u64> = handles
      .into_iter()
      .flat_map(|h| h.join().unwrap())
      .map(RegionId::get)
      .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 4000);
    assert_eq!(registry.stats().live_regions, 4000);
  }
}
