//! `#[napi]` bindings: thin wrappers that translate between JS values and the
//! pure modules of the crate.

mod buffer_reference;
mod copy;
mod diagnostics;
mod held_buffer;
mod shared_memory;

use std::sync::LazyLock;

use crate::errors::ErrorCode;
use crate::registry::OwnershipRegistry;
use crate::shared_memory::SharedRegistry;

/// The one registry of the process. Host and worker threads load the same
/// addon image, so they all see this instance.
pub(crate) static REGISTRY: LazyLock<OwnershipRegistry> = LazyLock::new(OwnershipRegistry::new);

/// Every OS shared-memory mapping JS can reach in this process (all threads).
pub(crate) static SHARED: LazyLock<SharedRegistry> = LazyLock::new(SharedRegistry::new);

/// Throws a JS `Error` whose `code` and message come from the errors table,
/// and returns the marker error that tells napi-rs an exception is pending.
pub(crate) fn throw(env: &napi::Env, code: ErrorCode) -> napi::Error {
  let code_text = std::ffi::CString::new(code.code()).expect("codes have no NUL");
  let message = std::ffi::CString::new(code.message()).expect("messages have no NUL");
  // SAFETY: `env` is the live env of the current call (napi-rs hands it to the
  // method on its own thread) and both strings are NUL-terminated and outlive
  // the call, which copies them into the engine.
  let status = unsafe {
    if code.is_type_error() {
      napi::sys::napi_throw_type_error(env.raw(), code_text.as_ptr(), message.as_ptr())
    } else {
      napi::sys::napi_throw_error(env.raw(), code_text.as_ptr(), message.as_ptr())
    }
  };
  if status == napi::sys::Status::napi_ok {
    napi::Error::from_status(napi::Status::PendingException)
  } else {
    napi::Error::new(napi::Status::from(status), code.message())
  }
}

/// Turns a failed raw N-API status into an error (with the engine's message).
pub(crate) fn check(status: napi::sys::napi_status, what: &str) -> napi::Result<()> {
  if status == napi::sys::Status::napi_ok {
    Ok(())
  } else {
    Err(napi::Error::new(
      napi::Status::from(status),
      format!("{what} failed"),
    ))
  }
}
