//! OS shared memory for `ProcessSharedBuffer` (`knitting/shared-memory`):
//! anonymous objects (`memfd_create`, shared with a child by handing it the
//! descriptor) and named ones (`shm_open`, reopened by name), mapped
//! `MAP_SHARED` so every process that maps one sees the same bytes; and a
//! futex park/wake on a word inside such a mapping, which works across
//! processes (no `FUTEX_PRIVATE_FLAG`). Pure Rust, no N-API: `cargo test`
//! covers it. System calls go through `rustix` (typed, no hand-written libc).
//!
//! Lifetime (invariant 1: no view may observe unmapped memory) is the
//! `SharedRegistry`'s job: a mapping is unmapped only once every handle on it
//! is closed and every alias (an engine buffer over its bytes) handed to JS
//! was *proven* detached. An alias that cannot be proven detached keeps the
//! mapping until the process exits, and is counted.

use std::collections::HashMap;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustix::fs::{fstat, ftruncate, memfd_create, FileType, MemfdFlags, Mode, OFlags};
use rustix::mm::{mmap, mmap_anonymous, munmap, MapFlags, ProtFlags};
use rustix::shm;
use rustix::thread::futex;

/// Sizes are rounded up to a multiple of this (and are at least this).
pub const SIZE_ALIGN: usize = 64;

/// `size` rounded up to `SIZE_ALIGN`, at least `SIZE_ALIGN`; `None` if that overflows.
pub fn rounded_size(size: usize) -> Option<usize> {
  let size = size.max(1);
  size
    .checked_add(SIZE_ALIGN - 1)
    .map(|s| s & !(SIZE_ALIGN - 1))
}

/// How a mapping came to be: anonymous objects travel as descriptors, named ones by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
  Anonymous,
  Named,
}

/// The name `shm_open` takes for `name`: one leading slash, no other slash,
/// no NUL, not empty, at most 250 bytes.
pub fn shm_name(name: &str) -> Result<String, &'static str> {
  let bare = name.strip_prefix('/').unwrap_or(name);
  if bare.is_empty() {
    return Err("a shared-memory name cannot be empty");
  }
  if bare.contains('\0') {
    return Err("a shared-memory name cannot contain NUL");
  }
  if bare.contains('/') {
    return Err("a shared-memory name cannot contain '/' (other than a leading one)");
  }
  if bare.len() > 250 {
    return Err("a shared-memory name is at most 250 bytes");
  }
  Ok(format!("/{bare}"))
}

/// What makes an object the same object across processes: its device and
/// inode (a descriptor number alone can be closed and reused).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Identity {
  pub device: u64,
  pub inode: u64,
}

impl Identity {
  fn of(stat: &rustix::fs::Stat) -> Self {
    Identity {
      device: stat.st_dev,
      inode: stat.st_ino,
    }
  }
}

/// One `MAP_SHARED` mapping of a shared-memory object, and the object's descriptor.
#[derive(Debug)]
pub struct Mapping {
  ptr: NonNull<u8>,
  len: usize,
  fd: OwnedFd,
  kind: Kind,
  name: Option<String>,
}

// SAFETY: the mapping is plain shared memory: the pointer stays valid until
// `Drop` unmaps it, which needs `&mut self`, and concurrent access to the bytes
// is the user's (through Atomics or their own protocol), as with a
// SharedArrayBuffer. The descriptor is an owned fd, itself Send + Sync.
unsafe impl Send for Mapping {}
// SAFETY: see `Send`; `&Mapping` only hands out the address, length and fd.
unsafe impl Sync for Mapping {}

impl Mapping {
  /// A new anonymous object (`memfd_create`) of `size` bytes (rounded up), zero-filled.
  pub fn create_anonymous(size: usize) -> io::Result<Self> {
    let len = rounded_size(size).ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
    let fd = memfd_create("knitting-shared-memory", MemfdFlags::CLOEXEC)?;
    ftruncate(&fd, len as u64)?;
    Self::map(fd, len, Kind::Anonymous, None)
  }

  /// A new named object of `size` bytes (rounded up), zero-filled; fails if the name exists.
  pub fn create_named(name: &str, size: usize) -> io::Result<Self> {
    let name = shm_name(name).map_err(|m| io::Error::new(io::ErrorKind::InvalidInput, m))?;
    let len = rounded_size(size).ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
    let fd = shm::open(
      name.as_str(),
      shm::OFlags::CREATE | shm::OFlags::EXCL | shm::OFlags::RDWR,
      Mode::RUSR | Mode::WUSR,
    )?;
    if let Err(error) = ftruncate(&fd, len as u64) {
      let _ = shm::unlink(name.as_str());
      return Err(error.into());
    }
    Self::map(fd, len, Kind::Named, Some(name.clone())).inspect_err(|_| {
      let _ = shm::unlink(name.as_str());
    })
  }

