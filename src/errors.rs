//! The errors the native core raises: one table, each entry with the stable
//! `code` that JS callers can match on and a message that says what to do
//! instead. The JS layer has the matching table in `lib/errors.js`.

/// A stable error code, as it appears on the JS `Error`'s `code` property.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
  /// The reference was released (or sent) and no longer owns bytes.
  Released,
  /// The arguments given to a native constructor do not describe a region.
  InvalidSource,
}

impl ErrorCode {
  pub fn code(self) -> &'static str {
    match self {
      ErrorCode::Released => "ERR_KNITTING_RELEASED",
      ErrorCode::InvalidSource => "ERR_KNITTING_INVALID_SOURCE",
    }
  }

  /// Whether the JS error is a `TypeError` (bad input) rather than an `Error`.
  pub fn is_type_error(self) -> bool {
    matches!(self, ErrorCode::InvalidSource)
  }

  pub fn message(self) -> &'static str {
    match self {
      ErrorCode::Released => {
        "BufferReference has been released: its bytes were freed or sent to another thread. \
         Read the bytes before release() or before passing the reference to a call, \
         and create a new BufferReference for new bytes."
      }
      ErrorCode::InvalidSource => {
        "BufferReference region is out of range for its buffer. \
         Construct references with new BufferReference(arrayBufferOrView)."
      }
    }
  }
}

impl AsRef<str> for ErrorCode {
  fn as_ref(&self) -> &str {
    self.code()
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn codes_are_stable_and_prefixed() {
    for code in [ErrorCode::Released, ErrorCode::InvalidSource] {
      assert!(code.code().starts_with("ERR_KNITTING_"));
      assert!(!code.message().is_empty());
    }
    assert_eq!(ErrorCode::Released.code(), "ERR_KNITTING_RELEASED");
  }
}
