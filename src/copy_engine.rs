//! The copy engine: every bulk byte copy the pool still makes (plain typed
//! arrays sent by value) goes through here.
//!
//! Below a threshold a copy is one `memcpy` on the calling thread. At or above
//! it, the destination is split into chunks that rayon's global pool copies in
//! parallel; the caller blocks until every chunk is done, so the copy is
//! complete when `copy_bytes` returns (outgoing copies must be finished before
//! `pool.call.x(arg)` returns, because the caller may reuse `arg` at once).
//!
//! The threshold is process-wide, set by measurement (see
//! `benches/copy.bench.mjs`) and adjustable at run time.

use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

/// Measured on the 2-vCPU development VM: two rayon threads lose to one
/// `memcpy` at 1 MiB and win from 2 MiB up (1.5x at 2 MiB, 2.4x at 8 MiB).
pub const DEFAULT_PARALLEL_THRESHOLD: usize = 2 << 20;

/// Size of the chunk each rayon job copies.
const CHUNK: usize = 1 << 20;

static PARALLEL_THRESHOLD: AtomicUsize = AtomicUsize::new(DEFAULT_PARALLEL_THRESHOLD);

/// Copies of at least this many bytes run in parallel.
pub fn parallel_threshold() -> usize {
  PARALLEL_THRESHOLD.load(Ordering::Relaxed)
}

pub fn set_parallel_threshold(bytes: usize) {
  PARALLEL_THRESHOLD.store(bytes, Ordering::Relaxed);
}

/// Copies `source` into `target` (equal lengths). Returns whether the copy
/// ran in parallel.
///
/// # Panics
/// If the lengths differ.
pub fn copy_bytes(source: &[u8], target: &mut [u8]) -> bool {
  assert_eq!(source.len(), target.len(), "copy_bytes needs equal lengths");
  if source.len() < parallel_threshold() || source.len() <= CHUNK {
    target.copy_from_slice(source);
    return false;
  }
  target
    .par_chunks_mut(CHUNK)
    .zip(source.par_chunks(CHUNK))
    .for_each(|(to, from)| to.copy_from_slice(from));
  true
}

#[cfg(test)]
mod tests {
  use super::*;

  fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 % 251) as u8).collect()
  }

  #[test]
  fn small_copies_run_inline_and_are_exact() {
    let source = pattern(1000);
    let mut target = vec![0; 1000];
    assert!(!copy_bytes(&source, &mut target));
    assert_eq!(source, target);
  }

  #[test]
  fn large_copies_run_in_parallel_and_are_exact() {
    // Odd size: the last chunk is partial.
    let n = DEFAULT_PARALLEL_THRESHOLD + CHUNK / 2 + 3;
    let source = pattern(n);
    let mut target = vec![0; n];
    assert!(copy_bytes(&source, &mut target));
    assert_eq!(source, target);
  }

  #[test]
  fn empty_copies_are_fine() {
    assert!(!copy_bytes(&[], &mut []));
  }

  #[test]
  #[should_panic(expected = "equal lengths")]
  fn unequal_lengths_are_refused() {
    copy_bytes(&[1, 2], &mut [0]);
  }
}
