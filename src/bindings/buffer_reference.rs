//! The native half of `BufferReference` (the JS half in `lib/buffer-reference/`
//! checks and moves the user's source, then calls this constructor, and keeps
//! the plain state: length, released, the region's buffer once known).
//!
//! A reference holds one engine `ArrayBuffer` that nobody else can reach: the
//! JS layer moved it out of the user's source with `transfer()`, which keeps
//! the data pointer, so construction never copies. The reference describes a
//! region of that buffer; the first time the bytes are materialized, a region
//! narrower than its buffer is compacted into a buffer of its own (one copy of
//! the region, then the rest is freed), so no view ever exposes bytes outside
//! the region. `release()` detaches the buffer — the engine frees the bytes at
//! once and every view handed out reads as length 0 — so a stale view can
//! never observe freed memory. (Freeing at once measured faster than leaving
//! the bytes to the garbage collector: deferred frees of large buffers pull
//! collections into the caller's hot path.) A reference collected without `release()` only
//! drops its handle: the engine frees the bytes when the last view is gone.

use napi::bindgen_prelude::*;
use napi::{sys, Env};
use napi_derive::napi;

use super::held_buffer::{buffer_info, create_buffer, detach, HeldBuffer};
use super::{throw, REGISTRY};
use crate::copy_engine;
use crate::errors::ErrorCode;
use crate::registry::RegionId;

struct Owned {
  region: RegionId,
  buffer: HeldBuffer,
  byte_offset: usize,
  byte_length: usize,
}

/// Native state of a `BufferReference`: `None` once released.
#[napi(js_name = "NativeBufferReference", custom_finalize)]
pub struct NativeBufferReference {
  owned: Option<Owned>,
}

fn to_usize(value: i64) -> Option<usize> {
  usize::try_from(value).ok()
}

#[napi]
impl NativeBufferReference {
  /// Takes ownership of `buffer` (already moved by the caller) and describes
  /// `byteLength` bytes of it from `byteOffset`.
  #[napi(constructor)]
  pub fn new(env: Env, buffer: ArrayBuffer, byte_offset: i64, byte_length: i64) -> Result<Self> {
    let available = buffer.len();
    let range = to_usize(byte_offset)
      .zip(to_usize(byte_length))
      .filter(|&(offset, length)| {
        offset
          .checked_add(length)
          .is_some_and(|end| end <= available)
      });
    let Some((byte_offset, byte_length)) = range else {
      return Err(throw(&env, ErrorCode::InvalidSource));
    };
    let held = HeldBuffer::new(&env, buffer.raw())?;
    Ok(Self {
      owned: Some(Owned {
        region: REGISTRY.register(byte_length),
        buffer: held,
        byte_offset,
        byte_length,
      }),
    })
  }

  /// The `ArrayBuffer` holding exactly the region (the same object every call).
  #[napi(js_name = "toArrayBuffer", ts_return_type = "ArrayBuffer")]
  pub fn array_buffer<'env>(&mut self, env: &'env Env) -> Result<Unknown<'env>> {
    let (buffer, _) = self.materialize(env)?;
    // SAFETY: `buffer` comes from a reference of this env, valid for the call.
    Ok(unsafe { Unknown::from_raw_unchecked(env.raw(), buffer) })
  }

  /// Hands the bytes over for a move to another thread: returns the buffer
  /// that holds exactly the region and forgets it, leaving the reference
  /// released. The caller must move the buffer away at once (a transfer list
  /// detaches it here, so views handed out before read as length 0).
  /// Not part of the public API; the JS layer calls it when sending.
  #[napi(ts_return_type = "ArrayBuffer")]
  pub fn take<'env>(&mut self, env: &'env Env) -> Result<Unknown<'env>> {
    let (buffer, _) = self.materialize(env)?;
    if let Some(owned) = self.owned.take() {
      owned.buffer.delete(env);
      REGISTRY.forget(owned.region);
    }
    // SAFETY: `buffer` is a handle of this call's scope; it stays valid after
    // the reference behind it is deleted.
    Ok(unsafe { Unknown::from_raw_unchecked(env.raw(), buffer) })
  }

  /// Frees the bytes now and detaches every view handed out. Idempotent.
  #[napi]
  pub fn release(&mut self, env: &Env) -> Result<()> {
    let Some(owned) = self.owned.take() else {
      return Ok(());
    };
    let detached = owned
      .buffer
      .value(env)
      .and_then(|buffer| detach(env, buffer));
    owned.buffer.delete(env);
    REGISTRY.forget(owned.region);
    detached
  }
}

impl NativeBufferReference {
  /// The buffer that holds exactly the region (compacting a sub-region into
  /// its own buffer the first time), and the region's length.
  fn materialize(&mut self, env: &Env) -> Result<(sys::napi_value, usize)> {
    let Some(owned) = self.owned.as_mut() else {
      return Err(throw(env, ErrorCode::Released));
    };
    let buffer = owned.buffer.value(env)?;
    let info = buffer_info(env, buffer)?;
    if owned.byte_offset == 0 && owned.byte_length == info.byte_length {
      return Ok((buffer, owned.byte_length));
    }
    if owned.byte_offset + owned.byte_length > info.byte_length {
      // Only this reference can reach the buffer, so it cannot shrink; refuse
      // rather than read out of bounds if that ever changes.
      return Err(throw(env, ErrorCode::Released));
    }
    let (compact, data) = create_buffer(env, owned.byte_length)?;
    if owned.byte_length > 0 {
      // SAFETY: the source range [offset, offset + length) lies inside the
      // buffer (checked just above against its current length) and `data`
      // points at a fresh allocation of `length` bytes; the two do not
      // overlap, and no JS runs (so neither buffer can move or be freed)
      // until this synchronous call returns.
      let (source, target) = unsafe {
        (
          std::slice::from_raw_parts(info.data.add(owned.byte_offset), owned.byte_length),
          std::slice::from_raw_parts_mut(data, owned.byte_length),
        )
      };
      copy_engine::copy_bytes(source, target);
    }
    let held = HeldBuffer::new(env, compact)?;
    let old = std::mem::replace(&mut owned.buffer, held);
    // The rest of the original buffer is unreachable from here on: free it.
    detach(env, buffer)?;
    old.delete(env);
    owned.byte_offset = 0;
    Ok((compact, owned.byte_length))
  }
}

impl ObjectFinalize for NativeBufferReference {
  fn finalize(mut self, env: Env) -> Result<()> {
    // The garbage collector runs this on the thread of the env that created
    // the reference. Views may still be alive, so only let go of the buffer:
    // the engine frees it once they are gone too.
    if let Some(owned) = self.owned.take() {
      owned.buffer.delete(&env);
      REGISTRY.forget(owned.region);
    }
    Ok(())
  }
}
