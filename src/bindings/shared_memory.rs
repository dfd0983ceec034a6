//! The native half of `ProcessSharedBuffer` (the JS half is
//! `lib/shared-memory/`): a handle on one OS shared-memory mapping, and the
//! engine buffers ("aliases") it hands out over the mapping's bytes.
//!
//! An alias is an external `ArrayBuffer` with no finalizer: the engine never
//! frees the memory, the registry (`crate::shared_memory::SharedRegistry`)
//! does, and only once every handle is closed and every alias was proven
//! detached. `close()` detaches the aliases this handle handed out (their
//! views read as length 0 from then on); an alias it cannot prove detached
//! (collected, or moved away by `transfer()`) keeps the mapping until exit.

use std::ptr;
use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::{sys, Env};
use napi_derive::napi;

use super::check;
use super::held_buffer::{buffer_info, detach};
use super::SHARED;
use crate::shared_memory::{self, Identity, Kind, Mapping};

/// A weak reference to an alias this handle handed out.
struct Alias(sys::napi_ref);

#[napi(js_name = "NativeSharedMemory")]
pub struct NativeSharedMemory {
  id: u64,
  /// `None` once closed.
  mapping: Option<Arc<Mapping>>,
  aliases: Vec<Alias>,
}

fn io_error(what: &str, error: std::io::Error) -> Error {
  Error::new(Status::GenericFailure, format!("{what}: {error}"))
}

fn size_arg(size: f64) -> Result<usize> {
  if size.is_finite() && size >= 0.0 && size <= (u32::MAX as f64) * 1024.0 && size.fract() == 0.0 {
    Ok(size as usize)
  } else {
    Err(Error::new(
      Status::InvalidArg,
      format!("a size in bytes must be a whole number from 0; received {size}"),
    ))
  }
}

impl NativeSharedMemory {
  fn registered(mapping: Mapping) -> Self {
    let (id, mapping) = SHARED.insert(mapping);
    Self {
      id,
      mapping: Some(mapping),
      aliases: Vec::new(),
    }
  }

  fn mapping(&self) -> Result<&Arc<Mapping>> {
    self.mapping.as_ref().ok_or_else(|| {
      Error::new(
        Status::InvalidArg,
        "this shared memory was closed".to_string(),
      )
    })
  }
}

#[napi]
impl NativeSharedMemory {
  /// A new anonymous object (memfd) of `size` bytes, rounded up to 64.
  #[napi(factory)]
  pub fn create_anonymous(size: f64) -> Result<Self> {
    let mapping =
      Mapping::create_anonymous(size_arg(size)?).map_err(|e| io_error("memfd_create", e))?;
    Ok(Self::registered(mapping))
  }

  /// A new named object (shm_open, O_EXCL) of `size` bytes, rounded up to 64.
  #[napi(factory)]
  pub fn create_named(name: String, size: f64) -> Result<Self> {
    let mapping = Mapping::create_named(&name, size_arg(size)?)
      .map_err(|e| io_error("shm_open (create)", e))?;
    Ok(Self::registered(mapping))
  }

  /// Maps an existing named object.
  #[napi(factory)]
  pub fn open_named(name: String) -> Result<Self> {
    let mapping = Mapping::open_named(&name).map_err(|e| io_error("shm_open (open)", e))?;
    Ok(Self::registered(mapping))
  }

  /// Maps the object behind descriptor `fd` of this process (e.g. one a parent handed down).
  #[napi(factory)]
  pub fn open_fd(fd: i32) -> Result<Self> {
    if fd < 0 {
      return Err(Error::new(
        Status::InvalidArg,
        format!("not a descriptor: {fd}"),
      ));
    }
    // SAFETY: borrowing for the duration of `open_fd`, which duplicates it
    // before returning. If `fd` is not open, fstat/dup fail with EBADF; the
    // borrow never touches memory.
    let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
    let mapping = Mapping::open_fd(borrowed).map_err(|e| io_error("open descriptor", e))?;
    Ok(Self::registered(mapping))
  }

