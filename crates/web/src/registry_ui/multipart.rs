//! A small `multipart/form-data` reader (RFC 7578) for the evidence
//! upload form: the body is already in memory and size-capped by the
//! route's body limit, so parts borrow from it. Bounded: at most
//! `max_parts` parts and 8 KiB of headers per part; anything malformed is
//! a clear error, never a panic.

/// One part of the form.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Part<'a> {
    /// The field name.
    pub(crate) name: String,
    /// The file name, for file fields.
    pub(crate) filename: Option<String>,
    /// The part's `Content-Type`, if given.
    pub(crate) content_type: Option<String>,
    /// The bytes.
    pub(crate) data: &'a [u8],
}

const MAX_HEADER_BYTES: usize = 8 * 1024;

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The `boundary` parameter of a `multipart/form-data` content type.
fn boundary(content_type: &str) -> Result<String, String> {
    let mut parts = content_type.split(';');
    let kind = parts.next().unwrap_or("").trim();
    if !kind.eq_ignore_ascii_case("multipart/form-data") {
        return Err("content type: expected multipart/form-data".into());
    }
    for p in parts {
        if let Some((k, v)) = p.split_once('=') {
            if k.trim().eq_ignore_ascii_case("boundary") {
                let b = v.trim().trim_matches('"');
                if b.is_empty() || b.len() > 70 {
                    return Err("content type: boundary of 1 to 70 characters".into());
                }
                return Ok(b.to_owned());
            }
        }
    }
    Err("content type: no boundary".into())
}

/// A `Content-Disposition` parameter (`name="…"`), unquoted.
fn param(disposition: &str, key: &str) -> Option<String> {
    let mut rest = disposition;
    while let Some(i) = rest.find(';') {
        rest = &rest[i + 1..];
        let item = rest.trim_start();
        if let Some(v) = item.strip_prefix(key).and_then(|v| v.strip_prefix('=')) {
            let v = if let Some(q) = v.strip_prefix('"') {
                &q[..q.find('"')?]
            } else {
                v.split(';').next().unwrap_or("").trim()
            };
            return Some(v.to_owned());
        }
    }
    None
}

/// Splits `body` into its parts.
pub(crate) fn parse<'a>(
    content_type: &str,
    body: &'a [u8],
    max_parts: usize,
) -> Result<Vec<Part<'a>>, String> {
    let b = boundary(content_type)?;
    let delim = format!("--{b}");
    let next_delim = format!("\r\n--{b}");
    let start = find(body, delim.as_bytes()).ok_or("multipart: no opening boundary")?;
    let mut pos = start + delim.len();
    let mut out = Vec::new();
    loop {
        let rest = &body[pos..];
        if rest.starts_with(b"--") {
            return Ok(out);
        }
        let rest = rest
            .strip_prefix(b"\r\n")
            .ok_or("multipart: boundary not followed by a line break")?;
        if out.len() >= max_parts {
            return Err(format!("multipart: more than {max_parts} parts"));
        }
        let head_end = find(&rest[..rest.len().min(MAX_HEADER_BYTES + 4)], b"\r\n\r\n")
            .ok_or("multipart: part headers too long or not terminated")?;
        let head = std::str::from_utf8(&rest[..head_end])
            .map_err(|_| "multipart: part headers are not UTF-8")?;
        let mut name = None;
        let mut filename = None;
        let mut content_type = None;
        for line in head.split("\r\n") {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            if k.trim().eq_ignore_ascii_case("content-disposition") {
                name = param(v, "name");
                filename = param(v, "filename");
            } else if k.trim().eq_ignore_ascii_case("content-type") {
                content_type = Some(v.trim().to_owned());
            }
        }
        let name = name.ok_or("multipart: a part without a name")?;
        let data_start = head_end + 4;
        let data_len = find(&rest[data_start..], next_delim.as_bytes())
            .ok_or("multipart: part not closed by a boundary")?;
        out.push(Part {
            name,
            filename,
            content_type,
            data: &rest[data_start..data_start + data_len],
        });
        // Skip the data, the CRLF and the delimiter.
        let consumed = (rest.as_ptr() as usize - body.as_ptr() as usize)
            + data_start
            + data_len
            + next_delim.len();
        pos = consumed;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CT: &str = "multipart/form-data; boundary=XyZ";

    #[test]
    fn fields_and_a_file_are_read_with_their_exact_bytes() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nabc\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\nContent-Type: image/png\r\n\r\n\x00\r\n--X\xff\r\n--XyZ--\r\n";
        let parts = parse(CT, body, 8).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "csrf");
        assert_eq!(parts[0].data, b"abc");
        assert_eq!(parts[1].filename.as_deref(), Some("a.bin"));
        assert_eq!(parts[1].content_type.as_deref(), Some("image/png"));
        assert_eq!(parts[1].data, b"\x00\r\n--X\xff");
    }

    #[test]
    fn malformed_bodies_are_refused_with_a_reason() {
        let cases: &[(&str, &str, &[u8])] = &[
            ("wrong content type", "text/plain", b"--XyZ--"),
            ("no boundary parameter", "multipart/form-data", b"--XyZ--"),
            ("no opening boundary", CT, b"hello"),
            (
                "part never closed",
                CT,
                b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nabc",
            ),
            (
                "headers never end",
                CT,
                b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\nabc",
            ),
            (
                "part without a name",
                CT,
                b"--XyZ\r\nContent-Disposition: form-data\r\n\r\nabc\r\n--XyZ--",
            ),
            ("garbage after boundary", CT, b"--XyZjunk"),
        ];
        for (why, ct, body) in cases {
            assert!(parse(ct, body, 8).is_err(), "{why}");
        }
    }

    #[test]
    fn the_number_of_parts_is_bounded() {
        let mut body = Vec::new();
        for i in 0..5 {
            body.extend_from_slice(
                format!("--XyZ\r\nContent-Disposition: form-data; name=\"f{i}\"\r\n\r\nv\r\n")
                    .as_bytes(),
            );
        }
        body.extend_from_slice(b"--XyZ--\r\n");
        assert_eq!(parse(CT, &body, 5).unwrap().len(), 5);
        assert!(parse(CT, &body, 4).unwrap_err().contains("more than 4"));
    }
}