  /// Maps an existing named object, at its current size.
  pub fn open_named(name: &str) -> io::Result<Self> {
    let name = shm_name(name).map_err(|m| io::Error::new(io::ErrorKind::InvalidInput, m))?;
    let fd = shm::open(name.as_str(), shm::OFlags::RDWR, Mode::empty())?;
    let len = object_size(&fd)?;
    Self::map(fd, len, Kind::Named, Some(name))
  }

  /// Maps the object behind a descriptor this process holds (a copy of it is
  /// kept, so the caller may close theirs).
  pub fn open_fd(fd: BorrowedFd<'_>) -> io::Result<Self> {
    let fd = fd.try_clone_to_owned()?;
    let len = object_size(&fd)?;
    Self::map(fd, len, Kind::Anonymous, None)
  }

  /// Maps the object behind descriptor `fd` of process `pid` (Linux: through
  /// `/proc/<pid>/fd/<fd>`, which the kernel lets the same user open): how a
  /// process worker reaches an anonymous object its parent created after it
  /// started. Only regular objects are accepted (a pipe or a socket behind
  /// that number is refused), and when `identity` is given (what the sender's
  /// [`Mapping::identity`] said), only that very object: once the sender has
  /// closed the descriptor, its number may name an unrelated file.
  pub fn open_process_fd(pid: u32, fd: i32, identity: Option<Identity>) -> io::Result<Self> {
    let path = format!("/proc/{pid}/fd/{fd}");
    let opened = rustix::fs::open(path.as_str(), OFlags::RDWR | OFlags::CLOEXEC, Mode::empty())?;
    let stat = fstat(&opened)?;
    let is_regular = FileType::from_raw_mode(stat.st_mode) == FileType::RegularFile;
    // memfd and shm objects live on tmpfs-like filesystems; refuse what is
    // plainly not one (a pipe, a socket, a device).
    if !is_regular {
      return Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("descriptor {fd} of process {pid} is not shared memory"),
      ));
    }
    if identity.is_some_and(|expected| expected != Identity::of(&stat)) {
      return Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("descriptor {fd} of process {pid} no longer names the shared memory that was sent (it was closed, and the number reused)"),
      ));
    }
    let len = object_size(&opened)?;
    Self::map(opened, len, Kind::Anonymous, None)
  }

  /// Which object this mapping is (device and inode), for
  /// [`Mapping::open_process_fd`] in another process.
  pub fn identity(&self) -> io::Result<Identity> {
    Ok(Identity::of(&fstat(&self.fd)?))
  }

  fn map(fd: OwnedFd, len: usize, kind: Kind, name: Option<String>) -> io::Result<Self> {
    // SAFETY: a fresh mapping chosen by the kernel (null hint), of `len` bytes
    // of an object at least that large (we sized or measured it); nothing
    // else refers to that address range until we hand it out.
    let raw = unsafe {
      mmap(
        std::ptr::null_mut(),
        len,
        ProtFlags::READ | ProtFlags::WRITE,
        MapFlags::SHARED,
        &fd,
        0,
      )?
    };
    let ptr = NonNull::new(raw.cast()).ok_or_else(|| io::Error::from(io::ErrorKind::Other))?;
    Ok(Self {
      ptr,
      len,
      fd,
      kind,
      name,
    })
  }

  pub fn as_ptr(&self) -> *mut u8 {
    self.ptr.as_ptr()
  }

  pub fn len(&self) -> usize {
    self.len
  }

  pub fn is_empty(&self) -> bool {
    self.len == 0
  }

  pub fn kind(&self) -> Kind {
    self.kind
  }

  pub fn name(&self) -> Option<&str> {
    self.name.as_deref()
  }

  /// The object's descriptor in this process (valid while the mapping lives).
  pub fn fd(&self) -> BorrowedFd<'_> {
    self.fd.as_fd()
  }

  /// The 32-bit word at byte `offset`, for Atomics-style access and futexes.
  /// `None` if it is out of range or not 4-byte aligned.
  pub fn word(&self, offset: usize) -> Option<&AtomicU32> {
    if !offset.is_multiple_of(4) || offset.checked_add(4)? > self.len {
      return None;
    }
    // SAFETY: in range and aligned (the mapping is page-aligned); the memory
    // lives as long as `&self`, and AtomicU32 permits shared mutation.
    Some(unsafe { &*self.ptr.as_ptr().add(offset).cast::<AtomicU32>() })
  }
}

