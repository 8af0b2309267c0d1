//! Mapping of low-level errors to OONI df-007 failure strings.
//!
//! Measurements never carry Rust error messages: every failure is reduced to
//! one of the normalized strings of OONI's data format (df-007), so that the
//! analysis can compare probe and control results and so that error text
//! (which may contain addresses) never leaks into published data. Errors that
//! have no df-007 name become `unknown_failure: <short description>`.

use std::io;

/// `connection_refused`: the peer answered the SYN with a RST (ECONNREFUSED).
pub const CONNECTION_REFUSED: &str = "connection_refused";
/// `connection_reset`: an established connection was reset (ECONNRESET).
pub const CONNECTION_RESET: &str = "connection_reset";
/// `generic_timeout_error`: the operation did not complete within its timeout.
pub const GENERIC_TIMEOUT: &str = "generic_timeout_error";
/// `host_unreachable`: EHOSTUNREACH, usually an ICMP host-unreachable.
pub const HOST_UNREACHABLE: &str = "host_unreachable";
/// `network_unreachable`: ENETUNREACH, no route to the destination network.
pub const NETWORK_UNREACHABLE: &str = "network_unreachable";
/// `eof_error`: the peer closed the connection before the operation completed.
pub const EOF_ERROR: &str = "eof_error";
/// `connection_aborted`: ECONNABORTED.
pub const CONNECTION_ABORTED: &str = "connection_aborted";
/// `address_not_available`: the source address to bind is not configured here.
pub const ADDRESS_NOT_AVAILABLE: &str = "address_not_available";
/// `address_in_use`: EADDRINUSE when binding the source address.
pub const ADDRESS_IN_USE: &str = "address_in_use";
/// `dns_nxdomain_error`: the resolver said the name does not exist.
pub const DNS_NXDOMAIN: &str = "dns_nxdomain_error";
/// `dns_refused_error`: the resolver refused the query (rcode REFUSED).
pub const DNS_REFUSED: &str = "dns_refused_error";
/// `dns_servfail_error`: the resolver failed (rcode SERVFAIL).
pub const DNS_SERVFAIL: &str = "dns_servfail_error";
/// `dns_no_answer`: a successful reply with no record of the requested type.
pub const DNS_NO_ANSWER: &str = "dns_no_answer";
/// `dns_server_misbehaving`: any other error rcode, or a reply we cannot use.
pub const DNS_SERVER_MISBEHAVING: &str = "dns_server_misbehaving";
/// `dns_reply_with_wrong_query_id`: only replies whose ID or question did not
/// match our query arrived before the timeout.
pub const DNS_WRONG_QUERY_ID: &str = "dns_reply_with_wrong_query_id";
/// `dns_temporary_failure`: getaddrinfo's EAI_AGAIN.
pub const DNS_TEMPORARY_FAILURE: &str = "dns_temporary_failure";
/// `dns_non_recoverable_failure`: getaddrinfo's EAI_FAIL.
pub const DNS_NON_RECOVERABLE: &str = "dns_non_recoverable_failure";
/// `ssl_invalid_hostname`: the certificate is not valid for the SNI.
pub const SSL_INVALID_HOSTNAME: &str = "ssl_invalid_hostname";
/// `ssl_unknown_authority`: the chain does not lead to a trusted root.
pub const SSL_UNKNOWN_AUTHORITY: &str = "ssl_unknown_authority";
/// `ssl_invalid_certificate`: expired, not yet valid, malformed or otherwise invalid.
pub const SSL_INVALID_CERTIFICATE: &str = "ssl_invalid_certificate";
/// `ssl_failed_handshake`: the TLS handshake failed for a protocol reason.
pub const SSL_FAILED_HANDSHAKE: &str = "ssl_failed_handshake";

/// Builds an `unknown_failure: ...` string from a short description.
///
/// The description is kept short and free of line breaks; callers must pass
/// text that contains no addresses (or scrub it with [`crate::Scrubber`]).
pub fn unknown(what: &str) -> String {
    let mut text: String = what
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(160)
        .collect();
    text = text.trim().to_string();
    format!("unknown_failure: {text}")
}

/// Classifies an I/O error into a df-007 failure string.
///
/// Raw OS error numbers are checked first (they are the most precise), then the
/// portable [`io::ErrorKind`]. A TLS error wrapped inside the I/O error (as
/// `tokio-rustls` does) is classified with [`classify_tls_error`].
pub fn classify_io_error(err: &io::Error) -> String {
    if let Some(code) = err.raw_os_error() {
        if let Some(name) = classify_errno(code) {
            return name.to_string();
        }
    }
    if let Some(inner) = err.get_ref() {
        if let Some(tls) = inner.downcast_ref::<rustls::Error>() {
            return classify_tls_error(tls);
        }
    }
    match err.kind() {
        io::ErrorKind::ConnectionRefused => CONNECTION_REFUSED.into(),
        io::ErrorKind::ConnectionReset => CONNECTION_RESET.into(),
        io::ErrorKind::ConnectionAborted => CONNECTION_ABORTED.into(),
        io::ErrorKind::TimedOut => GENERIC_TIMEOUT.into(),
        io::ErrorKind::UnexpectedEof | io::ErrorKind::BrokenPipe => EOF_ERROR.into(),
        io::ErrorKind::HostUnreachable => HOST_UNREACHABLE.into(),
        io::ErrorKind::NetworkUnreachable => NETWORK_UNREACHABLE.into(),
        io::ErrorKind::AddrNotAvailable => ADDRESS_NOT_AVAILABLE.into(),
        io::ErrorKind::AddrInUse => ADDRESS_IN_USE.into(),
        kind => unknown(&kind.to_string()),
    }
}

