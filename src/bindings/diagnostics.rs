//! Read-only diagnostics for tests and curious users: what the registry holds,
//! and where an engine buffer's bytes live.

use std::ptr;

use napi::bindgen_prelude::*;
use napi::{sys, Env};
use napi_derive::napi;

use super::{check, REGISTRY};

/// What the ownership registry holds right now, process-wide.
#[napi(object)]
pub struct ReferenceStats {
  /// Regions owned by live (unreleased, uncollected) references.
  pub live_regions: f64,
  /// Bytes in those regions.
  pub bytes_held: f64,
  /// Regions deliberately leaked until exit to rule out a use-after-free.
  pub leaked_regions: f64,
  /// Bytes in those regions.
  pub leaked_bytes: f64,
}

#[napi]
pub fn reference_stats() -> ReferenceStats {
  let stats = REGISTRY.stats();
  ReferenceStats {
    live_regions: stats.live_regions as f64,
    bytes_held: stats.bytes_held as f64,
    leaked_regions: stats.leaked_regions as f64,
    leaked_bytes: stats.leaked_bytes as f64,
  }
}

/// Address of the first byte that `value` (an ArrayBuffer or a typed array or
/// DataView) exposes, read from that very object in the calling thread; `0n`
/// when it has no bytes (detached or empty).
#[napi(ts_args_type = "value: ArrayBuffer | ArrayBufferView")]
pub fn address_of(env: Env, value: Unknown) -> Result<BigInt> {
  let raw = value.raw();
  let mut is_buffer = false;
  let mut is_typed_array = false;
  let mut data: *mut std::ffi::c_void = ptr::null_mut();
  // SAFETY (all blocks below): `raw` is a live handle of this call, every out
  // pointer is a valid local, and N-API validates the value's type itself.
  check(
    unsafe { sys::napi_is_arraybuffer(env.raw(), raw, &mut is_buffer) },
    "napi_is_arraybuffer",
  )?;
  check(
    // SAFETY: as above: a live handle of this call and a valid out pointer.
    unsafe { sys::napi_is_typedarray(env.raw(), raw, &mut is_typed_array) },
    "napi_is_typedarray",
  )?;
  if is_buffer {
    let mut length = 0;
    check(
      // SAFETY: `raw` is an ArrayBuffer (checked just above); out pointers are valid locals.
      unsafe { sys::napi_get_arraybuffer_info(env.raw(), raw, &mut data, &mut length) },
      "napi_get_arraybuffer_info",
    )?;
  } else if is_typed_array {
    let mut kind = 0;
    let mut length = 0;
    let mut buffer = ptr::null_mut();
    let mut offset = 0;
    check(
      // SAFETY: `raw` is a typed array (checked just above); out pointers are valid locals.
      unsafe {
        sys::napi_get_typedarray_info(
          env.raw(),
          raw,
          &mut kind,
          &mut length,
          &mut data,
          &mut buffer,
          &mut offset,
        )
      },
      "napi_get_typedarray_info",
    )?;
  } else {
    let mut length = 0;
    let mut buffer = ptr::null_mut();
    let mut offset = 0;
    check(
      // SAFETY: N-API checks that `raw` is a DataView and fails otherwise; out pointers are valid locals.
      unsafe {
        sys::napi_get_dataview_info(
          env.raw(),
          raw,
          &mut length,
          &mut data,
          &mut buffer,
          &mut offset,
        )
      },
      "addressOf expects an ArrayBuffer, typed array or DataView; napi_get_dataview_info",
    )?;
  }
  Ok(BigInt::from(data as usize as u64))
}

/// Tells the engine's collector that `delta` bytes outside its heap became
/// reachable (positive) or were freed (negative) through objects it manages:
/// a pool's SharedArrayBuffers, which V8 does not weigh, so that dropped pools
/// are collected (and their memory freed) before the process grows without
/// bound. Returns the engine's new total of such bytes.
#[napi]
pub fn adjust_external_memory(env: Env, delta: i64) -> Result<i64> {
  env.adjust_external_memory(delta)
}
