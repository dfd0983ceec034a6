//! Bindings of the copy engine.

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::copy_engine;

/// Copies the bytes of `source` into `target`, which must have the same byte
/// length; large copies run in parallel on rayon's pool and are complete on
/// return. Returns whether the copy ran in parallel.
#[napi(js_name = "copyInto")]
pub fn copy_into(source: Uint8ArraySlice, mut target: ArrayBuffer) -> Result<bool> {
  if source.len() != target.len() {
    return Err(Error::new(
      Status::InvalidArg,
      format!(
        "copyInto needs a target of the same length: source {} bytes, target {} bytes",
        source.len(),
        target.len()
      ),
    ));
  }
  // SAFETY: `target` is an ArrayBuffer this thread created a moment ago and
  // has not handed to anyone, so nothing else reads or writes it during the
  // copy; `source` is only read. The engine cannot move or free either buffer
  // while this synchronous call runs (no JS runs until it returns).
  let target = unsafe { target.as_mut() };
  Ok(copy_engine::copy_bytes(&source, target))
}

/// Copies of at least this many bytes run in parallel.
#[napi(js_name = "copyParallelThreshold")]
pub fn copy_parallel_threshold() -> f64 {
  copy_engine::parallel_threshold() as f64
}

/// Sets the size from which copies run in parallel (bytes).
#[napi(js_name = "setCopyParallelThreshold")]
pub fn set_copy_parallel_threshold(bytes: f64) -> Result<()> {
  if !(bytes.is_finite() && bytes >= 0.0) {
    return Err(Error::new(
      Status::InvalidArg,
      "the threshold must be a non-negative number of bytes",
    ));
  }
  copy_engine::set_parallel_threshold(bytes as usize);
  Ok(())
}