/// Maps a Linux/BSD errno value to a df-007 string, when there is one.
fn classify_errno(code: i32) -> Option<&'static str> {
    // Values are those of Linux; the probe targets Linux first.
    match code {
        111 => Some(CONNECTION_REFUSED),   // ECONNREFUSED
        104 => Some(CONNECTION_RESET),     // ECONNRESET
        110 => Some(GENERIC_TIMEOUT),      // ETIMEDOUT
        113 => Some(HOST_UNREACHABLE),     // EHOSTUNREACH
        101 => Some(NETWORK_UNREACHABLE),  // ENETUNREACH
        103 => Some(CONNECTION_ABORTED),   // ECONNABORTED
        99 => Some(ADDRESS_NOT_AVAILABLE), // EADDRNOTAVAIL
        98 => Some(ADDRESS_IN_USE),        // EADDRINUSE
        32 => Some(EOF_ERROR),             // EPIPE
        _ => None,
    }
}

/// Classifies a rustls error into a df-007 failure string.
///
/// Certificate problems keep their precise names (unknown authority, wrong
/// host name, invalid certificate); everything else that goes wrong in the
/// handshake is `ssl_failed_handshake`.
pub fn classify_tls_error(err: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    match err {
        rustls::Error::InvalidCertificate(cert) => match cert {
            C::UnknownIssuer => SSL_UNKNOWN_AUTHORITY.into(),
            C::NotValidForName | C::NotValidForNameContext { .. } => SSL_INVALID_HOSTNAME.into(),
            _ => SSL_INVALID_CERTIFICATE.into(),
        },
        _ => SSL_FAILED_HANDSHAKE.into(),
    }
}

/// Classifies a DNS response code (rcode) that is not NOERROR.
pub fn classify_rcode(rcode: u16) -> String {
    match rcode {
        2 => DNS_SERVFAIL.into(),
        3 => DNS_NXDOMAIN.into(),
        5 => DNS_REFUSED.into(),
        _ => DNS_SERVER_MISBEHAVING.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_errors_map_to_df007_names() {
        let cases = [
            (111, CONNECTION_REFUSED),
            (104, CONNECTION_RESET),
            (110, GENERIC_TIMEOUT),
            (113, HOST_UNREACHABLE),
            (101, NETWORK_UNREACHABLE),
            (99, ADDRESS_NOT_AVAILABLE),
        ];
        for (errno, want) in cases {
            let err = io::Error::from_raw_os_error(errno);
            assert_eq!(classify_io_error(&err), want, "errno {errno}");
        }
    }

    #[test]
    fn error_kinds_map_to_df007_names() {
        let cases = [
            (io::ErrorKind::ConnectionRefused, CONNECTION_REFUSED),
            (io::ErrorKind::ConnectionReset, CONNECTION_RESET),
            (io::ErrorKind::TimedOut, GENERIC_TIMEOUT),
            (io::ErrorKind::UnexpectedEof, EOF_ERROR),
        ];
        for (kind, want) in cases {
            assert_eq!(classify_io_error(&io::Error::from(kind)), want, "{kind:?}");
        }
    }

    #[test]
    fn tls_errors_inside_io_errors_are_unwrapped() {
        let cases = [
            (
                rustls::CertificateError::UnknownIssuer,
                SSL_UNKNOWN_AUTHORITY,
            ),
            (
                rustls::CertificateError::NotValidForName,
                SSL_INVALID_HOSTNAME,
            ),
            (rustls::CertificateError::Expired, SSL_INVALID_CERTIFICATE),
            (
                rustls::CertificateError::BadEncoding,
                SSL_INVALID_CERTIFICATE,
            ),
        ];
        for (cert_err, want) in cases {
            let tls = rustls::Error::InvalidCertificate(cert_err);
            let io_err = io::Error::new(io::ErrorKind::InvalidData, tls);
            assert_eq!(classify_io_error(&io_err), want);
        }
        let junk = rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType);
        assert_eq!(classify_tls_error(&junk), SSL_FAILED_HANDSHAKE);
    }

    #[test]
    fn rcodes_map_to_dns_failures() {
        let cases = [
            (2, DNS_SERVFAIL),
            (3, DNS_NXDOMAIN),
            (5, DNS_REFUSED),
            (4, DNS_SERVER_MISBEHAVING),
        ];
        for (rcode, want) in cases {
            assert_eq!(classify_rcode(rcode), want, "rcode {rcode}");
        }
    }

    #[test]
    fn unknown_failures_are_single_line_and_short() {
        let text = unknown(&format!("line one\nline two {}", "x".repeat(500)));
        assert!(text.starts_with("unknown_failure: line one line two"));
        assert!(!text.contains('\n'));
        assert!(text.len() < 200);
    }
}
