//! What the fuzz targets share: reading an input as an HTTP-like message, so the seed corpus
//! is plain text a person can read and write.

/// A message read leniently: a first line, `name: value` header lines up to a blank line, then
/// the body.
#[derive(Debug)]
pub struct Message<'a> {
    /// The first line (a status code or a request line).
    pub start: &'a str,
    /// The header lines that have a colon.
    pub headers: Vec<(&'a str, &'a str)>,
    /// Everything after the first blank line.
    pub body: &'a str,
}

impl<'a> Message<'a> {
    /// Reads `text`; never fails.
    pub fn read(text: &'a str) -> Self {
        let (head, body) = text.split_once("\n\n").unwrap_or((text, ""));
        let mut lines = head.lines();
        let start = lines.next().unwrap_or("");
        let headers = lines.filter_map(|l| l.split_once(':')).map(|(n, v)| (n, v.trim_start())).collect();
        Self { start, headers, body }
    }
}

/// The `n`th line of `text` (`""` past the end).
pub fn line(text: &str, n: usize) -> &str {
    text.split('\n').nth(n).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_splits_into_start_headers_and_body() {
        let m = Message::read("429\nretry-after: 2\nbroken\n\n{\"a\":\n\n1}");
        assert_eq!(m.start, "429");
        assert_eq!(m.headers, vec![("retry-after", "2")]);
        assert_eq!(m.body, "{\"a\":\n\n1}");
    }
}