  /// Maps the object behind descriptor `fd` of process `pid` (a parent's
  /// anonymous object, reached through /proc on Linux). `identity`: what
  /// the sender's `identity` said ("device:inode"); another object behind
  /// that number (closed and reused) is refused.
  #[napi(factory)]
  pub fn open_process_fd(pid: u32, fd: i32, identity: Option<String>) -> Result<Self> {
    let identity = identity.map(|text| parse_identity(&text)).transpose()?;
    let mapping = Mapping::open_process_fd(pid, fd, identity)
      .map_err(|e| io_error("open another process's descriptor", e))?;
    Ok(Self::registered(mapping))
  }

  /// Which object this is, as "device:inode", for `openProcessFd` in another
  /// process (null once closed).
  #[napi(getter)]
  pub fn identity(&self) -> Result<Option<String>> {
    match self.mapping.as_ref() {
      None => Ok(None),
      Some(mapping) => {
        let identity = mapping
          .identity()
          .map_err(|e| io_error("identify shared memory", e))?;
        Ok(Some(format!("{}:{}", identity.device, identity.inode)))
      }
    }
  }

  /// Another handle, in this isolate, on mapping `id` of this process (a
  /// ProcessSharedBuffer received from another thread).
  #[napi(factory)]
  pub fn open_id(id: f64) -> Result<Self> {
    let mapping_id = id as u64;
    let mapping = SHARED.open(mapping_id).ok_or_else(|| {
      Error::new(
        Status::InvalidArg,
        "that shared memory was closed".to_string(),
      )
    })?;
    Ok(Self {
      id: mapping_id,
      mapping: Some(mapping),
      aliases: Vec::new(),
    })
  }

  /// Takes over the handle a sender opened in transit (`retainSharedMemory`).
  #[napi(factory)]
  pub fn adopt(id: f64) -> Result<Self> {
    let mapping_id = id as u64;
    let mapping = SHARED.adopt(mapping_id).ok_or_else(|| {
      Error::new(
        Status::InvalidArg,
        "that shared memory was closed".to_string(),
      )
    })?;
    Ok(Self {
      id: mapping_id,
      mapping: Some(mapping),
      aliases: Vec::new(),
    })
  }

  #[napi(getter)]
  pub fn id(&self) -> f64 {
    self.id as f64
  }

  #[napi(getter)]
  pub fn closed(&self) -> bool {
    self.mapping.is_none()
  }

  /// Size of the mapping in bytes (0 once closed).
  #[napi(getter)]
  pub fn byte_length(&self) -> f64 {
    self.mapping.as_ref().map_or(0.0, |m| m.len() as f64)
  }

  /// The object's descriptor in this process (-1 once closed).
  #[napi(getter)]
  pub fn fd(&self) -> i32 {
    use std::os::fd::AsRawFd;
    self.mapping.as_ref().map_or(-1, |m| m.fd().as_raw_fd())
  }

  #[napi(getter)]
  pub fn name(&self) -> Option<String> {
    self
      .mapping
      .as_ref()
      .and_then(|m| m.name().map(str::to_owned))
  }

  /// "anonymous" or "named".
  #[napi(getter)]
  pub fn kind(&self) -> String {
    match self.mapping.as_ref().map(|m| m.kind()) {
      Some(Kind::Named) => "named".to_string(),
      _ => "anonymous".to_string(),
    }
  }

