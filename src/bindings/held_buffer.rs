//! A strong, same-thread handle on one engine `ArrayBuffer`.
//!
//! `napi_ref`s must be created, read and deleted on the thread of the env that
//! made them, so `HeldBuffer` is deliberately neither `Send` nor `Sync` and
//! every method takes the env of the current call.

use std::ptr;

use napi::{sys, Env};

use super::check;

pub(crate) struct HeldBuffer {
  raw: sys::napi_ref,
  // `*mut ()` makes the type !Send and !Sync: the ref belongs to one thread.
  _not_send: std::marker::PhantomData<*mut ()>,
}

/// Address and length of an `ArrayBuffer`'s bytes at the moment of the call.
pub(crate) struct BufferInfo {
  pub data: *mut u8,
  pub byte_length: usize,
}

impl HeldBuffer {
  /// Takes a strong reference on `buffer`, which must be an `ArrayBuffer`.
  pub fn new(env: &Env, buffer: sys::napi_value) -> napi::Result<Self> {
    let mut raw = ptr::null_mut();
    // SAFETY: `env` is the current call's env on its own thread and `buffer`
    // is a live handle from the same call; a strong reference (count 1) keeps
    // the buffer alive until `delete` runs on this thread.
    check(
      unsafe { sys::napi_create_reference(env.raw(), buffer, 1, &mut raw) },
      "napi_create_reference",
    )?;
    Ok(Self {
      raw,
      _not_send: std::marker::PhantomData,
    })
  }

  /// The buffer as a handle valid for the current call.
  pub fn value(&self, env: &Env) -> napi::Result<sys::napi_value> {
    let mut value = ptr::null_mut();
    // SAFETY: the reference is strong and was created in this env (the type
    // cannot leave its thread), so the value it yields is the live buffer.
    check(
      unsafe { sys::napi_get_reference_value(env.raw(), self.raw, &mut value) },
      "napi_get_reference_value",
    )?;
    Ok(value)
  }

  /// Drops the reference; the engine frees the buffer once no view uses it.
  pub fn delete(self, env: &Env) {
    // SAFETY: deleting on the thread and env that created the reference, once
    // (this consumes `self`). Failure can only mean the env is tearing down,
    // where the engine reclaims references itself.
    unsafe { sys::napi_delete_reference(env.raw(), self.raw) };
  }
}

/// Data pointer and length of an `ArrayBuffer` handle (null and 0 once detached).
pub(crate) fn buffer_info(env: &Env, buffer: sys::napi_value) -> napi::Result<BufferInfo> {
  let mut data = ptr::null_mut();
  let mut byte_length = 0;
  // SAFETY: `buffer` is a live handle of the current call; N-API checks that it
  // is an ArrayBuffer and reports an error status otherwise.
  check(
    unsafe { sys::napi_get_arraybuffer_info(env.raw(), buffer, &mut data, &mut byte_length) },
    "napi_get_arraybuffer_info",
  )?;
  Ok(BufferInfo {
    data: data.cast(),
    byte_length,
  })
}

/// Detaches `buffer`: every view of it reads as length 0 from now on and the
/// engine frees its bytes immediately.
pub(crate) fn detach(env: &Env, buffer: sys::napi_value) -> napi::Result<()> {
  // SAFETY: `buffer` is a live ArrayBuffer handle of the current call; N-API
  // refuses (with an error status) buffers that cannot be detached.
  check(
    unsafe { sys::napi_detach_arraybuffer(env.raw(), buffer) },
    "napi_detach_arraybuffer",
  )
}

/// A new zero-filled `ArrayBuffer` of `byte_length` bytes and its data pointer.
pub(crate) fn create_buffer(
  env: &Env,
  byte_length: usize,
) -> napi::Result<(sys::napi_value, *mut u8)> {
  let mut data = ptr::null_mut();
  let mut value = ptr::null_mut();
  // SAFETY: plain allocation through the current env; both out-pointers are
  // valid locals.
  check(
    unsafe { sys::napi_create_arraybuffer(env.raw(), byte_length, &mut data, &mut value) },
    "napi_create_arraybuffer",
  )?;
  Ok((value, data.cast()))
}
