//! Copying to the clipboard through the terminal: the OSC 52 escape sequence asks the
//! terminal itself to set its clipboard, so a copy works over SSH and inside tmux (with
//! `set-clipboard on`), where no clipboard of the machine running m365mon is near.
//! Terminals that do not support it ignore the sequence.

use std::io::{self, Write};

use crate::http::base64_encode;

/// The OSC 52 sequence that puts `text` on the clipboard (`c`).
pub fn osc52(text: &str) -> String {
    format!("\x1b]52;c;{}\x07", base64_encode(text.as_bytes()))
}

/// Writes the sequence to the terminal the screen is drawn on.
pub fn copy_to_terminal(text: &str) -> io::Result<()> {
    let mut out = io::stdout();
    out.write_all(osc52(text).as_bytes())?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_rfc_4648_test_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64_encode(plain.as_bytes()), encoded, "{plain:?}");
        }
    }

    #[test]
    fn osc52_wraps_the_text_for_the_clipboard_selection() {
        assert_eq!(osc52("nc -vz x 443"), "\x1b]52;c;bmMgLXZ6IHggNDQz\x07");
    }
}