  /// A new ArrayBuffer over the whole mapping (not a copy).
  #[napi(ts_return_type = "ArrayBuffer")]
  pub fn alias<'env>(&mut self, env: &'env Env) -> Result<Unknown<'env>> {
    let (ptr, len) = {
      let mapping = self.mapping()?;
      (mapping.as_ptr(), mapping.len())
    };
    if SHARED.alias(self.id).is_none() {
      return Err(Error::new(
        Status::InvalidArg,
        "this shared memory was closed".to_string(),
      ));
    }
    let mut value = ptr::null_mut();
    // SAFETY: `ptr..ptr+len` is a live mapping that the registry keeps mapped
    // while this alias is counted (it is uncounted only once proven detached),
    // so the engine never sees unmapped memory through it. No finalizer: the
    // engine must not free it, and it needs no notice when the buffer dies.
    let created = check(
      unsafe {
        sys::napi_create_external_arraybuffer(
          env.raw(),
          ptr.cast(),
          len,
          None,
          ptr::null_mut(),
          &mut value,
        )
      },
      "napi_create_external_arraybuffer",
    );
    if let Err(error) = created {
      SHARED.aliases_detached(self.id, 1);
      return Err(error);
    }
    let mut weak = ptr::null_mut();
    // SAFETY: a weak reference (count 0) to the buffer just made, in this env;
    // it is read and deleted on this thread only (close, or never: the env
    // reclaims references at teardown).
    check(
      unsafe { sys::napi_create_reference(env.raw(), value, 0, &mut weak) },
      "napi_create_reference",
    )?;
    self.aliases.push(Alias(weak));
    // SAFETY: `value` is a handle of this call's scope.
    Ok(unsafe { Unknown::from_raw_unchecked(env.raw(), value) })
  }

  /// Blocks this thread while the 32-bit word at byte `offset` holds
  /// `expected`, until another thread or process notifies it or `timeoutMs`
  /// pass (Infinity: no limit). "ok", "not-equal" or "timed-out", as Atomics.wait.
  #[napi]
  pub fn wait(&self, offset: f64, expected: i32, timeout_ms: f64) -> Result<&'static str> {
    let mapping = self.mapping()?;
    let word = word_at(mapping, offset)?;
    Ok(outcome_name(shared_memory::futex_wait(
      word,
      expected as u32,
      timeout(timeout_ms)?,
    )))
  }

  /// `wait` without blocking: a thread of its own waits and settles the
  /// promise (the mapping stays mapped while it waits).
  #[napi(ts_return_type = "Promise<\"ok\" | \"not-equal\" | \"timed-out\">")]
  pub fn wait_async<'env>(
    &self,
    env: &'env Env,
    offset: f64,
    expected: i32,
    timeout_ms: f64,
  ) -> Result<Object<'env>> {
    let mapping = self.mapping()?.clone();
    word_at(&mapping, offset)?;
    let timeout = timeout(timeout_ms)?;
    let at = offset as usize;
    let (deferred, promise) = env.create_deferred()?;
    std::thread::Builder::new()
      .name("knitting-wait".to_string())
      .spawn(move || {
        let outcome = match mapping.word(at) {
          Some(word) => shared_memory::futex_wait(word, expected as u32, timeout),
          None => shared_memory::WaitOutcome::NotEqual,
        };
        deferred.resolve(move |_| Ok(outcome_name(outcome)));
      })
      .map_err(|e| io_error("start a waiting thread", e))?;
    Ok(promise)
  }

  /// Wakes up to `count` waiters (in any process) on the word at byte `offset`; returns how many woke.
  #[napi]
  pub fn notify(&self, offset: f64, count: f64) -> Result<f64> {
    let mapping = self.mapping()?;
    let word = word_at(mapping, offset)?;
    // As Atomics.notify: Infinity wakes all; a negative count or NaN, none.
    let count = if count == f64::INFINITY {
      u32::MAX
    } else if count > 0.0 {
      count.min(u32::MAX as f64) as u32
    } else {
      0
    };
    Ok(shared_memory::futex_wake(word, count) as f64)
  }

  /// Detaches every alias this handle handed out and closes the handle. The
  /// mapping is unmapped once no handle is open and no alias can reach it.
  /// Idempotent.
  #[napi]
  pub fn close(&mut self, env: &Env) -> Result<()> {
    if self.mapping.take().is_none() {
      return Ok(());
    }
    let mut proven = 0;
    for Alias(weak) in self.aliases.drain(..) {
      let mut value = ptr::null_mut();
      // SAFETY: `weak` was created in this env (close runs on its thread).
      let status = unsafe { sys::napi_get_reference_value(env.raw(), weak, &mut value) };
      if status == sys::Status::napi_ok && !value.is_null() {
        // Still alive. If its data is gone, something else detached it (a
        // transfer() moved the memory elsewhere): not a proof.
        let attached = buffer_info(env, value).is_ok_and(|info| !info.data.is_null());
        if attached && detach(env, value).is_ok() {
          proven += 1;
        }
      }
      // SAFETY: deleting once, on the env that created it.
      unsafe { sys::napi_delete_reference(env.raw(), weak) };
    }
    SHARED.aliases_detached(self.id, proven);
    SHARED.close(self.id);
    Ok(())
  }
}