impl Drop for Mapping {
  fn drop(&mut self) {
    // The shared object is let go, but the address range is not given back:
    // fresh private zero pages (reserved, never backed until touched) replace
    // it at the same address, so a pointer something native still holds (an
    // I/O request queued on a view before it was detached) reads zeros instead
    // of faulting or reaching a later mapping. If that fails, unmap.
    // SAFETY: the range is exactly what `map` returned and is replaced (or
    // unmapped) once, here. The last Arc drops a Mapping, and the registry
    // keeps one while any engine buffer over it is not proven detached.
    unsafe {
      let replaced = mmap_anonymous(
        self.ptr.as_ptr().cast(),
        self.len,
        ProtFlags::READ | ProtFlags::WRITE,
        MapFlags::FIXED | MapFlags::PRIVATE | MapFlags::NORESERVE,
      );
      if replaced.is_err() {
        let _ = munmap(self.ptr.as_ptr().cast(), self.len);
      }
    }
  }
}

fn object_size(fd: &OwnedFd) -> io::Result<usize> {
  let size = fstat(fd)?.st_size;
  usize::try_from(size)
    .ok()
    .filter(|&s| s > 0)
    .ok_or_else(|| {
      io::Error::new(
        io::ErrorKind::InvalidData,
        "the shared-memory object is empty",
      )
    })
}

/// Removes a named object's name (existing mappings stay valid).
pub fn unlink(name: &str) -> io::Result<()> {
  let name = shm_name(name).map_err(|m| io::Error::new(io::ErrorKind::InvalidInput, m))?;
  shm::unlink(name.as_str())?;
  Ok(())
}

/// What a futex wait ended with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitOutcome {
  /// Woken (or a spurious wake-up: callers re-check their condition).
  Woken,
  /// The word did not hold `expected` when the wait began.
  NotEqual,
  TimedOut,
}

/// Parks the calling thread while `word` holds `expected`, until woken or `timeout`.
/// Works across processes that map the same object.
pub fn futex_wait(word: &AtomicU32, expected: u32, timeout: Option<Duration>) -> WaitOutcome {
  let timespec = timeout.map(|t| rustix::thread::Timespec {
    tv_sec: t.as_secs().min(i64::MAX as u64) as i64,
    tv_nsec: t.subsec_nanos().into(),
  });
  match futex::wait(word, futex::Flags::empty(), expected, timespec.as_ref()) {
    Ok(()) => WaitOutcome::Woken,
    Err(rustix::io::Errno::AGAIN) => WaitOutcome::NotEqual,
    Err(rustix::io::Errno::TIMEDOUT) => WaitOutcome::TimedOut,
    Err(_) => WaitOutcome::Woken,
  }
}

/// Wakes up to `count` threads parked on `word` (in any process); returns how many woke.
pub fn futex_wake(word: &AtomicU32, count: u32) -> usize {
  futex::wake(word, futex::Flags::empty(), count).unwrap_or(0)
}

/// Stores `value` and wakes every waiter: the usual "publish, then ring" step.
pub fn store_and_wake(word: &AtomicU32, value: u32) -> usize {
  word.store(value, Ordering::SeqCst);
  futex_wake(word, u32::MAX)
}

// ---- lifetimes ---------------------------------------------------------------

struct Entry {
  mapping: Arc<Mapping>,
  /// Open handles (one per ProcessSharedBuffer family in an isolate).
  handles: u64,
  /// Engine buffers over the bytes not proven detached yet.
  aliases: u64,
}

/// Every mapping of the process that JS can reach, by id.
#[derive(Default)]
pub struct SharedRegistry {
  state: Mutex<RegistryState>,
}

#[derive(Default)]
struct RegistryState {
  next_id: u64,
  entries: HashMap<u64, Entry>,
}

/// What `SharedRegistry::stats` reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SharedStats {
  /// Mappings with an open handle.
  pub open_mappings: u64,
  /// Bytes of those.
  pub open_bytes: u64,
  /// Mappings every handle closed but kept mapped because an alias of them
  /// could not be proven detached (kept until the process exits).
  pub kept_mappings: u64,
  pub kept_bytes: u64,
}

impl SharedRegistry {
  pub fn new() -> Self {
    Self::default()
  }

