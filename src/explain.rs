//! Sign-in and activation error codes explained.