fn word_at(mapping: &Mapping, offset: f64) -> Result<&std::sync::atomic::AtomicU32> {
  let at = if offset.is_finite() && offset >= 0.0 && offset.fract() == 0.0 {
    Some(offset as usize)
  } else {
    None
  };
  at.and_then(|at| mapping.word(at)).ok_or_else(|| {
    Error::new(
      Status::InvalidArg,
      format!(
        "no 4-byte aligned word at byte {offset} of {} bytes",
        mapping.len()
      ),
    )
  })
}

fn timeout(ms: f64) -> Result<Option<std::time::Duration>> {
  if ms.is_nan() || ms < 0.0 {
    return Err(Error::new(
      Status::InvalidArg,
      format!("a timeout is a number of milliseconds from 0, or Infinity; received {ms}"),
    ));
  }
  // Infinity, or a finite timeout too long for a Duration: no limit.
  Ok(std::time::Duration::try_from_secs_f64(ms / 1000.0).ok())
}

fn outcome_name(outcome: shared_memory::WaitOutcome) -> &'static str {
  match outcome {
    shared_memory::WaitOutcome::Woken => "ok",
    shared_memory::WaitOutcome::NotEqual => "not-equal",
    shared_memory::WaitOutcome::TimedOut => "timed-out",
  }
}

impl Drop for NativeSharedMemory {
  fn drop(&mut self) {
    // Collected without close(): the handle closes; its aliases stay counted
    // (nothing proves them detached), which keeps the mapping until exit.
    if self.mapping.take().is_some() {
      SHARED.close(self.id);
    }
  }
}

/// Opens a handle on mapping `id` for a message in transit to another thread
/// of this process (the receiver adopts it). False if the mapping is closed.
#[napi]
pub fn retain_shared_memory(id: f64) -> bool {
  SHARED.open(id as u64).is_some()
}

/// Closes a handle opened by `retainSharedMemory` that no receiver will adopt.
#[napi]
pub fn release_shared_memory(id: f64) {
  SHARED.close(id as u64);
}

/// Removes a named object's name; existing mappings stay valid.
#[napi]
pub fn unlink_shared_memory(name: String) -> Result<()> {
  shared_memory::unlink(&name).map_err(|e| io_error("shm_unlink", e))
}

/// What the shared-memory registry holds right now, process-wide.
#[napi(object)]
pub struct SharedMemoryStats {
  /// Mappings with an open handle, and their bytes.
  pub open_mappings: f64,
  pub open_bytes: f64,
  /// Mappings every handle closed but kept until exit because a buffer over
  /// them could not be proven detached, and their bytes.
  pub kept_mappings: f64,
  pub kept_bytes: f64,
}

#[napi]
pub fn shared_memory_stats() -> SharedMemoryStats {
  let stats = SHARED.stats();
  SharedMemoryStats {
    open_mappings: stats.open_mappings as f64,
    open_bytes: stats.open_bytes as f64,
    kept_mappings: stats.kept_mappings as f64,
    kept_bytes: stats.kept_bytes as f64,
  }
}

/// Has the kernel kill this process when the process that started it exits
/// (Linux `PR_SET_PDEATHSIG`): a process worker never outlives its pool's
/// host, even one that was killed. Returns false where the OS has no such
/// setting (the worker then watches its parent instead).
#[napi]
pub fn die_with_parent() -> bool {
  #[cfg(target_os = "linux")]
  {
    rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL)).is_ok()
  }
  #[cfg(not(target_os = "linux"))]
  {
    false
  }
}

/// "device:inode" (see `identity`).
fn parse_identity(text: &str) -> Result<Identity> {
  let parsed = text.split_once(':').and_then(|(device, inode)| {
    Some(Identity {
      device: device.parse().ok()?,
      inode: inode.parse().ok()?,
    })
  });
  parsed.ok_or_else(|| {
    Error::new(
      Status::InvalidArg,
      format!("not a shared-memory identity: {text:?}"),
    )
  })
}