  fn lock(&self) -> std::sync::MutexGuard<'_, RegistryState> {
    self
      .state
      .lock()
      .unwrap_or_else(|poisoned| poisoned.into_inner())
  }

  /// Registers a new mapping with one open handle; returns its id and the mapping.
  pub fn insert(&self, mapping: Mapping) -> (u64, Arc<Mapping>) {
    let mapping = Arc::new(mapping);
    let mut state = self.lock();
    state.next_id += 1;
    let id = state.next_id;
    state.entries.insert(
      id,
      Entry {
        mapping: mapping.clone(),
        handles: 1,
        aliases: 0,
      },
    );
    (id, mapping)
  }

  /// Opens another handle on mapping `id` (another isolate received it).
  /// `None` once no handle is open: a closed mapping cannot be reopened by id.
  pub fn open(&self, id: u64) -> Option<Arc<Mapping>> {
    let mut state = self.lock();
    let entry = state.entries.get_mut(&id).filter(|e| e.handles > 0)?;
    entry.handles += 1;
    Some(entry.mapping.clone())
  }

  /// Mapping `id` for a handle already counted (one `open` made in transit,
  /// now taken over by the receiving isolate). `None` once no handle is open.
  pub fn adopt(&self, id: u64) -> Option<Arc<Mapping>> {
    let state = self.lock();
    state
      .entries
      .get(&id)
      .filter(|e| e.handles > 0)
      .map(|e| e.mapping.clone())
  }

  /// Counts a new alias of mapping `id`; returns the mapping, or `None` if no handle is open.
  pub fn alias(&self, id: u64) -> Option<Arc<Mapping>> {
    let mut state = self.lock();
    let entry = state.entries.get_mut(&id).filter(|e| e.handles > 0)?;
    entry.aliases += 1;
    Some(entry.mapping.clone())
  }

  /// `count` aliases of mapping `id` were proven detached.
  pub fn aliases_detached(&self, id: u64, count: u64) {
    let mut state = self.lock();
    if let Some(entry) = state.entries.get_mut(&id) {
      entry.aliases = entry.aliases.saturating_sub(count);
    }
    Self::unmap_if_unreachable(&mut state, id);
  }

  /// A handle on mapping `id` closed (or was collected).
  pub fn close(&self, id: u64) {
    let mut state = self.lock();
    if let Some(entry) = state.entries.get_mut(&id) {
      entry.handles = entry.handles.saturating_sub(1);
    }
    Self::unmap_if_unreachable(&mut state, id);
  }

  fn unmap_if_unreachable(state: &mut RegistryState, id: u64) {
    if state
      .entries
      .get(&id)
      .is_some_and(|e| e.handles == 0 && e.aliases == 0)
    {
      // Dropping the last Arc unmaps (handles hold their own Arcs only while
      // open, and aliases are counted here, not held).
      state.entries.remove(&id);
    }
  }

  pub fn stats(&self) -> SharedStats {
    let state = self.lock();
    let mut stats = SharedStats::default();
    for entry in state.entries.values() {
      let bytes = entry.mapping.len() as u64;
      if entry.handles > 0 {
        stats.open_mappings += 1;
        stats.open_bytes += bytes;
      } else {
        stats.kept_mappings += 1;
        stats.kept_bytes += bytes;
      }
    }
    stats
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use std::sync::atomic::AtomicBool;

  fn get(mapping: &Mapping, at: usize) -> u8 {
    assert!(at < mapping.len());
    // SAFETY: in range of a live mapping; shared memory, read as a raw byte.
    unsafe { mapping.as_ptr().add(at).read_volatile() }
  }

  fn put(mapping: &Mapping, at: usize, value: u8) {
    assert!(at < mapping.len());
    // SAFETY: in range of a live mapping; shared memory, written as a raw byte.
    unsafe { mapping.as_ptr().add(at).write_volatile(value) }
  }

  #[test]
  fn sizes_round_up_to_64_bytes() {
    assert_eq!(rounded_size(0), Some(64));
    assert_eq!(rounded_size(1), Some(64));
    assert_eq!(rounded_size(64), Some(64));
    assert_eq!(rounded_size(65), Some(128));
    assert_eq!(rounded_size(usize::MAX), None);
  }

  #[test]
  fn names_are_checked_and_given_one_slash() {
    assert_eq!(shm_name("abc").unwrap(), "/abc");
    assert_eq!(shm_name("/abc").unwrap(), "/abc");
    assert!(shm_name("").is_err());
    assert!(shm_name("/").is_err());
    assert!(shm_name("a/b").is_err());
    assert!(shm_name("a\0b").is_err());
  }

  #[test]
  fn an_anonymous_object_is_shared_by_every_mapping_of_its_descriptor() {
    let first = Mapping::create_anonymous(100).unwrap();
    assert_eq!(first.len(), 128);
    assert!((0..first.len()).all(|i| get(&first, i) == 0));
    put(&first, 5, 42);
    let second = Mapping::open_fd(first.fd()).unwrap();
    assert_ne!(
      first.as_ptr(),
      second.as_ptr(),
      "a second mapping of the same object"
    );
    assert_eq!(get(&second, 5), 42);
    put(&second, 6, 7);
    drop(first);
    assert_eq!(get(&second, 6), 7, "the object outlives the first mapping");
  }

  #[test]
  fn a_descriptor_reached_through_proc_must_still_be_the_object_that_was_sent() {
    use std::os::fd::AsRawFd;
    let pid = std::process::id();
    let sent = Mapping::create_anonymous(64).unwrap();
    let other = Mapping::create_anonymous(64).unwrap();
    let fd = sent.fd().as_raw_fd();
    let same = Mapping::open_process_fd(pid, fd, Some(sent.identity().unwrap())).unwrap();
    put(&sent, 3, 7);
    assert_eq!(get(&same, 3), 7, "the very object");
    // The number now names another object (as after a close and a reuse).
    let err = Mapping::open_process_fd(pid, other.fd().as_raw_fd(), Some(sent.identity().unwrap()))
      .expect_err("another object behind the number is refused");
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    assert!(
      Mapping::open_process_fd(pid, fd, None).is_ok(),
      "without an identity, any shared memory"
    );
  }

  #[test]
  fn a_named_object_is_created_once_opened_by_name_and_unlinked() {
    let name = format!("knitting-test-{}", std::process::id());
    let created = Mapping::create_named(&name, 4096).unwrap();
    assert!(
      Mapping::create_named(&name, 4096).is_err(),
      "create refuses an existing name"
    );
    put(&created, 0, 9);
    let opened = Mapping::open_named(&name).unwrap();
    assert_eq!(opened.len(), 4096);
    assert_eq!(get(&opened, 0), 9);
    unlink(&name).unwrap();
    assert!(Mapping::open_named(&name).is_err(), "gone after unlink");
    put(&opened, 1, 3);
    assert_eq!(get(&created, 1), 3, "mappings stay valid after unlink");
  }

  #[test]
  fn futex_wait_parks_until_woken_from_another_thread() {
    let mapping = Arc::new(Mapping::create_anonymous(64).unwrap());
    let woke = Arc::new(AtomicBool::new(false));
    let waiter = {
      let (mapping, woke) = (mapping.clone(), woke.clone());
      std::thread::spawn(move || {
        let word = mapping.word(0).unwrap();
        while word.load(Ordering::SeqCst) == 0 {
          futex_wait(word, 0, Some(Duration::from_secs(10)));
        }
        woke.store(true, Ordering::SeqCst);
      })
    };
    std::thread::sleep(Duration::from_millis(20));
    assert!(!woke.load(Ordering::SeqCst));
    store_and_wake(mapping.word(0).unwrap(), 1);
    waiter.join().unwrap();
    assert!(woke.load(Ordering::SeqCst));
    let word = mapping.word(4).unwrap();
    assert_eq!(futex_wait(word, 5, None), WaitOutcome::NotEqual);
    assert_eq!(
      futex_wait(word, 0, Some(Duration::from_millis(1))),
      WaitOutcome::TimedOut
    );
    assert!(mapping.word(2).is_none(), "unaligned");
    assert!(mapping.word(64).is_none(), "out of range");
  }

  #[test]
  fn a_mapping_is_unmapped_only_when_every_handle_closed_and_every_alias_is_proven_detached() {
    let registry = SharedRegistry::new();
    let (id, mapping) = registry.insert(Mapping::create_anonymous(64).unwrap());
    drop(mapping);
    let other = registry
      .open(id)
      .expect("a second handle (another isolate)");
    assert!(registry.alias(id).is_some());
    assert!(registry.alias(id).is_some());
    registry.close(id);
    drop(other);
    registry.close(id);
    assert_eq!(
      registry.stats().kept_mappings,
      1,
      "two aliases not proven detached"
    );
    assert!(
      registry.open(id).is_none() && registry.alias(id).is_none(),
      "closed for good"
    );
    registry.aliases_detached(id, 1);
    assert_eq!(registry.stats().kept_mappings, 1);
    registry.aliases_detached(id, 1);
    assert_eq!(registry.stats(), SharedStats::default(), "unmapped at last");
  }
}
